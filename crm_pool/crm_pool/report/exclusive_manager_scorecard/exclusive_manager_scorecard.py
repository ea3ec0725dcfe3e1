# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Exclusive Manager Scorecard (专属经理考核): crm_pool.grading.scorecard."""

from crm_pool.grading.scorecard import execute  # noqa: F401
