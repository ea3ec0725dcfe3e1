"""Pool Ageing (公海账龄): customers by pool (and owner) and age bucket, as of a date.

A customer's age is counted in whole days up to the as-of date:
- in the pool (公海中): since it entered the pool (`pool_entered_at`);
- owned (已领取, 已锁定, 已转化): since its owner last followed it up, or since the claim when that
  is later (the owner's clock starts at the claim, as the recycle rule counts: `pool.followup`);
- a missing date counts from the record's creation.
Customers whose clock starts after the as-of date are left out. The buckets are 0-7, 8-30, 31-90
and over 90 days. One GROUP BY query (by pool, owner and bucket) over the insight index; a user
counts only the customers they may see (`scope`), each part of them on an index range of its own
(`scope.union_of_visible`).
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import getdate, nowdate

from crm_pool.core.status import HAS_OWNER, IN_POOL
from crm_pool.insight.indexes import INSIGHT_INDEX
from crm_pool.insight.scope import union_of_visible, user_names

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


def statuses(group: str | None) -> str:
	"""The statuses of a status group, as SQL."""
	if group == GROUP_IN_POOL:
		return f"'{IN_POOL}'"
	if group == GROUP_OWNED:
		return _OWNED
	return f"'{IN_POOL}', {_OWNED}"


# The bucket of an age: INTERVAL(age, 0, 8, 31, 91) is 0 below 0 (a clock that starts after the as-of
# date: left out), 1 for 0-7, 2 for 8-30, 3 for 31-90, 4 above; the age is computed once per row.
BUCKET_SQL = f"INTERVAL(DATEDIFF(%(as_of)s, {START_SQL}), {', '.join(str(b[2]) for b in BUCKETS)})"


def ageing(
	as_of=None, pool: str | None = None, group: str | None = GROUP_BOTH, by_owner: bool = False, user=None
) -> list[dict]:
	"""One row per pool (and owner, with `by_owner`; in-pool customers have none) with the number of
	customers in each bucket and their total, by pool and owner."""
	as_of = getdate(as_of or nowdate())
	values = {"as_of": as_of, "pool": pool}
	where = [f"pc.status IN ({statuses(group)})"]
	if pool:
		where.append("pc.pool = %(pool)s")
	owner = "pc.owned_by" if by_owner else "NULL"
	part = f"""SELECT pc.pool, {owner} AS owner, {BUCKET_SQL} AS bucket, COUNT(*) AS customers
		FROM `tabPool Customer` pc {{index}}
		WHERE {" AND ".join(where)}{{visible}}
		GROUP BY 1, 2, 3"""
	counts = frappe.db.sql(  # GROUP BY on the insight index alone, per part of what the user sees
		f"""SELECT pool, owner, bucket, SUM(customers) AS customers
		FROM ({union_of_visible(part, user, INSIGHT_INDEX)}) parts
		GROUP BY 1, 2, 3""",
		values,
		as_dict=True,
	)
	rows: dict[tuple, frappe._dict] = {}
	for c in counts:
		if not c.bucket:
			continue  # not yet in the pool or owned on the as-of date
		row = rows.setdefault(
			(c.pool, c.owner),
			frappe._dict(pool=c.pool, owner=c.owner, total=0, **{b[0]: 0 for b in BUCKETS}),
		)
		row[BUCKETS[c.bucket - 1][0]] += c.customers
		row.total += c.customers
	names = user_names(owner for _pool, owner in rows)
	result = []
	for key in sorted(rows, key=lambda k: (k[0] or "", k[1] or "")):
		rows[key]["owner_name"] = names.get(key[1])
		result.append(rows[key])
	return result


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
