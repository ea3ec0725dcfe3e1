"""Grade Movement (等级变动): the transitions between grades in a period, from the Customer Grade Log
(`from_grade` → `to_grade` at `at`), as a matrix: a row per grade moved from, a column per grade
moved to ("" is ungraded); and the current distribution of grades (Pool Customer), in the report
summary and the chart.

The pool filter is the customer's pool now. A manager counts the customers they may see (`scope`):
the grade log of those customers (the rule of `access.permissions.grade_log_query`, as a condition on
each entry's customer), and those customers for the current distribution. A sales user counts their
own customers only (owned, exclusively managed, collaborated on: `pool_customer_condition(user,
in_pool=False)`): a grade's history is a record about a customer, closed while it is in the pool, as
return visits are. Invalid customers are not in the distribution. One GROUP BY query each, the log's over its `at` index, the distribution's over
the insight index (`insight.indexes`).
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import add_days, get_first_day, getdate, nowdate

from crm_pool.access.permissions import OWN, scope
from crm_pool.core.status import INVALID
from crm_pool.insight.indexes import GRADE_LOG_CUSTOMER_INDEX, GRADE_LOG_INDEX, INSIGHT_INDEX
from crm_pool.insight.scope import union_of_visible, visible_customers_sql

GRADES = ("A", "B", "C", "")
LOG = "`tabCustomer Grade Log`"


def period(filters: dict) -> tuple:
	"""from_date (default the first day of this month) .. to_date (default today), both included."""
	end = getdate(filters.get("to_date") or nowdate())
	start = getdate(filters.get("from_date") or get_first_day(end))
	if end < start:
		frappe.throw(_("The From Date must not be after the To Date"))
	return start, end


def grade_label(grade: str | None) -> str:
	return grade if grade else _("Ungraded")


def _field(grade: str) -> str:
	return f"to_{grade or 'none'}".lower()


def transitions(start, end, pool: str | None = None, user: str | None = None) -> list[dict]:
	"""(from_grade, to_grade, moves) of the grade log in the period, one GROUP BY query: for every
	customer over the log's `at` index (a pool filter or a Sales Manager's pools: each entry joined to
	its customer by key); for a sales user from their customers' side (`their_customers`), each part of
	them read on its own index and its entries of the period on the log's (pool_customer, at) index."""
	user = user or frappe.session.user
	values = {"from": start, "until": add_days(end, 1), "pool": pool}
	period_sql = "l.at >= %(from)s AND l.at < %(until)s"
	counts = """SELECT COALESCE(l.from_grade, '') AS from_grade, COALESCE(l.to_grade, '') AS to_grade,
		COUNT(*) AS moves"""
	if scope(user, "Pool Customer") == OWN:
		part = f"""{counts} FROM `tabPool Customer` pc
			STRAIGHT_JOIN {LOG} l FORCE INDEX ({GRADE_LOG_CUSTOMER_INDEX})
				ON l.pool_customer = pc.name AND {period_sql}
			WHERE 1=1{" AND pc.pool = %(pool)s" if pool else ""}{{visible}}
			GROUP BY 1, 2"""
		sql = f"""SELECT from_grade, to_grade, SUM(moves) AS moves
			FROM ({union_of_visible(part, user, in_pool=False)}) parts GROUP BY 1, 2"""
		return frappe.db.sql(sql, values, as_dict=True)
	joins, where = "", [period_sql]
	visible = visible_customers_sql(user)
	if pool or visible:
		joins = "STRAIGHT_JOIN `tabPool Customer` pc ON pc.name = l.pool_customer"
		where += ["pc.pool = %(pool)s"] if pool else []
		where += [visible] if visible else []
	return frappe.db.sql(
		f"""{counts}
		FROM {LOG} l FORCE INDEX ({GRADE_LOG_INDEX}) {joins}
		WHERE {" AND ".join(where)}
		GROUP BY 1, 2""",
		values,
		as_dict=True,
	)


def grades_of(found) -> list[str]:
	"""A, B, C, ungraded, then any other grade found, in order."""
	extra = sorted({g for g in found if g not in GRADES})
	return [*GRADES[:-1], *extra, ""]


def matrix(moves: list[dict]) -> tuple[list[str], list[dict]]:
	"""The grades of the matrix and its rows: one per grade moved from (with any move), a column per
	grade moved to and the row's total."""
	grades = grades_of([m.from_grade for m in moves] + [m.to_grade for m in moves])
	rows = {}
	for m in moves:
		row = rows.setdefault(m.from_grade, {"from_grade": grade_label(m.from_grade), "total": 0})
		row[_field(m.to_grade)] = row.get(_field(m.to_grade), 0) + int(m.moves)
		row["total"] += int(m.moves)
	result = []
	for grade in grades:
		if grade in rows:
			for to in grades:
				rows[grade].setdefault(_field(to), 0)
			result.append(rows[grade])
	return grades, result


def distribution(pool: str | None = None, user: str | None = None) -> dict[str, int]:
	"""Customers per grade now ("" ungraded), Invalid ones left out: one GROUP BY on the insight index
	(per part of what a restricted user counts, added)."""
	user = user or frappe.session.user
	where = f"pc.status != '{INVALID}'" + (" AND pc.pool = %(pool)s" if pool else "")
	part = f"""SELECT COALESCE(pc.grade, '') AS grade, COUNT(*) AS customers
		FROM `tabPool Customer` pc {{index}} WHERE {where}{{visible}} GROUP BY 1"""
	union = union_of_visible(part, user, INSIGHT_INDEX, in_pool=scope(user, "Pool Customer") != OWN)
	return {
		grade or "": int(count)
		for grade, count in frappe.db.sql(
			f"SELECT grade, SUM(customers) FROM ({union}) parts GROUP BY 1", {"pool": pool}
		)
	}


def columns(grades: list[str]) -> list[dict]:
	result = [{"fieldname": "from_grade", "label": _("From Grade"), "fieldtype": "Data", "width": 110}]
	result += [
		{
			"fieldname": _field(g),
			"label": _("To {0}").format(grade_label(g)),
			"fieldtype": "Int",
			"width": 90,
		}
		for g in grades
	]
	result.append({"fieldname": "total", "label": _("Total"), "fieldtype": "Int", "width": 90})
	return result


def report_summary(current: dict[str, int]) -> list[dict]:
	indicators = {"A": "Green", "B": "Blue", "C": "Orange", "": "Grey"}
	return [
		{
			"value": current.get(g, 0),
			"label": _("Grade {0} now").format(grade_label(g)),
			"datatype": "Int",
			"indicator": indicators.get(g, "Grey"),
		}
		for g in grades_of(current)
	]


def chart(current: dict[str, int]) -> dict | None:
	"""The current distribution of grades."""
	if not current:
		return None
	grades = grades_of(current)
	return {
		"data": {
			"labels": [grade_label(g) for g in grades],
			"datasets": [{"name": _("Customers"), "values": [current.get(g, 0) for g in grades]}],
		},
		"type": "bar",
		"fieldtype": "Int",
	}


def execute(filters: dict | None = None):
	"""The Script Report Grade Movement: the matrix, the current distribution in the summary and chart."""
	filters = frappe._dict(filters or {})
	start, end = period(filters)
	user, pool = frappe.session.user, filters.get("pool")
	grades, rows = matrix(transitions(start, end, pool, user))
	current = distribution(pool, user)
	return columns(grades), rows, None, chart(current), report_summary(current)
