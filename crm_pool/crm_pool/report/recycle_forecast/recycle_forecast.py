# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Recycle Forecast (回收预测): crm_pool.insight.forecast."""

from crm_pool.insight.forecast import execute  # noqa: F401
