"""Insight (数据分析): the Pool Log's (action, at) index of the workspace's counts, on sites installed
before it (a new site gets it from Pool Log's on_doctype_update)."""

from crm_pool.crm_pool.doctype.pool_log.pool_log import on_doctype_update


def execute() -> None:
	on_doctype_update()
