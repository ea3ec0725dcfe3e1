"""Pool Ageing (公海账龄): customers by pool (and owner) and age bucket, as of a date.

A customer's age is counted in whole days up to the as-of date:
- in the pool (公海中): since it entered the pool (`pool_entered_at`);
- owned (已领取, 已锁定, 已转化): since its owner last followed it up, or since the claim when that
  is later (the owner's clock starts at the claim, as the recycle rule counts: `pool.followup`);
- a missing date counts from the record's creation.
Customers whose clock starts after the as-of date are left out. The buckets are 0-7, 8-30, 31-90
and over 90 days. One GROUP BY query; a user counts only the customers they may see (`scoping`).
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import add_days, getdate, nowdate

from crm_pool.core.status import HAS_OWNER, IN_POOL
from crm_pool.insight.scoping import and_visible, user_names

# status groups of the filter
GROUP_IN_POOL, GROUP_OWNED, GROUP_BOTH = "In Pool", "Owned", "Both"
# (fieldname, label, lowest day, highest day or None)
BUCKETS = (
	("days_0_7", "0-7 Days", 0, 7),
	("days_8_30", "8-30 Days", 8, 30),
	("days_31_90", "31-90 Days", 31, 90),
	("days_over_90", "Over 90 Days", 91, None),
)
_OWNED = ", ".join(f"'{s}'" for s in HAS_OWNER)
# When the clock of a customer `pc` started (see the module's docstring).
START_SQL = (
	f"IF(pc.status = '{IN_POOL}', COALESCE(pc.pool_entered_at, pc.creation), "
	"COALESCE(GREATEST(COALESCE(pc.last_followup_at, pc.claimed_at), COALESCE(pc.claimed_at, pc.last_followup_at)), "
	"pc.creation))"
)
AGEING_INDEX = "crm_pool_ageing"


def statuses(group: str | None) -> str:
	"""The statuses of a status group, as SQL."""
	if group == GROUP_IN_POOL:
		return f"'{IN_POOL}'"
	if group == GROUP_OWNED:
		return _OWNED
	return f"'{IN_POOL}', {_OWNED}"


def bucket_sql(age: str = "t.age") -> str:
	parts = []
	for fieldname, _label, low, high in BUCKETS:
		test = f"{age} >= {low}" + (f" AND {age} <= {high}" if high is not None else "")
		parts.append(f"SUM({test}) AS {fieldname}")
	return ", ".join(parts)


def ageing(
	as_of=None, pool: str | None = None, group: str | None = GROUP_BOTH, by_owner: bool = False, user=None
) -> list[dict]:
	"""One row per pool (and owner, with `by_owner`; in-pool customers have none) with the number of
	customers in each bucket and their total, by pool and owner."""
	as_of = getdate(as_of or nowdate())
	values = {"as_of": as_of, "until": add_days(as_of, 1), "pool": pool}
	where = [f"pc.status IN ({statuses(group)})"]
	if pool:
		where.append("pc.pool = %(pool)s")
	owner = "pc.owned_by" if by_owner else "NULL"
	rows = frappe.db.sql(  # one GROUP BY over the pool customers (a covering index: add_indexes)
		f"""
		SELECT t.pool, t.owner, {bucket_sql()}, COUNT(*) AS total
		FROM (
			SELECT pc.pool, {owner} AS owner, DATEDIFF(%(as_of)s, {START_SQL}) AS age
			FROM `tabPool Customer` pc
			WHERE {" AND ".join(where)}{and_visible(user)} AND {START_SQL} < %(until)s
		) t
		GROUP BY t.pool, t.owner
		ORDER BY t.pool, t.owner
		""",
		values,
		as_dict=True,
	)
	names = user_names(r.owner for r in rows)
	for row in rows:
		row["owner_name"] = names.get(row.owner)
		for fieldname, *_rest in BUCKETS:
			row[fieldname] = int(row[fieldname] or 0)
	return rows


def columns(by_owner: bool) -> list[dict]:
	result = [
		{
			"fieldname": "pool",
			"label": _("Pool"),
			"fieldtype": "Link",
			"options": "Customer Pool",
			"width": 180,
		}
	]
	if by_owner:
		result += [
			{
				"fieldname": "owner",
				"label": _("Owned By"),
				"fieldtype": "Link",
				"options": "User",
				"width": 180,
			},
			{"fieldname": "owner_name", "label": _("Owner Name"), "fieldtype": "Data", "width": 110},
		]
	result += [
		{"fieldname": fieldname, "label": _(label), "fieldtype": "Int", "width": 100}
		for fieldname, label, *_rest in BUCKETS
	]
	result.append({"fieldname": "total", "label": _("Total"), "fieldtype": "Int", "width": 90})
	return result


def chart(rows: list[dict], by_owner: bool) -> dict | None:
	"""A stacked bar per row (pool, or pool and owner) with a part per bucket."""
	if not rows:
		return None
	labels = [f"{r.pool} · {r.owner_name or r.owner or _('In Pool')}" if by_owner else r.pool for r in rows]
	return {
		"data": {
			"labels": labels,
			"datasets": [
				{"name": _(label), "values": [r[fieldname] for r in rows]}
				for fieldname, label, *_rest in BUCKETS
			],
		},
		"type": "bar",
		"barOptions": {"stacked": 1},
		"fieldtype": "Int",
	}


def execute(filters: dict | None = None):
	"""The Script Report Pool Ageing."""
	filters = frappe._dict(filters or {})
	by_owner = bool(int(filters.get("by_owner") or 0))
	rows = ageing(
		filters.get("as_of_date"),
		filters.get("pool"),
		filters.get("status_group") or GROUP_BOTH,
		by_owner,
		frappe.session.user,
	)
	return columns(by_owner), rows, None, chart(rows, by_owner)


def add_indexes() -> None:
	"""A covering index for the ageing query (Pool Customer's on_doctype_update): the scan reads the
	index, not the wide rows."""
	frappe.db.add_index(
		"Pool Customer",
		["status", "pool", "owned_by", "pool_entered_at", "last_followup_at", "claimed_at", "creation"],
		AGEING_INDEX,
	)
