"""Recycle Forecast (回收预测): the owned customers that will return to the public pool in a window of
days, per owner and per day or week, with the rule that will apply.

A customer is due at its `recycle_due_at` (kept current by `crm_pool.pool.followup`: the earlier of
its no-follow-up and no-deal dates); the rule is the one the daily recycle will write in the Pool
Log's `rule` column ('no_followup:30d', 'no_deal:90d': `followup.RULE_SQL`), and its days come from
the pool's rule for the customer's grade, else the Grade Service Policy's days for that grade, else
the pool's own. Customers an exemption of their pool keeps today (a deal, an owner's active open
Opportunity: `recycle.EXEMPT_SQL`) are left out, as the recycle leaves them; locked customers have no
due date. A follow-up before the date moves it: the forecast is as of now.

One query per report (grouped by owner, day and rule for the summary), over a range of the insight
index (`insight.indexes`: status, recycle_due_at and every column the query reads, so no row is read);
the exemption by an opportunity is found from the open Opportunities' side. A user counts only the
customers they may see (`scope`).
"""

from __future__ import annotations

from datetime import date, timedelta

import frappe
from frappe import _
from frappe.utils import add_days, getdate, now_datetime, nowdate

from crm_pool.insight.indexes import INSIGHT_INDEX
from crm_pool.insight.scope import and_visible, user_names
from crm_pool.pool.followup import OPEN_OPPORTUNITY_STATUSES, RECYCLABLE, RULE_JOINS_SQL, RULE_SQL
from crm_pool.pool.recycle import EXEMPT_SQL, rule_label

DAY, WEEK = "Day", "Week"
DEFAULT_DAYS = 30
_RECYCLABLE = ", ".join(f"'{s}'" for s in RECYCLABLE)
_OPEN = ", ".join(f"'{s}'" for s in OPEN_OPPORTUNITY_STATUSES)
# The due customers of the window, on the insight index's columns (`insight.indexes`).
DUE_IN_WINDOW_SQL = (
	f"pc.status IN ({_RECYCLABLE}) AND pc.recycle_due_at >= %(from)s AND pc.recycle_due_at < %(until)s"
)
# A deal keeps a customer when its pool says so: the first half of `recycle.EXEMPT_SQL`, read from the
# index.
EXEMPT_BY_DEAL_SQL = "(p.exempt_with_deal = 1 AND pc.last_deal_at IS NOT NULL)"


def _exempt_by_opportunity_sql() -> str:
	"""The due customers of the window that `recycle.EXEMPT_SQL` keeps, found from the side of the open
	Opportunities (by lead, customer and party, each indexed): a table the report joins once (a
	NOT EXISTS per customer would read every customer's row for its lead, customer and party)."""
	parts = [
		f"""SELECT pc.name FROM `tabOpportunity` o0 JOIN `tabPool Customer` pc ON pc.{link} = o0.party_name
			{RULE_JOINS_SQL}
			WHERE o0.status IN ({_OPEN}) AND o0.docstatus < 2 AND {DUE_IN_WINDOW_SQL} AND {EXEMPT_SQL}"""
		for link in ("lead", "customer", "party")
	]
	return "\nUNION\n".join(parts)


# Where the days of a rule come from (the order of `followup._days_sql`).
POOL_GRADE_RULE, GRADE_POLICY, POOL_RULE = "pool_grade_rule", "grade_policy", "pool"
SOURCE_LABELS = {
	POOL_GRADE_RULE: "Pool's rule for the grade",
	GRADE_POLICY: "Grade Service Policy",
	POOL_RULE: "Pool",
}


def _source_sql(field: str) -> str:
	return (
		f"CASE WHEN NULLIF(gr.{field}, 0) IS NOT NULL THEN '{POOL_GRADE_RULE}' "
		f"WHEN NULLIF(gsp.{field}, 0) IS NOT NULL THEN '{GRADE_POLICY}' ELSE '{POOL_RULE}' END"
	)


SOURCE_SQL = (
	f"IF(LEFT({RULE_SQL}, 8) = 'no_deal:', {_source_sql('no_deal_days')}, {_source_sql('no_followup_days')})"
)


