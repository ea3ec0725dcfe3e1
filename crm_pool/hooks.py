app_name = "crm_pool"
app_title = "CRM Pool"
app_publisher = "crm_pool developers"
app_description = "Customer resource pools (公海), allocation, ownership and grading for ERPNext"
app_email = "dev@crm-pool.invalid"
app_license = "MIT"
required_apps = ["frappe/erpnext"]

# Records shipped with the app; admins may change them on their site.
fixtures = [
	{"dt": "Role", "filters": [["role_name", "in", ["Pool Manager"]]]},
]

after_install = "crm_pool.setup.install.after_install"

# --- intake (收集): Custom Fields, the review Workflow, and the Lead / Customer hooks ---------------
fixtures += [
	{
		"dt": "Custom Field",
		"filters": [
			["name", "in", ["Lead-uscc", "Lead-pool_customer", "Customer-uscc", "Customer-pool_customer"]]
		],
	},
	{"dt": "Workflow State", "filters": [["name", "in", ["Pending", "Approved", "Rejected"]]]},
	{"dt": "Workflow Action Master", "filters": [["name", "in", ["Approve", "Reject"]]]},
	{"dt": "Workflow", "filters": [["name", "in", ["Pool Customer Review"]]]},
]

# --- ownership (claim, release, assign, lock) and record-level access ---------------------------
app_include_js = ["/assets/crm_pool/js/pool_actions.js"]

doctype_js = {
	"Lead": "public/js/party_pool_status.js",
	"Customer": "public/js/party_pool_status.js",
}

permission_query_conditions = {
	"Pool Customer": "crm_pool.pool.permissions.pool_customer_query",
	"Pool Log": "crm_pool.pool.permissions.pool_log_query",
	"Lead": "crm_pool.pool.permissions.lead_query",
	"Customer": "crm_pool.pool.permissions.customer_query",
}

has_permission = {
	"Pool Customer": "crm_pool.pool.permissions.has_pool_customer_permission",
	"Pool Log": "crm_pool.pool.permissions.has_pool_log_permission",
	"Lead": "crm_pool.pool.permissions.has_party_permission",
	"Customer": "crm_pool.pool.permissions.has_party_permission",
}

# --- doc_events: intake (收集) and ownership (归属) on ERPNext's parties ---------------------------
doc_events = {
	"Lead": {
		"before_validate": ["crm_pool.pool.intake.validate_party"],
		"validate": ["crm_pool.pool.ownership.guard_party_owner"],
		"after_insert": ["crm_pool.pool.intake.lead_after_insert"],
		"on_update": ["crm_pool.pool.intake.sync_pool_customer"],
	},
	"Customer": {
		"before_validate": ["crm_pool.pool.intake.validate_party"],
		"validate": ["crm_pool.pool.ownership.guard_party_owner"],
		"after_insert": ["crm_pool.pool.intake.customer_after_insert"],
		"on_update": ["crm_pool.pool.intake.sync_pool_customer"],
	},
}

# --- allocation (分配): requests (申请) with their Workflow, and manager allocation (调配) -----------
# The Workflow fixtures above are exported per DocType, one file each: add this block's records to
# their filters instead of adding second entries (a second entry would overwrite the first's file).
_ALLOCATION_FIXTURES = {
	"Workflow State": ["Draft", "Pending Approval", "Cancelled"],
	"Workflow Action Master": ["Submit for Approval", "Cancel"],
	"Workflow": ["Pool Allocation Request"],
}
for _fixture in fixtures:
	if isinstance(_fixture, dict) and _fixture.get("dt") in _ALLOCATION_FIXTURES:
		_fixture["filters"][0][2] = [*_fixture["filters"][0][2], *_ALLOCATION_FIXTURES[_fixture["dt"]]]

app_include_js = [*app_include_js, "/assets/crm_pool/js/pool_allocation.js"]
doctype_list_js = {"Pool Customer": "public/js/pool_board_allocation.js"}
