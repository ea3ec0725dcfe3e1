"""Allocation (分配): a manager's batch allocation by strategy (调配) and salespeople's requests (申请)."""
