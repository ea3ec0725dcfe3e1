"""Script and Query Reports show only the customers the user may read (SPEC §7, issue 8).

Frappe v15 runs a report's own query and then filters its rows by User Permissions only
(`frappe.desk.query_report.get_filtered_data`); `permission_query_conditions` and `has_permission`
are not applied. Several of ERPNext's reports read the tables directly: "Lead Details" lists every
Lead with its email and mobile to any Sales User, "Prospects Engaged But Not Converted" every Lead
with its last communication. Here, for a user whose access is narrowed by crm_pool (the own and team
scopes of `crm_pool.pool.permissions`), a row is dropped when one of its Link columns names a Lead,
Customer, Prospect, Contact, Address, Opportunity or Quotation that the user may not read: the same
record-level rules as lists and forms (checked with `frappe.get_list`, one query per doctype).

Every path of a report's rows goes through `get_filtered_data`: the report page (`run`), its export
(`export_query`), prepared reports built in a background job. Frappe has no hook there, so
`install` wraps it once per process, from the `before_request` and `before_job` hooks (hooks.py),
and when this module is imported.
"""

from __future__ import annotations

from functools import wraps

import frappe
import frappe.desk.query_report as query_report

from crm_pool.access.permissions import OWN, TEAM, scope

# The doctypes holding a customer's contact data (or naming one's party): rows linking to one the
# user may not read are dropped.
GUARDED_DOCTYPES = ("Lead", "Customer", "Prospect", "Contact", "Address", "Opportunity", "Quotation")


def _link_columns(ref_doctype: str | None, columns: list) -> list[tuple[str, int, str]]:
	"""(fieldname, index, doctype) of the columns linking to a guarded doctype."""
	links = []
	for i, column in enumerate(query_report.get_columns_dict(columns).values()):
		doctype = column.get("options") if column.get("fieldtype") == "Link" else None
		if not doctype and column.get("fieldname") == "name" and ref_doctype in GUARDED_DOCTYPES:
			doctype = ref_doctype
		if doctype in GUARDED_DOCTYPES:
			links.append((column.get("fieldname"), i, doctype))
	return links


def _cell(row, fieldname: str, index: int):
	if isinstance(row, dict):
		return row.get(fieldname)
	if isinstance(row, list | tuple) and index < len(row):
		return row[index]
	return None


def readable_names(doctype: str, names: set[str], user: str) -> set[str]:
	"""Those of `names` that `user` may read (role permissions and crm_pool's record-level rules)."""
	if not names:
		return set()
	try:
		return set(
			frappe.get_list(doctype, filters={"name": ("in", list(names))}, pluck="name", user=user, limit=0)
		)
	except frappe.PermissionError:
		return set()


def drop_unreadable_rows(ref_doctype: str | None, columns: list, rows: list, user: str) -> list:
	"""The rows of a report whose linked customers, contacts and documents `user` may all read."""
	links = [link for link in _link_columns(ref_doctype, columns) if scope(user, link[2]) in (OWN, TEAM)]
	if not links or not rows:
		return rows
	wanted: dict[str, set[str]] = {}
	for row in rows:
		for fieldname, index, doctype in links:
			value = _cell(row, fieldname, index)
			if value and isinstance(value, str):
				wanted.setdefault(doctype, set()).add(value)
	readable = {doctype: readable_names(doctype, names, user) for doctype, names in wanted.items()}
	kept = []
	for row in rows:
		values = ((_cell(row, f, i), doctype) for f, i, doctype in links)
		if all(
			not value or not isinstance(value, str) or value in readable[doctype] for value, doctype in values
		):
			kept.append(row)
	return kept


def install() -> None:
	"""Wrap Frappe's report row filter (once per process)."""
	original = query_report.get_filtered_data
	if getattr(original, "_crm_pool", False):
		return

	@wraps(original)
	def get_filtered_data(ref_doctype, columns, data, user):
		rows = original(ref_doctype, columns, data, user)
		return drop_unreadable_rows(ref_doctype, columns, rows, user or frappe.session.user)

	get_filtered_data._crm_pool = True
	query_report.get_filtered_data = get_filtered_data


install()
