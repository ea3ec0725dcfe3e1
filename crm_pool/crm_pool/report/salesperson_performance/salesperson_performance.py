# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Salesperson Performance (销售业绩分析): crm_pool.insight.performance."""

from crm_pool.insight.performance import execute  # noqa: F401
