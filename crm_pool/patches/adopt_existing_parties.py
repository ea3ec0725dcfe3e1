"""Sites that had Leads and Customers before crm_pool get a Pool Customer for each (set-based)."""

from frappe.utils.fixtures import sync_fixtures

from crm_pool.pool.adopt import adopt_existing


def execute():
	sync_fixtures("crm_pool")  # the party's pool_customer link field; fixtures sync after patches
	adopt_existing()
