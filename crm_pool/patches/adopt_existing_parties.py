"""Sites that had Leads and Customers before crm_pool get a Pool Customer for each (set-based)."""

from crm_pool.pool.adopt import adopt_existing


def execute():
	adopt_existing()
