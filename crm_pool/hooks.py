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

# --- recycle: follow-up tracking (last follow-up / last deal), daily recycle and reminders ---------
doc_events = {
	"Communication": {"on_update": ["crm_pool.pool.followup.on_communication"]},
	"Comment": {"on_update": ["crm_pool.pool.followup.on_comment"]},
	"Event": {"on_update": ["crm_pool.pool.followup.on_event"]},
	"ToDo": {"on_update": ["crm_pool.pool.followup.on_todo"]},
	"Lead": {"on_update": ["crm_pool.pool.followup.on_notes_parent"]},
	"Prospect": {"on_update": ["crm_pool.pool.followup.on_notes_parent"]},
	"Opportunity": {"on_update": ["crm_pool.pool.followup.on_opportunity"]},
	"Quotation": {"on_update": ["crm_pool.pool.followup.on_quotation"]},
	"Sales Order": {"on_submit": ["crm_pool.pool.followup.on_deal"]},
	"Sales Invoice": {"on_submit": ["crm_pool.pool.followup.on_deal"]},
	"Customer Pool": {"on_update": ["crm_pool.pool.followup.on_pool_update"]},
}

scheduler_events = {
	"daily": ["crm_pool.pool.recycle.run_daily"],
}
