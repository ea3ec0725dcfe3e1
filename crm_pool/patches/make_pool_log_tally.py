"""Insight (数据分析): the Pool Log Tally of the entries written before it existed (from then on, the
entries are tallied as they are written), and without the wide index the reports of a period read
before (`insight_log_window`: every entry of the period; ten indexes cost every write of the log)."""

import frappe

from crm_pool.core.log import rebuild_tally


def execute() -> None:
	if frappe.db.has_index("tabPool Log", "insight_log_window"):
		frappe.db.sql_ddl("ALTER TABLE `tabPool Log` DROP INDEX `insight_log_window`")
	rebuild_tally()