def window(filters: dict) -> tuple[date, date]:
	"""from_date (default today) .. to_date (default 30 days later), both included."""
	start = getdate(filters.get("from_date") or nowdate())
	end = getdate(filters.get("to_date") or add_days(start, DEFAULT_DAYS))
	if end < start:
		frappe.throw(_("The From Date must not be after the To Date"))
	return start, end


def _where(start: date, end: date, pool: str | None, owner: str | None, user: str | None) -> tuple[str, dict]:
	"""The WHERE clause (with the customers exempt by an opportunity in `ex`) and its values."""
	values = {"from": start, "until": add_days(end, 1), "pool": pool, "owner": owner, "now": now_datetime()}
	where = [DUE_IN_WINDOW_SQL, f"NOT {EXEMPT_BY_DEAL_SQL}", "ex.name IS NULL"]
	if pool:
		where.append("pc.pool = %(pool)s")
	if owner:
		where.append("pc.owned_by = %(owner)s")
	return " AND ".join(where) + and_visible(user), values


def _from() -> str:
	"""The pool customers with their rules and the exempt ones of the window (`ex`)."""
	return f"""`tabPool Customer` pc FORCE INDEX ({INSIGHT_INDEX}) {RULE_JOINS_SQL}
		LEFT JOIN ({_exempt_by_opportunity_sql()}) ex ON ex.name = pc.name"""


def due_by_owner_day(start, end, pool=None, owner=None, user=None) -> list[dict]:
	"""(owner, day, rule, customers) of the customers due in the window: one GROUP BY query."""
	where, values = _where(start, end, pool, owner, user)
	return frappe.db.sql(
		f"""
		SELECT pc.owned_by AS owner, DATE(pc.recycle_due_at) AS day, {RULE_SQL} AS rule, COUNT(*) AS customers
		FROM {_from()}
		WHERE {where}
		GROUP BY 1, 2, 3
		ORDER BY 1, 2, 3
		""",
		values,
		as_dict=True,
	)


def due_customers(start, end, pool=None, owner=None, user=None) -> list[dict]:
	"""The customers due in the window with their due date, rule and where its days come from, by
	due date."""
	where, values = _where(start, end, pool, owner, user)
	rows = frappe.db.sql(
		f"""
		SELECT pc.name AS pool_customer, pc.customer_name, pc.pool, pc.owned_by AS owner, pc.grade,
			pc.recycle_due_at, {RULE_SQL} AS rule, {SOURCE_SQL} AS source,
			pc.claimed_at, pc.last_followup_at, pc.last_deal_at
		FROM {_from()}
		WHERE {where}
		ORDER BY pc.recycle_due_at, pc.name
		""",
		values,
		as_dict=True,
	)
	names = user_names(r.owner for r in rows)
	for row in rows:
		row["owner_name"] = names.get(row.owner)
		row["rule_label"] = rule_label(row.rule)
		row["source_label"] = _(SOURCE_LABELS.get(row.source, row.source))
	return rows


def period_of(day: date, period: str) -> date:
	"""The first day of the day's period: the day itself, or the Monday of its week."""
	day = getdate(day)
	return day - timedelta(days=day.weekday()) if period == WEEK else day


def periods(start: date, end: date, period: str) -> list[date]:
	"""The periods of the window, in order."""
	result, day = [], period_of(start, period)
	while day <= end:
		result.append(day)
		day += timedelta(days=7 if period == WEEK else 1)
	return result


def _period_field(day: date) -> str:
	return "p_" + day.strftime("%Y%m%d")


def summary(grouped: list[dict], start: date, end: date, period: str) -> list[dict]:
	"""One row per owner: customers due in the window, how many by each kind of rule, the first
	due day, and a column per period."""
	rows: dict[str, dict] = {}
	for g in grouped:
		row = rows.setdefault(
			g.owner,
			{"owner": g.owner, "customers": 0, "no_followup": 0, "no_deal": 0, "first_due": g.day},
		)
		row["customers"] += g.customers
		kind = (g.rule or "").partition(":")[0]
		if kind in ("no_followup", "no_deal"):
			row[kind] += g.customers
		row["first_due"] = min(row["first_due"], g.day)
		field = _period_field(period_of(g.day, period))
		row[field] = row.get(field, 0) + g.customers
	names = user_names(rows)
	result = []
	for owner in sorted(rows, key=lambda o: (o is None, o or "")):
		row = rows[owner]
		row["owner_name"] = names.get(owner)
		for day in periods(start, end, period):
			row.setdefault(_period_field(day), 0)
		result.append(row)
	return result


