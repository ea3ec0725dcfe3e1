"""Ownership History (归属历史, SPEC §6): the Pool Log of one customer or of one user.

Filters: pool_customer (the customer's whole history), user (the entries where the user is the
previous owner, the new owner or the one who acted), from_date / to_date (the day of `at`, both
included), and optionally pool and action. Without a customer and a user it is the viewer's own
history; without a customer and dates, the last month's. The newest `LIMIT` entries are shown,
newest first (a message says so when there are more).

Privacy: an entry shows only when the viewer may read its Pool Customer, the same rule as the Pool
Log list (`crm_pool.access.permissions.pool_log_query`, applied as a join on the customer): a sales
user sees the history of the customers they own or collaborate on and of the in-pool customers of
their pools; a Sales Manager that of their pools' customers; System and Pool Managers everything.

Reads: a user's entries are a UNION of three selects, each on its own (user, at) index
(`add_indexes`), so a month of one user's history stays fast on millions of entries; a customer's
come through the (pool_customer, …) index.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import frappe
from frappe import _
from frappe.utils import add_months, getdate, nowdate

from crm_pool.access.permissions import pool_customer_condition
from crm_pool.pool.recycle import rule_label

LIMIT = 2000
USER_INDEXES = {
	"from_user": "insight_from_user_at",
	"to_user": "insight_to_user_at",
	"by_user": "insight_by_user_at",
}
FIELDS = "l.name, l.at, l.action, l.pool_customer, l.customer_name, l.from_user, l.to_user, l.by_user, l.pool, l.rule, l.reason"


def columns() -> list[dict]:
	def user(fieldname: str, label: str) -> dict:
		return {"fieldname": fieldname, "label": label, "fieldtype": "Link", "options": "User", "width": 160}

	return [
		{"fieldname": "at", "label": _("Done At"), "fieldtype": "Datetime", "width": 160},
		{"fieldname": "action", "label": _("Action"), "fieldtype": "Data", "width": 100},
		{
			"fieldname": "pool_customer",
			"label": _("Pool Customer"),
			"fieldtype": "Link",
			"options": "Pool Customer",
			"width": 120,
		},
		{"fieldname": "customer_name", "label": _("Customer Name"), "fieldtype": "Data", "width": 200},
		user("from_user", _("From Owner")),
		user("to_user", _("To Owner")),
		user("by_user", _("Done By")),
		{
			"fieldname": "pool",
			"label": _("Pool"),
			"fieldtype": "Link",
			"options": "Customer Pool",
			"width": 140,
		},
		{"fieldname": "rule", "label": _("Rule"), "fieldtype": "Data", "width": 140},
		{"fieldname": "reason", "label": _("Reason"), "fieldtype": "Data", "width": 240},
	]


def dates(filters: dict) -> tuple[datetime | None, datetime | None]:
	"""[from_date 00:00, the day after to_date 00:00), either open; without a customer and a from date,
	from one month before to_date (or today)."""
	to_date = getdate(filters.to_date) if filters.get("to_date") else None
	from_date = getdate(filters.from_date) if filters.get("from_date") else None
	if not from_date and not filters.get("pool_customer"):
		from_date = getdate(add_months(to_date or nowdate(), -1))
	if from_date and to_date and from_date > to_date:
		frappe.throw(_("From Date must not be after To Date"))
	start = datetime.combine(from_date, datetime.min.time()) if from_date else None
	end = datetime.combine(to_date + timedelta(days=1), datetime.min.time()) if to_date else None
	return start, end


def history(filters: dict, user: str | None = None, limit: int = LIMIT) -> list[frappe._dict]:
	"""The Pool Log entries of the filters that `user` (default: the session user) may read, newest
	first, at most `limit`."""
	viewer = user or frappe.session.user
	filters = frappe._dict(filters)
	start, end = dates(filters)
	subject = filters.get("user") or (None if filters.get("pool_customer") else viewer)
	values = {"start": start, "end": end, "pc": filters.get("pool_customer"), "user": subject, "limit": limit}
	where = []
	if start:
		where.append("l.at >= %(start)s")
	if end:
		where.append("l.at < %(end)s")
	if filters.get("pool_customer"):
		where.append("l.pool_customer = %(pc)s")
	if filters.get("pool"):
		where.append("l.pool = %(pool)s")
		values["pool"] = filters.pool
	if filters.get("action"):
		where.append("l.action = %(action)s")
		values["action"] = filters.action
	# The Pool Log list's rule (`pool_log_query`: the entry's Pool Customer is one the viewer may read),
	# as a join on the customer's primary key: each candidate entry costs one lookup, where the
	# IN (subquery) form made MariaDB build the viewer's whole set of customers first.
	allowed = pool_customer_condition(viewer)
	join = ""
	if allowed:
		join = "JOIN `tabPool Customer` ON `tabPool Customer`.name = l.pool_customer"
		where.append(allowed)
	if subject:
		# one select per role of the user, each on its (user, at) index; UNION drops the duplicates
		selects = [
			f"""(SELECT {FIELDS} FROM `tabPool Log` l FORCE INDEX ({index}) {join}
			WHERE {" AND ".join([f"l.{field} = %(user)s", *where])} ORDER BY l.at DESC LIMIT %(limit)s)"""
			for field, index in USER_INDEXES.items()
		]
		sql = f"{' UNION '.join(selects)} ORDER BY at DESC, name LIMIT %(limit)s"
	else:
		sql = f"""SELECT {FIELDS} FROM `tabPool Log` l {join} WHERE {" AND ".join(where) or "1 = 1"}
			ORDER BY l.at DESC, l.name LIMIT %(limit)s"""
	return frappe.db.sql(sql, values, as_dict=True)  # indexed selects with the Pool Log list's rule


def rows(entries: list[frappe._dict]) -> list[dict]:
	"""Report rows: the action and the rule in the viewer's language."""
	return [
		{
			"at": e.at,
			"action": _(e.action, context="Pool Log"),
			"pool_customer": e.pool_customer,
			"customer_name": e.customer_name,
			"from_user": e.from_user,
			"to_user": e.to_user,
			"by_user": e.by_user,
			"pool": e.pool,
			"rule": rule_label(e.rule) if e.rule else None,
			"reason": e.reason,
		}
		for e in entries
	]


def execute(filters: dict | None = None) -> tuple:
	"""The Script Report "Ownership History"."""
	filters = frappe._dict(filters or {})
	entries = history(filters)
	message = None
	if len(entries) >= LIMIT:
		message = _("Showing the newest {0} entries: narrow the dates to see the others").format(LIMIT)
	return columns(), rows(entries), message


def add_indexes() -> None:
	"""A user's entries by time, one index per role (from, to, by): see the module."""
	for field, index in USER_INDEXES.items():
		frappe.db.add_index("Pool Log", [field, "at"], index)
