# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Ownership History (归属历史): crm_pool.insight.history."""

from crm_pool.insight.history import execute  # noqa: F401
