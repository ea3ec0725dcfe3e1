"""The workspace's Dashboard Chart Sources (custom charts), scoped to the viewer like every card
(`insight.scope`): the `get` method of each source, called by Frappe's chart widget with
(chart_name, filters, from_date, to_date, timespan, time_interval, ...).

Not under Frappe's `cache_source`: its cache key is the chart's name, the same for every user, and
these answers differ per viewer. Raw SQL: the permission conditions are SQL (as Frappe's
permission_query_conditions), one GROUP BY query per chart. Each source reads from the site's MariaDB
replica when it has one (`read_from_replica`, `frappe.read_only`; scripts/replica): nothing here writes.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import add_days, getdate, nowdate

from crm_pool.core.status import CLAIM, IN_POOL, RECYCLE
from crm_pool.insight.scope import (
	POOL_CUSTOMER,
	POOL_LOG,
	check_read,
	customer_condition,
	log_condition,
	pool_filter,
)

DAYS = 30  # claims and recycles: the last 30 days, today included
# Pool ageing: (label, first day, last day or None) of days in the pool
AGE_BUCKETS = (("0-7", 0, 7), ("8-30", 8, 30), ("31-90", 31, 90), (">90", 91, None))


def claims_and_recycles_per_day(user: str, to_day: str, days: int = DAYS, filters=None) -> dict:
	"""{labels: the `days` days up to `to_day`, datasets: Claims, Recycles} of the Pool Log entries
	`user` counts (a salesperson: their own claims, and the customers recycled from them)."""
	start = add_days(getdate(to_day), -(days - 1))
	pool_sql, values = pool_filter(filters, POOL_LOG)
	rows = frappe.db.sql(
		f"""SELECT DATE(`tabPool Log`.at) AS day,
			SUM(`tabPool Log`.action = %(claim)s), SUM(`tabPool Log`.action = %(recycle)s)
		FROM `tabPool Log`
		WHERE `tabPool Log`.action IN (%(claim)s, %(recycle)s)
			AND `tabPool Log`.at >= %(start)s AND `tabPool Log`.at < DATE_ADD(%(end)s, INTERVAL 1 DAY)
			AND {log_condition(user)}{pool_sql}
		GROUP BY day""",
		{"claim": CLAIM, "recycle": RECYCLE, "start": start, "end": getdate(to_day), **values},
	)
	by_day = {getdate(day): (int(claims), int(recycles)) for day, claims, recycles in rows}
	dates = [add_days(start, i) for i in range(days)]
	return {
		"labels": [frappe.format(d, "Date") for d in dates],
		"datasets": [
			{"name": _("Claims"), "values": [by_day.get(d, (0, 0))[0] for d in dates]},
			{"name": _("Recycles"), "values": [by_day.get(d, (0, 0))[1] for d in dates]},
		],
	}


def pool_ageing_buckets(user: str, today: str, filters=None) -> dict:
	"""{labels: the age buckets, datasets: In Pool customers}: the in-pool customers `user` may see by
	days in the pool (since they entered it)."""
	pool_sql, values = pool_filter(filters, POOL_CUSTOMER)
	age = "DATEDIFF(%(today)s, COALESCE(`tabPool Customer`.pool_entered_at, `tabPool Customer`.creation))"
	sums = ", ".join(
		f"SUM({age} >= {low}" + (f" AND {age} <= {high})" if high is not None else ")")
		for _label, low, high in AGE_BUCKETS
	)
	row = frappe.db.sql(
		f"""SELECT {sums} FROM `tabPool Customer`
		WHERE `tabPool Customer`.status = %(in_pool)s AND {customer_condition(user)}{pool_sql}""",
		{"today": getdate(today), "in_pool": IN_POOL, **values},
	)[0]
	return {
		"labels": [_("{0} days").format(label) for label, _low, _high in AGE_BUCKETS],
		"datasets": [{"name": _("Customers in Pool"), "values": [int(v or 0) for v in row]}],
	}


@frappe.whitelist()
@frappe.read_only()
def claims_and_recycles(
	chart_name=None,
	chart=None,
	no_cache=None,
	filters=None,
	from_date=None,
	to_date=None,
	timespan=None,
	time_interval=None,
	heatmap_year=None,
	refresh=None,
) -> dict:
	"""Dashboard Chart Source "Pool Claims and Recycles": claims vs recycles per day, last 30 days."""
	check_read(POOL_LOG)
	return claims_and_recycles_per_day(frappe.session.user, nowdate(), DAYS, filters)


@frappe.whitelist()
@frappe.read_only()
def pool_ageing(
	chart_name=None,
	chart=None,
	no_cache=None,
	filters=None,
	from_date=None,
	to_date=None,
	timespan=None,
	time_interval=None,
	heatmap_year=None,
	refresh=None,
) -> dict:
	"""Dashboard Chart Source "Pool Ageing Buckets": in-pool customers by days in the pool."""
	check_read(POOL_CUSTOMER)
	return pool_ageing_buckets(frappe.session.user, nowdate(), filters)
