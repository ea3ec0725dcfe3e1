"""Leaving staff (离职): a User disabled, or an Employee set to Left, gets a Draft transfer of everything
they own, back to the pool unless a manager picks a receiver, assigned to the managers, so no
customer is left ownerless silently."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.desk.form import assign_to
from frappe.model.document import Document
from frappe.utils import get_fullname

from crm_pool.core.roles import POOL_MANAGER, SALES_MANAGER, users_with_role
from crm_pool.transfer.transfers import DOCTYPE, DRAFT, LEAVING, OPEN_STATES, owned_by


def on_user_update(doc: Document, method: str | None = None) -> None:
	"""User on_update: a user just disabled gets a draft transfer of everything they own."""
	before = doc.get_doc_before_save()
	if before and before.enabled and not doc.enabled:
		make_leaving_draft(doc.name, _("User {0} was disabled").format(doc.name))


def on_employee_update(doc: Document, method: str | None = None) -> None:
	"""Employee on_update: an employee set to Left gets a draft transfer of everything their user
	owns."""
	before = doc.get_doc_before_save()
	if doc.status == "Left" and doc.get("user_id") and (not before or before.status != "Left"):
		make_leaving_draft(
			doc.user_id, _("Employee {0} ({1}) left").format(doc.get("employee_name") or doc.name, doc.name)
		)


def make_leaving_draft(user: str, reason: str) -> str | None:
	"""A Draft Ownership Transfer (trigger Leaving) of all the customers `user` owns, back to the pool
	unless a manager picks a receiver, assigned to the managers. Nothing when they own nothing, or
	when an open transfer of all their customers exists already (idempotent). Returns its name."""
	if not owned_by(user):
		return None
	existing = frappe.db.get_value(
		DOCTYPE,
		{"from_owner": user, "all_customers": 1, "status": ("in", OPEN_STATES), "docstatus": 0},
	)
	if existing:
		return None
	doc = frappe.get_doc(
		{
			"doctype": DOCTYPE,
			"from_owner": user,
			"to_pool": 1,
			"all_customers": 1,
			"trigger": LEAVING,
			"reason": reason,
			"status": DRAFT,
		}
	)
	doc.flags.ignore_permissions = True
	doc.flags.system_draft = True
	doc.insert()
	# Made by the system, not by whoever disabled the user: any manager may approve it.
	frappe.db.set_value(
		DOCTYPE, doc.name, {"owner": "Administrator", "requested_by": None}, update_modified=False
	)
	managers = [m for m in users_with_role(POOL_MANAGER, SALES_MANAGER) if m != user] or ["Administrator"]
	assign_to.add(
		{
			"assign_to": managers,
			"doctype": DOCTYPE,
			"name": doc.name,
			"description": _("{0} is leaving: decide who takes over their {1} customers").format(
				get_fullname(user), doc.customer_count
			),
		},
		ignore_permissions=True,
	)
	return doc.name
