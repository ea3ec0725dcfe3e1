"""What a report of the insight package may count: the pool customers the user may see, as SQL on
an alias of `tabPool Customer` (the set-based reports alias the table; the access module states its
conditions on the full table name).

A sales user sees their own customers (owned, collaborated on, exclusively managed) and the in-pool
customers of their pools, as on the pool board (`crm_pool.access.permissions.pool_customer_condition`);
a Sales Manager the customers of their pools and their own; System and Pool Managers every customer.
"""

from __future__ import annotations

import frappe

from crm_pool.access.permissions import pool_customer_condition

TABLE = "`tabPool Customer`."


def visible_customers_sql(user: str | None = None, alias: str = "pc") -> str:
	"""`pool_customer_condition(user)` on `alias` instead of the full table name; "" when the user
	sees every customer."""
	condition = pool_customer_condition(user or frappe.session.user)
	return condition.replace(TABLE, f"{alias}.") if condition else ""


def and_visible(user: str | None = None, alias: str = "pc") -> str:
	""" " AND <condition>" for a WHERE clause, or "" when the user sees every customer."""
	condition = visible_customers_sql(user, alias)
	return f" AND {condition}" if condition else ""


def user_names(users) -> dict[str, str]:
	"""Full names of these users, in one query."""
	users = sorted({u for u in users if u})
	if not users:
		return {}
	return dict(
		frappe.get_all("User", filters={"name": ("in", users)}, fields=["name", "full_name"], as_list=True)
	)
