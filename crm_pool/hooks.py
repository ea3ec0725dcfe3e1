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
