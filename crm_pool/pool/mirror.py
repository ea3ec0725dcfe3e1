"""Ownership mirrored into ERPNext, so every existing screen tells the truth (SPEC §1):
Lead.lead_owner, Customer.account_manager, and a Frappe assignment (ToDo + `_assign`) on the party.
"""

from __future__ import annotations

import json

import frappe
from frappe.desk.form import assign_to

OWNER_FIELD = {"Lead": "lead_owner", "Customer": "account_manager"}
ASSIGNMENT_NOTE = "负责人 (crm_pool)"


def party_rows(pc) -> list[tuple[str, str]]:
	"""(doctype, name) of the ERPNext records a pool customer stands for: its lead and its customer."""
	rows = []
	if pc.get("lead"):
		rows.append(("Lead", pc.lead))
	if pc.get("customer"):
		rows.append(("Customer", pc.customer))
	if pc.get("party_type") in OWNER_FIELD and (pc.party_type, pc.party) not in rows:
		rows.append((pc.party_type, pc.party))
	return rows


def mirror_owner(pc, previous_owner: str | None) -> None:
	"""Write pc.owned_by to the party's owner field and move the Frappe assignment to it."""
	for doctype, name in party_rows(pc):
		frappe.db.set_value(doctype, name, OWNER_FIELD[doctype], pc.owned_by or None, update_modified=False)
	if not pc.get("party_type") or not pc.get("party"):
		return
	if previous_owner and previous_owner != pc.owned_by:
		assign_to.remove(pc.party_type, pc.party, previous_owner, ignore_permissions=True)
	if pc.owned_by and pc.owned_by != previous_owner:
		if not frappe.db.exists(
			"ToDo",
			{
				"reference_type": pc.party_type,
				"reference_name": pc.party,
				"allocated_to": pc.owned_by,
				"status": "Open",
			},
		):
			assign_to.add(
				{
					"assign_to": [pc.owned_by],
					"doctype": pc.party_type,
					"name": pc.party,
					"description": ASSIGNMENT_NOTE,
				},
				ignore_permissions=True,
			)


def clear_owners_select(where_sql: str, values: dict) -> None:
	"""Set-based: for every Pool Customer `pc` matching `where_sql` (before its owner is cleared), empty
	the party's owner field, cancel the owner's open assignment and drop it from `_assign`.

	Each party table is updated in one pass (owner field and `_assign` together): at a million
	customers the cost is reading the party rows, so they are read once."""
	frappe.db.sql(
		f"""
		UPDATE `tabToDo` todo JOIN `tabPool Customer` pc
			ON todo.reference_type = pc.party_type AND todo.reference_name = pc.party
			AND todo.allocated_to = pc.owned_by
		SET todo.status = 'Cancelled'
		WHERE todo.status = 'Open' AND {where_sql}
		""",
		values,
	)
	for doctype, link in (("Lead", "lead"), ("Customer", "customer")):
		frappe.db.sql(
			f"""
			UPDATE `tab{doctype}` party JOIN `tabPool Customer` pc ON pc.{link} = party.name
			SET party.{OWNER_FIELD[doctype]} = NULL,
				party._assign = IF(pc.party_type = %(_dt)s AND pc.party = party.name, NULL, party._assign)
			WHERE {where_sql}
			""",
			dict(values, _dt=doctype),
		)


def assigned_users(doctype: str, name: str) -> list[str]:
	return json.loads(frappe.db.get_value(doctype, name, "_assign") or "[]")
