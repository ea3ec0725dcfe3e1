# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Grade Movement (等级变动): crm_pool.insight.grades."""

from crm_pool.insight.grades import execute  # noqa: F401
