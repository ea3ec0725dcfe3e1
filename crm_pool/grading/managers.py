"""Exclusive managers (专属经理, seed 003 §4): one per customer where the grade's policy requires it.

The exclusive manager defaults to the owner when a customer of such a grade (A by default) has none
(on save, and set-based by the daily planner for grades written in bulk); a manager assigns another
(`assign`, logged in the Pool Log). The exclusive manager reads and changes the customer like a
Read/Write collaborator (crm_pool.access.permissions). It ends with ownership: back to the pool it is
cleared, and an exclusive manager who was the owner follows the new owner
(crm_pool.pool.ownership.write_owners).
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.translate import get_user_lang

from crm_pool.core import notify
from crm_pool.core.log import insert_logs_select, log_change
from crm_pool.core.roles import is_salesperson
from crm_pool.core.status import EXCLUSIVE_MANAGER, HAS_OWNER
from crm_pool.grading.service import POLICY, policy

_OWNED = ", ".join(f"'{s}'" for s in HAS_OWNER)
# Owned customers whose grade requires an exclusive manager and that have none, as SQL on `pc`.
MISSING_SQL = f"""pc.status IN ({_OWNED}) AND pc.owned_by IS NOT NULL AND pc.exclusive_manager IS NULL
	AND pc.grade IN (SELECT r.grade FROM `tabGrade Service Policy Row` r
		WHERE r.parent = '{POLICY}' AND r.parenttype = '{POLICY}' AND r.exclusive_manager_required = 1)"""


def required_grades() -> set[str]:
	return {grade for grade, row in policy().items() if row.exclusive_manager_required}


def on_pool_customer_validate(doc, method=None) -> None:
	"""Pool Customer validate: a customer of a grade that requires an exclusive manager, owned and
	without one, gets its owner (logged)."""
	if doc.owned_by and not doc.exclusive_manager and doc.grade in required_grades():
		doc.exclusive_manager = doc.owned_by
		if not doc.is_new():
			log_change(doc.name, EXCLUSIVE_MANAGER, to_user=doc.owned_by, reason=_("Default: the owner"))


def default_exclusive_managers() -> int:
	"""Every owned customer whose grade requires an exclusive manager and that has none gets its
	owner, set-based (the Pool Log first). Returns how many."""
	values = {"reason": _("Default: the owner")}
	count = insert_logs_select(
		EXCLUSIVE_MANAGER,
		MISSING_SQL,
		values,
		from_user_sql="NULL",
		to_user_sql="pc.owned_by",
		reason_sql="%(reason)s",
	)
	if count:
		frappe.db.sql(  # set-based: all grades at once
			f"UPDATE `tabPool Customer` pc SET pc.exclusive_manager = pc.owned_by WHERE {MISSING_SQL}", values
		)
	return count


def missing() -> list[str]:
	"""Owned customers whose grade requires an exclusive manager and that have none (also the
	workspace's number card "A Customers Without Exclusive Manager")."""
	return frappe.db.sql_list(
		f"SELECT pc.name FROM `tabPool Customer` pc WHERE {MISSING_SQL} ORDER BY pc.name"
	)


def assign(pool_customer: str, user: str, reason: str | None = None) -> frappe._dict:
	"""A manager makes `user` (a salesperson) the exclusive manager of `pool_customer`, which must be
	owned; logged, and the new exclusive manager is told."""
	pc = frappe.db.get_value(  # locking read: one change at a time per customer
		"Pool Customer",
		pool_customer,
		["name", "pool", "customer_name", "status", "owned_by", "exclusive_manager"],
		as_dict=True,
		for_update=True,
	)
	if pc.status not in HAS_OWNER or not pc.owned_by:
		frappe.throw(_("Only a customer with an owner gets an exclusive manager"), frappe.ValidationError)
	if not is_salesperson(user):
		frappe.throw(
			_("{0} does not sell: choose a sales user or manager").format(user), frappe.ValidationError
		)
	if pc.exclusive_manager == user:
		return pc
	log_change(pc, EXCLUSIVE_MANAGER, from_user=pc.exclusive_manager, to_user=user, reason=reason)
	frappe.db.set_value("Pool Customer", pc.name, "exclusive_manager", user)
	lang = get_user_lang(user)
	notify.notify(
		user,
		_("You are the exclusive manager of {0}", lang).format(pc.customer_name),
		_("{0} made you the exclusive manager (专属经理) of {1}.", lang).format(
			frappe.session.user, pc.customer_name
		),
		document_type="Pool Customer",
		document_name=pc.name,
	)
	pc.exclusive_manager = user
	return pc


def service_manager(pool_customer: str) -> str | None:
	"""Who serves a customer: its exclusive manager, else its owner."""
	row = frappe.db.get_value("Pool Customer", pool_customer, ["exclusive_manager", "owned_by"], as_dict=True)
	return (row.exclusive_manager or row.owned_by) if row else None
