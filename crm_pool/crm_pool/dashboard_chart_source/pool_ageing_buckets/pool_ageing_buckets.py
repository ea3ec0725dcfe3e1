# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Dashboard Chart Source "Pool Ageing Buckets": its `get` lives in crm_pool.insight.charts (scoped to the viewer)."""

from crm_pool.insight.charts import pool_ageing as get  # noqa: F401
