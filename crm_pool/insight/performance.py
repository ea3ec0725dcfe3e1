"""Salesperson Performance (销售业绩分析, SPEC §6): one row per salesperson for a window of dates.

Definitions (window: from_date 00:00 to the end of to_date; default this month so far):
- claimed: Pool Log "Claim" entries to the person (to_user) in the window (a manager claiming a
  customer for themselves counts as a claim);
- allocated: Pool Log "Assign" entries to the person (a manager's assignment, allocation included);
  transfers (Ownership Transfer) are neither;
- released: Pool Log "Release" entries of the person's customers (from_user): released by them, or by
  a manager on their behalf;
- recycled: Pool Log "Recycle" entries of the person's customers (from_user), the daily recycle job;
- converted: Pool Log "Convert" entries (a Lead of theirs became a Customer) while the person owned it;
- conversion rate: converted ÷ (claimed + allocated), in %; blank without claims or allocations;
- median hours to first follow-up: over the customers the person got (claim, assignment or transfer:
  Pool Customer.claimed_at) in the window and still owns, that have a follow-up since
  (first_followup_at ≥ claimed_at): the median of the hours between the two, to the minute;
- follow-ups per customer per month: over the same customers (followed up or not), their follow-ups
  since the claim (followups_since_claim) ÷ the months each has been theirs (days since claimed_at ÷
  30, at least one day), i.e. Σ follow-ups ÷ Σ customer-months.
first_followup_at and followups_since_claim are kept by `crm_pool.pool.followup.record_followup`.

Who sees whom (`people_in_scope`): System Manager, Pool Manager (and Administrator) every salesperson;
a Sales Manager the members of the pools they administer (admin rows of Customer Pool Member) and
themselves, counting only those pools' customers (administering none: their own row); anyone else
(a sales user) their own row only.

Reads: one GROUP BY over the Pool Log Tally's days of the window for the five counts (`core.log`),
one GROUP BY over the Pool Customers got in the window (by owner and minutes to the first
follow-up) for the cadence and the medians, whatever the number of people.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import frappe
from frappe import _
from frappe.utils import flt, get_first_day, getdate, now_datetime, nowdate

from crm_pool.access.permissions import ALL, TEAM, scope
from crm_pool.core.log import TALLY_INDEX
from crm_pool.core.status import ASSIGN, CLAIM, CONVERT, RECYCLE, RELEASE
from crm_pool.insight.scope import user_names

# Indexes (names) added by `add_indexes`: the log's window with every column the counts read, and
# the customers got in a window with what the cadence and the median read.
CLAIMED_INDEX = "insight_claimed"
TO_OWNER = (CLAIM, ASSIGN, CONVERT)  # counted for to_user
FROM_OWNER = (RELEASE, RECYCLE)  # counted for from_user
DAY_SECONDS = 86400
MONTH_DAYS = 30


def columns() -> list[dict]:
	def number(fieldname: str, label: str, fieldtype: str = "Int", width: int = 100) -> dict:
		return {"fieldname": fieldname, "label": label, "fieldtype": fieldtype, "width": width}

	return [
		{
			"fieldname": "salesperson",
			"label": _("Salesperson"),
			"fieldtype": "Link",
			"options": "User",
			"width": 200,
		},
		{"fieldname": "salesperson_name", "label": _("Salesperson Name"), "fieldtype": "Data", "width": 120},
		number("claimed", _("Claims")),
		number("allocated", _("Allocations")),
		number("released", _("Releases")),
		number("recycled", _("Recycles")),
		number("converted", _("Conversions")),
		number("conversion_rate", _("Conversion Rate %"), "Percent", 120),
		{
			"fieldname": "median_hours_to_followup",
			"label": _("Median Hours to First Follow-up"),
			"fieldtype": "Float",
			"precision": 1,
			"width": 170,
		},
		{
			"fieldname": "followups_per_month",
			"label": _("Follow-ups per Customer per Month"),
			"fieldtype": "Float",
			"precision": 2,
			"width": 170,
		},
	]


def window(filters: dict) -> tuple[datetime, datetime]:
	"""[from_date 00:00, the day after to_date 00:00): default this month so far."""
	to_date = getdate(filters.get("to_date") or nowdate())
	from_date = getdate(filters.get("from_date") or get_first_day(to_date))
	if from_date > to_date:
		frappe.throw(_("From Date must not be after To Date"))
	start = datetime.combine(from_date, datetime.min.time())
	return start, datetime.combine(to_date + timedelta(days=1), datetime.min.time())


def administered_pools(user: str) -> list[str]:
	"""The pools listing `user` as an admin."""
	return frappe.get_all(
		"Customer Pool Member",
		filters={"parenttype": "Customer Pool", "user": user, "is_admin": 1},
		pluck="parent",
		distinct=True,
	)


def pool_members(pools: list[str]) -> list[str]:
	"""The users listed on these pools, themselves or through their Employee's department."""
	if not pools:
		return []
	rows = frappe.get_all(
		"Customer Pool Member",
		filters={"parenttype": "Customer Pool", "parent": ("in", pools)},
		fields=["user", "department"],
	)
	users = {r.user for r in rows if r.user}
	departments = {r.department for r in rows if r.department}
	if departments:
		users.update(
			frappe.get_all(
				"Employee", filters={"department": ("in", list(departments))}, pluck="user_id", distinct=True
			)
		)
	return sorted(u for u in users if u)


