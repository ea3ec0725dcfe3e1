"""Events a lower layer raises for the capabilities above it, without importing them: each event is
a hook list in hooks.py, read with `frappe.get_hooks`, whose functions are called in order."""

import frappe


def owners_changed(where_sql: str | None = None, values: dict | None = None) -> None:
	"""Owners (or the party) of pool customers changed in this transaction: claim, assignment,
	release, recycling, transfer, or a Lead converted into a Customer. Calls every function listed
	in the `crm_pool_owners_changed` hook (sharing: shares follow their customer) with the change's
	scope: the pool customers `pc` matching `where_sql` (trusted SQL; input in `values`), or with
	none, any."""
	for path in frappe.get_hooks("crm_pool_owners_changed"):
		frappe.get_attr(path)(where_sql, values)
