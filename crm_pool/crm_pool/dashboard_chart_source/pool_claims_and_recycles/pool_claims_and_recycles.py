# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Dashboard Chart Source "Pool Claims and Recycles": its `get` lives in crm_pool.insight.charts (scoped to the viewer)."""

from crm_pool.insight.charts import claims_and_recycles as get  # noqa: F401