def people_in_scope(user: str) -> tuple[list[str] | None, list[str] | None]:
	"""(people, pools) whose performance `user` may see: None for no restriction. See the module."""
	where = scope(user, "Pool Customer")
	if where == ALL:
		return None, None
	pools = administered_pools(user) if where == TEAM else []
	if pools:
		return sorted({user, *pool_members(pools)}), pools
	return [user], None  # a sales user, or a Sales Manager administering no pool: their own row


def _conditions(
	alias: str, person_sql: str, people: list[str] | None, pools: list[str] | None, pool: str | None
) -> list[str]:
	"""WHERE conditions narrowing rows of `alias` to the people, their pools and the filtered pool."""
	conditions = []
	if people is not None:
		conditions.append(f"{person_sql} IN %(people)s")
	if pools is not None:
		conditions.append(f"{alias}.pool IN %(pools)s")
	if pool:
		conditions.append(f"{alias}.pool = %(pool)s")
	return conditions


def log_counts(start, end, people=None, pools=None, pool=None) -> dict[str, frappe._dict]:
	"""The five Pool Log counts per person in [start, end) (whole days), one GROUP BY over the Pool
	Log Tally (`core.log`: the entries per day, pool, action and owners) — ~days × people × actions
	rows, not every entry of the window. The person of an entry is its to_user for claims,
	assignments and conversions, its from_user for releases and recycles."""
	person = "IF(t.action IN %(to_owner)s, t.to_user, t.from_user)"
	where = ["t.day >= %(start)s", "t.day < %(end)s", "t.action IN %(actions)s"]
	where += _conditions("t", person, people, pools, pool)
	values = {
		"start": getdate(start),
		"end": getdate(end),
		"to_owner": TO_OWNER,
		"actions": TO_OWNER + FROM_OWNER,
		"people": tuple(people or ()) or ("",),
		"pools": tuple(pools or ()) or ("",),
		"pool": pool,
		"claim": CLAIM,
		"assign": ASSIGN,
		"release": RELEASE,
		"recycle": RECYCLE,
		"convert": CONVERT,
	}
	rows = frappe.db.sql(  # one set-based aggregation over the tally's days (its covering index)
		f"""SELECT {person} AS person,
			SUM(IF(t.action = %(claim)s, t.entries, 0)) AS claimed,
			SUM(IF(t.action = %(assign)s, t.entries, 0)) AS allocated,
			SUM(IF(t.action = %(release)s, t.entries, 0)) AS released,
			SUM(IF(t.action = %(recycle)s, t.entries, 0)) AS recycled,
			SUM(IF(t.action = %(convert)s, t.entries, 0)) AS converted
		FROM `tabPool Log Tally` t FORCE INDEX ({TALLY_INDEX})
		WHERE {" AND ".join(where)}
		GROUP BY person HAVING person IS NOT NULL""",
		values,
		as_dict=True,
	)
	return {r.person: r for r in rows}


def followup_measures(start, end, people=None, pools=None, pool=None, now=None) -> dict[str, frappe._dict]:
	"""Per owner, over the customers they got in [start, end) and still own: their number, Σ
	follow-ups since the claim, Σ customer-months owned, and the median hours from the claim to the
	first follow-up (over the followed-up ones, to the minute). One GROUP BY by owner and whole
	minutes to the first follow-up: the medians are taken from those counts (`median_of_counts`),
	which reads the window once where MariaDB's MEDIAN() OVER sorted it (1.2-2.1 s at 1,000,000)."""
	now = now or now_datetime()
	where = ["pc.claimed_at >= %(start)s", "pc.claimed_at < %(end)s", "pc.owned_by IS NOT NULL"]
	where += _conditions("pc", "pc.owned_by", people, pools, pool)
	values = {
		"start": start,
		"end": end,
		"now": now,
		"day": DAY_SECONDS,
		"people": tuple(people or ()) or ("",),
		"pools": tuple(pools or ()) or ("",),
		"pool": pool,
	}
	rows = frappe.db.sql(  # one GROUP BY over the customers got in the window (covering index)
		f"""SELECT pc.owned_by AS person,
			IF(pc.first_followup_at >= pc.claimed_at,
				TIMESTAMPDIFF(MINUTE, pc.claimed_at, pc.first_followup_at), NULL) AS minutes,
			COUNT(*) AS customers, SUM(COALESCE(pc.followups_since_claim, 0)) AS followups,
			SUM(GREATEST(TIMESTAMPDIFF(SECOND, pc.claimed_at, %(now)s), %(day)s)) AS owned_seconds
		FROM `tabPool Customer` pc FORCE INDEX ({CLAIMED_INDEX})
		WHERE {" AND ".join(where)} GROUP BY 1, 2""",
		values,
		as_dict=True,
	)
	result: dict[str, frappe._dict] = {}
	minutes: dict[str, dict[int, int]] = {}
	everyone: dict[int, int] = {}
	for r in rows:
		person = result.setdefault(r.person, frappe._dict(customers=0, followups=0, owned_seconds=0))
		person.customers += int(r.customers)
		person.followups += int(r.followups or 0)
		person.owned_seconds += flt(r.owned_seconds)
		if r.minutes is not None:
			minutes.setdefault(r.person, {})[int(r.minutes)] = int(r.customers)
			everyone[int(r.minutes)] = everyone.get(int(r.minutes), 0) + int(r.customers)
	overall = median_of_counts(everyone)
	for name, person in result.items():
		person.months = person.owned_seconds / (DAY_SECONDS * MONTH_DAYS)
		median = median_of_counts(minutes.get(name, {}))
		person.median_hours = median / 60 if median is not None else None
		person.all_median_hours = overall / 60 if overall is not None else None
	return result