def summary_columns(start: date, end: date, period: str) -> list[dict]:
	result = [
		{"fieldname": "owner", "label": _("Owned By"), "fieldtype": "Link", "options": "User", "width": 180},
		{"fieldname": "owner_name", "label": _("Owner Name"), "fieldtype": "Data", "width": 110},
		{"fieldname": "customers", "label": _("Customers Due"), "fieldtype": "Int", "width": 110},
		{"fieldname": "no_followup", "label": _("No Follow-up Rule"), "fieldtype": "Int", "width": 120},
		{"fieldname": "no_deal", "label": _("No Deal Rule"), "fieldtype": "Int", "width": 110},
		{"fieldname": "first_due", "label": _("First Due Date"), "fieldtype": "Date", "width": 110},
	]
	for day in periods(start, end, period):
		label = _("Week of {0}").format(day.strftime("%m-%d")) if period == WEEK else day.strftime("%m-%d")
		result.append({"fieldname": _period_field(day), "label": label, "fieldtype": "Int", "width": 90})
	return result


def detail_columns() -> list[dict]:
	return [
		{
			"fieldname": "pool_customer",
			"label": _("Pool Customer"),
			"fieldtype": "Link",
			"options": "Pool Customer",
			"width": 150,
		},
		{"fieldname": "customer_name", "label": _("Customer Name"), "fieldtype": "Data", "width": 200},
		{
			"fieldname": "pool",
			"label": _("Pool"),
			"fieldtype": "Link",
			"options": "Customer Pool",
			"width": 150,
		},
		{"fieldname": "owner", "label": _("Owned By"), "fieldtype": "Link", "options": "User", "width": 170},
		{"fieldname": "owner_name", "label": _("Owner Name"), "fieldtype": "Data", "width": 100},
		{"fieldname": "grade", "label": _("Grade"), "fieldtype": "Data", "width": 60},
		{"fieldname": "recycle_due_at", "label": _("Recycle Due At"), "fieldtype": "Datetime", "width": 160},
		{"fieldname": "rule_label", "label": _("Rule"), "fieldtype": "Data", "width": 170},
		{"fieldname": "source_label", "label": _("Days From"), "fieldtype": "Data", "width": 160},
		{"fieldname": "rule", "label": _("Rule Code"), "fieldtype": "Data", "width": 120},
		{
			"fieldname": "claimed_at",
			"label": _("Claimed or Assigned At"),
			"fieldtype": "Datetime",
			"width": 160,
		},
		{
			"fieldname": "last_followup_at",
			"label": _("Last Follow-up At"),
			"fieldtype": "Datetime",
			"width": 160,
		},
		{"fieldname": "last_deal_at", "label": _("Last Deal At"), "fieldtype": "Datetime", "width": 160},
	]


def chart(per_day: dict[date, int], start: date, end: date) -> dict | None:
	"""Customers due per day of the window."""
	if not per_day:
		return None
	days = periods(start, end, DAY)
	return {
		"data": {
			"labels": [d.strftime("%m-%d") for d in days],
			"datasets": [{"name": _("Customers Due"), "values": [per_day.get(d, 0) for d in days]}],
		},
		"type": "bar",
		"fieldtype": "Int",
	}


def execute(filters: dict | None = None):
	"""The Script Report Recycle Forecast: a summary per owner (default) or the list of customers."""
	filters = frappe._dict(filters or {})
	start, end = window(filters)
	period = WEEK if filters.get("period") == WEEK else DAY
	pool, owner, user = filters.get("pool"), filters.get("owner"), frappe.session.user
	if int(filters.get("detail") or 0):
		rows = due_customers(start, end, pool, owner, user)
		per_day: dict[date, int] = {}
		for r in rows:
			day = getdate(r.recycle_due_at)
			per_day[day] = per_day.get(day, 0) + 1
		return detail_columns(), rows, None, chart(per_day, start, end)
	grouped = due_by_owner_day(start, end, pool, owner, user)
	per_day = {}
	for g in grouped:
		per_day[getdate(g.day)] = per_day.get(getdate(g.day), 0) + g.customers
	return (
		summary_columns(start, end, period),
		summary(grouped, start, end, period),
		None,
		chart(per_day, start, end),
	)
