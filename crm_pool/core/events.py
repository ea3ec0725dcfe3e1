"""Events a lower layer raises for the capabilities above it, without importing them: each event is
a hook list in hooks.py, read with `frappe.get_hooks`, whose functions are called in order."""

import frappe


def owners_changed(
	where_sql: str | None = None, values: dict | None = None, known: frappe._dict | None = None
) -> None:
	"""Owners (or the party) of pool customers changed in this transaction: claim, assignment,
	release, recycling, transfer, or a Lead converted into a Customer. Calls every function listed
	in the `crm_pool_owners_changed` hook (sharing: shares follow their customer) with the change's
	scope: the pool customers `pc` matching `where_sql` (trusted SQL; input in `values`), or with
	none, any; and `known`: for a claim at READ COMMITTED, what its read under the locks found,
	with the columns of `claim_reads` (None: nothing known, each function reads for itself)."""
	for path in frappe.get_hooks("crm_pool_owners_changed"):
		frappe.get_attr(path)(where_sql, values, known)


def claim_reads() -> str:
	"""The columns the capabilities above add to a claim's read under its customer's lock
	(`pool.locking.lock_claimed`), so that what they do on `owners_changed` can be left out when there
	is nothing to do, without a statement of their own: `, (SQL) AS alias` for each entry of the
	`crm_pool_claim_reads` hook (alias: a function returning trusted SQL over the claimed pool
	customer `pc`, e.g. sharing's open shares of it). Empty when no capability adds one."""
	reads = frappe.get_hooks("crm_pool_claim_reads") or {}
	return "".join(f", ({frappe.get_attr(paths[-1])()}) AS `{alias}`" for alias, paths in reads.items())
