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

doc_events = {
	"Lead": {
		"before_validate": ["crm_pool.pool.intake.validate_party"],
		"after_insert": ["crm_pool.pool.intake.lead_after_insert"],
		"on_update": ["crm_pool.pool.intake.sync_pool_customer"],
	},
	"Customer": {
		"before_validate": ["crm_pool.pool.intake.validate_party"],
		"after_insert": ["crm_pool.pool.intake.customer_after_insert"],
		"on_update": ["crm_pool.pool.intake.sync_pool_customer"],
	},
}
