"""Collaborators (协作人, SPEC §3): people who work on an owned customer with Read or Read/Write
access while its owner stays the one owner (明确唯一). The owner or a manager adds and removes them;
each change is a COLLABORATE Pool Log entry."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import get_fullname, now_datetime

from crm_pool.core.errors import PoolRuleError
from crm_pool.core.log import log_change
from crm_pool.core.roles import can_manage
from crm_pool.core.status import COLLABORATE, HAS_OWNER, READ, READ_WRITE
from crm_pool.pool.locking import check_user, lock_pool_customer


def add_collaborator(
	pool_customer: str, user: str, access: str = READ, reason: str | None = None
) -> frappe._dict:
	"""Add `user` as a collaborator of an owned customer with Read or Read/Write access (or change
	the access of a collaborator). The owner stays the one owner (明确唯一). The owner or a manager
	may do it; logged as COLLABORATE."""
	if access not in (READ, READ_WRITE):
		frappe.throw(_("Access must be Read or Read/Write"), PoolRuleError)
	check_user(user)
	pc = lock_pool_customer(pool_customer)
	check_may_share(pc)
	if user == pc.owned_by:
		frappe.throw(_("{0} already owns {1}").format(get_fullname(user), pc.customer_name), PoolRuleError)
	current = frappe.db.get_value(
		"Pool Customer Collaborator",
		{"parenttype": "Pool Customer", "parent": pc.name, "user": user},
		["name", "access"],
		as_dict=True,
	)
	if current and current.access == access:
		frappe.throw(
			_("{0} already collaborates on {1} with {2} access").format(
				get_fullname(user), pc.customer_name, _(access)
			),
			PoolRuleError,
		)
	if current:
		frappe.db.set_value("Pool Customer Collaborator", current.name, "access", access)
	else:
		frappe.get_doc(
			{
				"doctype": "Pool Customer Collaborator",
				"parenttype": "Pool Customer",
				"parentfield": "collaborators",
				"parent": pc.name,
				"idx": (
					frappe.db.sql(  # the next row number, read under the customer's lock
						"""SELECT COALESCE(MAX(idx), 0) FROM `tabPool Customer Collaborator`
						WHERE parenttype = 'Pool Customer' AND parent = %s""",
						pc.name,
					)[0][0]
					+ 1
				),
				"user": user,
				"access": access,
			}
		).db_insert()
	log_collaboration(
		pc,
		f"+{user}:{access}",
		reason or _("{0} collaborates with {1} access").format(get_fullname(user), _(access)),
	)
	return pc


def remove_collaborator(pool_customer: str, user: str, reason: str | None = None) -> frappe._dict:
	"""Take a collaborator off a customer (the owner or a manager); logged as COLLABORATE."""
	pc = lock_pool_customer(pool_customer)
	check_may_share(pc)
	frappe.db.sql(
		"""DELETE FROM `tabPool Customer Collaborator`
		WHERE parenttype = 'Pool Customer' AND parent = %s AND user = %s""",
		(pc.name, user),
	)
	if not frappe.db.sql("SELECT ROW_COUNT()")[0][0]:
		frappe.throw(_("{0} is not a collaborator of {1}").format(user, pc.customer_name), PoolRuleError)
	log_collaboration(pc, f"-{user}", reason or _("{0} no longer collaborates").format(get_fullname(user)))
	return pc


def log_collaboration(pc: frappe._dict, rule: str, reason: str) -> None:
	"""A change of collaborators: the customer's modified stamp and a COLLABORATE log entry."""
	frappe.db.set_value("Pool Customer", pc.name, "modified", now_datetime(), update_modified=False)
	log_change(pc, COLLABORATE, from_user=pc.owned_by, to_user=pc.owned_by, rule=rule, reason=reason)


def check_may_share(pc: frappe._dict) -> None:
	"""Collaborators are added to an owned customer, by its owner or a manager."""
	if pc.status not in HAS_OWNER or not pc.owned_by:
		frappe.throw(
			_("{0} ({1}) has no owner: collaborators work with an owner").format(pc.customer_name, pc.name),
			PoolRuleError,
		)
	if pc.owned_by != frappe.session.user and not can_manage(pc.pool):
		frappe.throw(
			_("Only the owner or a manager may change the collaborators of {0}").format(pc.customer_name),
			frappe.PermissionError,
		)
