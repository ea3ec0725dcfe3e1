"""What a number card or chart of the workspace counts for its viewer (SPEC §6, §7).

Every count applies the viewer's record-level access (`crm_pool.access.permissions`): a manager
counts the pools they manage (System Manager, Pool Manager: all; Sales Manager: their pools), a
salesperson only what they may read, and of the Pool Log only the entries about themselves (the
customers they received or lost), never a colleague's claims of customers back in their pool.

The reports count the pool customers the user may see, as on the pool board: a sales user their own
customers (owned, collaborated on, exclusively managed) and the in-pool customers of their pools, a
Sales Manager the customers of their pools and their own, System and Pool Managers every customer;
as SQL on an alias of `tabPool Customer` (`visible_customers_sql`, `and_visible`: the set-based
reports alias the table, the access module states its conditions on the full table name).
"""

from __future__ import annotations

import frappe
from frappe import _

from crm_pool.access.permissions import (
	OWN,
	pool_customer_condition,
	pool_customer_parts,
	pool_log_query,
	scope,
)

POOL_LOG, POOL_CUSTOMER = "Pool Log", "Pool Customer"
TABLE = "`tabPool Customer`."


def check_read(doctype: str) -> None:
	"""Refuse a viewer who may not read `doctype` at all (role permissions)."""
	if not frappe.has_permission(doctype, "read"):
		frappe.throw(_("You are not permitted to read {0}").format(_(doctype)), frappe.PermissionError)


def log_condition(user: str) -> str:
	"""The Pool Log entries `user` counts, as SQL on `tabPool Log` ("1=1": all of them)."""
	conditions = [pool_log_query(user)]
	if scope(user, POOL_CUSTOMER) == OWN:
		u = frappe.db.escape(user)
		conditions.append(f"(`tabPool Log`.to_user = {u} OR `tabPool Log`.from_user = {u})")
	return " AND ".join(f"({c})" for c in conditions if c) or "1=1"


def customer_condition(user: str) -> str:
	"""The Pool Customers `user` counts, as SQL on `tabPool Customer` ("1=1": all of them)."""
	return pool_customer_condition(user) or "1=1"


def pool_filter(filters, table: str) -> tuple[str, dict]:
	"""The optional `pool` filter of a card or chart, as SQL on `table` and its values."""
	filters = frappe.parse_json(filters) or {}
	pool = filters.get("pool") if isinstance(filters, dict) else None
	if not pool:
		return "", {}
	return f" AND `tab{table}`.pool = %(pool)s", {"pool": pool}


def visible_customers_sql(user: str | None = None, alias: str = "pc") -> str:
	"""`pool_customer_condition(user)` on `alias` instead of the full table name; "" when the user
	sees every customer."""
	condition = pool_customer_condition(user or frappe.session.user)
	return condition.replace(TABLE, f"{alias}.") if condition else ""


def and_visible(user: str | None = None, alias: str = "pc") -> str:
	""" " AND <condition>" for a WHERE clause, or "" when the user sees every customer."""
	condition = visible_customers_sql(user, alias)
	return f" AND {condition}" if condition else ""


def union_of_visible(
	query: str, user: str | None = None, index: str | None = None, alias: str = "pc", in_pool: bool = True
) -> str:
	"""`query` (SQL on `alias` with `{visible}` where the viewer's condition goes, as " AND …", and
	`{index}` after the table) for every customer, or, for a restricted viewer, once per disjoint part
	of what they see (`pool_customer_parts`) joined by UNION ALL: an aggregate over it adds the
	parts' rows, each part read on an index range of its own where one OR would read every customer.
	`index` is forced where the query reads all customers or a part reads whole pools (the insight
	index, which MariaDB leaves for the `pool` index); the other parts leave the index to MariaDB
	(owned_by, exclusive_manager, the collaborators' parent). Without `in_pool`: a sales user's own
	customers only (`pool_customer_parts`)."""
	user = user or frappe.session.user
	parts = pool_customer_parts(user, in_pool=in_pool)
	forced = f"FORCE INDEX ({index})" if index else ""
	if parts is None:
		return query.replace("{index}", forced).replace("{visible}", "")
	return "\nUNION ALL\n".join(
		query.replace("{index}", forced if name == "pools" else "").replace(
			"{visible}", " AND " + part.replace(TABLE, f"{alias}.")
		)
		for name, part in parts.items()
	)


def user_names(users) -> dict[str, str]:
	"""Full names of these users, in one query."""
	users = sorted({u for u in users if u})
	if not users:
		return {}
	return dict(
		frappe.get_all("User", filters={"name": ("in", users)}, fields=["name", "full_name"], as_list=True)
	)