def median_of_counts(counts: dict[int, int]) -> float | None:
	"""The median of values given as {value: how many times}: the middle value, or the mean of the
	two middle ones (as MariaDB's MEDIAN, PERCENTILE_CONT(0.5)); None without values."""
	total = sum(counts.values())
	if not total:
		return None
	middle = [(total - 1) // 2, total // 2]  # 0-based positions of the middle value(s)
	found, seen = [], 0
	for value in sorted(counts):
		seen += counts[value]
		while middle and middle[0] < seen:
			found.append(value)
			middle.pop(0)
	return (found[0] + found[1]) / 2


def rate(part: float, whole: float, precision: int = 1) -> float | None:
	return flt(100.0 * part / whole, precision) if whole else None


def performance(filters: dict, user: str | None = None) -> tuple[list[dict], dict | None]:
	"""(rows by salesperson, totals row or None) of the report for `user` (default: the session user)."""
	user, filters = user or frappe.session.user, frappe._dict(filters)
	start, end = window(filters)
	people, pools = people_in_scope(user)
	if filters.get("user"):
		people = [filters.user] if people is None or filters.user in people else []
	if people == []:
		return [], None
	pool = filters.get("pool")
	counts = log_counts(start, end, people, pools, pool)
	followups = followup_measures(start, end, people, pools, pool)
	names = sorted(set(counts) | set(followups))
	full_names = user_names(names)
	measures = ("claimed", "allocated", "released", "recycled", "converted")
	rows, total = [], frappe._dict({m: 0 for m in measures}, followups=0, months=0.0)
	for name in names:
		c, f = counts.get(name) or {}, followups.get(name) or frappe._dict()
		row = {"salesperson": name, "salesperson_name": full_names.get(name) or name}
		row.update({m: int(c.get(m) or 0) for m in measures})
		row["conversion_rate"] = rate(row["converted"], row["claimed"] + row["allocated"])
		row["median_hours_to_followup"] = (
			flt(f.median_hours, 1) if f.get("median_hours") is not None else None
		)
		row["followups_per_month"] = flt(f.followups / f.months, 2) if f.get("months") else None
		rows.append(row)
		for m in measures:
			total[m] += row[m]
		total.followups += int(f.get("followups") or 0)
		total.months += flt(f.get("months"))
	if not rows:
		return [], None
	overall = next((f.all_median_hours for f in followups.values() if f.all_median_hours is not None), None)
	totals = {
		"salesperson": None,
		"salesperson_name": _("Total"),
		**{m: total[m] for m in measures},
		"conversion_rate": rate(total.converted, total.claimed + total.allocated),
		"median_hours_to_followup": flt(overall, 1) if overall is not None else None,
		"followups_per_month": flt(total.followups / total.months, 2) if total.months else None,
		"bold": 1,
	}
	return rows, totals


def chart(rows: list[dict]) -> dict | None:
	"""Bar chart: claimed (and allocated) against converted, per salesperson."""
	if not rows:
		return None
	return {
		"data": {
			"labels": [r["salesperson_name"] for r in rows],
			"datasets": [
				{"name": _("Claims"), "values": [r["claimed"] for r in rows]},
				{"name": _("Allocations"), "values": [r["allocated"] for r in rows]},
				{"name": _("Conversions"), "values": [r["converted"] for r in rows]},
			],
		},
		"type": "bar",
		"colors": ["#5e64ff", "#98d85b", "#ff5858"],
	}


def execute(filters: dict | None = None) -> tuple:
	"""The Script Report "Salesperson Performance"."""
	filters = frappe._dict(filters or {})
	rows, totals = performance(filters)
	data = [*rows, totals] if totals else rows
	return columns(), data, None, chart(rows)


def add_indexes(doctype: str) -> None:
	"""The report's index on `doctype` (called from its on_doctype_update): Pool Customers by the
	time they were got, with the follow-up columns (the counts read the Pool Log Tally's own)."""
	if doctype == "Pool Customer":
		frappe.db.add_index(
			"Pool Customer",
			["claimed_at", "owned_by", "pool", "first_followup_at", "followups_since_claim"],
			CLAIMED_INDEX,
		)
