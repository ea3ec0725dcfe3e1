"""Frappe's own number cards and charts read from the site's MariaDB replica when it has one.

Frappe v15 runs reports under `frappe.read_only()` (`frappe.desk.query_report.run`): with
`read_from_replica` in the site's config (scripts/replica sets it) their queries go to the replica at
`replica_host`:`replica_db_port`. The workspace's custom cards and chart sources are read-only too
(`insight.cards`, `insight.charts`). Frappe's widget methods for "Document Type" number cards
(`number_card.get_result`) and "Group By" / "Count" / "Sum" charts (`dashboard_chart.get`) are not:
hooks.py points them here (`override_whitelisted_methods`), the same methods with the same
signatures, under `frappe.read_only()`.

A chart's `cache_source` records the chart's `last_synced_on` unless `frappe.flags.read_only`; on the
replica (read-only for the site's user) that write would fail, so the flag is set while a chart runs
there: the cached result is kept, the time of its last refresh is not.
"""

from __future__ import annotations

import frappe
from frappe.desk.doctype.dashboard_chart import dashboard_chart
from frappe.desk.doctype.number_card import number_card


@frappe.whitelist()
@frappe.read_only()
def number_card_result(doc, filters, to_date=None):
	"""`number_card.get_result` (a "Document Type" card's count or sum) on the replica."""
	return number_card.get_result(doc, filters, to_date)


@frappe.whitelist()
def dashboard_chart_get(
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
):
	"""`dashboard_chart.get` (a "Group By", "Count", "Sum"... chart) on the replica."""
	args = {
		"chart_name": chart_name,
		"chart": chart,
		"no_cache": no_cache,
		"filters": filters,
		"from_date": from_date,
		"to_date": to_date,
		"timespan": timespan,
		"time_interval": time_interval,
		"heatmap_year": heatmap_year,
		"refresh": refresh,
	}
	if not frappe.conf.read_from_replica:
		return dashboard_chart.get(**args)
	return _chart_on_replica(args)


@frappe.read_only()
def _chart_on_replica(args: dict):
	was_read_only = frappe.flags.read_only
	frappe.flags.read_only = True  # no `last_synced_on` write (see the module's docstring)
	try:
		return dashboard_chart.get(**args)
	finally:
		frappe.flags.read_only = was_read_only
