"""Install-time set-up that fixtures cannot express."""

import frappe

from crm_pool.core.roles import POOL_MANAGER

DEFAULT_POOL = "默认公海"


def after_install() -> None:
	"""Create the app's role (fixtures are synced only after this hook) and give it to Administrator;
	create the default pool and adopt the existing Leads and Customers into it; turn off tracebacks
	in error responses."""
	if not frappe.db.exists("Role", POOL_MANAGER):
		frappe.get_doc({"doctype": "Role", "role_name": POOL_MANAGER, "desk_access": 1}).insert(
			ignore_permissions=True
		)
	frappe.get_doc("User", "Administrator").add_roles(POOL_MANAGER)
	make_default_pool()
	from frappe.utils.fixtures import sync_fixtures

	from crm_pool.grading.service import prepare_support
	from crm_pool.pool.adopt import adopt_existing

	prepare_support()  # before the grade agreements (fixtures) are imported
	sync_fixtures("crm_pool")  # the Custom Fields adoption fills (fixtures come after this hook)
	adopt_existing()  # Leads and Customers that were there before the app
	from crm_pool.access.contacts import allow_managers_to_read_access_log

	allow_managers_to_read_access_log()

	from crm_pool.setup.errors import disable_error_traceback

	disable_error_traceback()  # users get translated messages, not the server's traceback
	setup_service()


def after_setup_wizard(args: dict | None = None) -> None:
	"""The app installed before ERPNext's setup wizard: what needs the wizard's company and trees (the
	business lines under the Item Group root, their rules, the grade policy) is set up now, not only
	at the next migrate."""
	setup_service()


def setup_service() -> None:
	"""Grading's service (after install and every migrate): the Issue fields and sales access to
	Issues, the default Grade Service Policy and its Service Level Agreements' times."""
	from crm_pool.grading.complaints import setup_issues
	from crm_pool.grading.service import ensure_policy

	setup_issues()
	ensure_policy()

	from crm_pool.grading.rules import ensure_default_rule

	ensure_default_rule()  # grading (客户分级): the default Customer Grade Rule

	from crm_pool.sharing.rules import ensure_business_lines, ensure_seed_rules

	ensure_business_lines()  # sharing: the Item Groups of the seed's referral reward rules ...
	ensure_seed_rules()  # ... and the rules, when missing (a manager's changes are kept)


def make_default_pool() -> str | None:
	"""Create the enabled default pool 默认公海 (new customers reviewed) unless a default pool or a
	pool of that name exists. Idempotent; returns the name of the pool created, else None."""
	if frappe.db.exists("Customer Pool", {"is_default": 1}) or frappe.db.exists(
		"Customer Pool", DEFAULT_POOL
	):
		return None
	pool = frappe.get_doc(
		{
			"doctype": "Customer Pool",
			"pool_name": DEFAULT_POOL,
			"enabled": 1,
			"is_default": 1,
			"require_review": 1,
			"description": "新客户未匹配到区域公海时进入此公海。",
		}
	)
	pool.insert(ignore_permissions=True)
	return pool.name
