# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Pool Ageing (公海账龄): crm_pool.insight.ageing."""

from crm_pool.insight.ageing import execute  # noqa: F401
