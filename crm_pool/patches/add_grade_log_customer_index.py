"""Insight (数据分析): the Customer Grade Log's (pool_customer, at) index of Grade Movement for a sales
user, on sites installed before it (a new site gets it from the doctype's on_doctype_update)."""

from crm_pool.insight.indexes import add_grade_log_indexes


def execute() -> None:
	add_grade_log_indexes()
