"""Sites that had Leads and Customers before crm_pool get a Pool Customer for each (set-based)."""

from frappe.utils.fixtures import sync_fixtures

from crm_pool.pool.adopt import adopt_existing


def execute():
	# Post-model-sync patches run before `bench migrate` syncs fixtures: the Custom Fields that
	# adoption fills (Lead/Customer.pool_customer) must exist first.
	sync_fixtures("crm_pool")
	adopt_existing()
