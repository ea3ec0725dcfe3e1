# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Referral Reward Summary (推荐奖励汇总): crm_pool.sharing.summary."""

from crm_pool.sharing.summary import execute_summary as execute  # noqa: F401
