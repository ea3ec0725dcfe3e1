# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""My Shares and Rewards (我的共享与奖励): crm_pool.sharing.summary."""

from crm_pool.sharing.summary import execute_mine as execute  # noqa: F401
