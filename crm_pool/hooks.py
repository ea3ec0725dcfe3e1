app_name = "crm_pool"
app_title = "CRM Pool"
app_publisher = "crm_pool developers"
app_description = "Customer resource pools (公海), allocation, ownership and grading for ERPNext"
app_email = "dev@crm-pool.invalid"
app_license = "MIT"
required_apps = ["frappe/erpnext"]

# Records shipped with the app; admins may change them on their site (one file per DocType in
# fixtures/): the role, the Custom Fields on Lead/Customer, and the three approval Workflows —
# intake review (审核), allocation requests (申请) and ownership transfers (调整).
fixtures = [
	{"dt": "Role", "filters": [["role_name", "in", ["Pool Manager"]]]},
	{
		"dt": "Custom Field",
		"filters": [
			["name", "in", ["Lead-uscc", "Lead-pool_customer", "Customer-uscc", "Customer-pool_customer"]]
		],
	},
	{
		"dt": "Workflow State",
		"filters": [
			["name", "in", ["Pending", "Approved", "Rejected", "Draft", "Pending Approval", "Cancelled"]]
		],
	},
	{
		"dt": "Workflow Action Master",
		"filters": [["name", "in", ["Approve", "Reject", "Submit for Approval", "Cancel"]]],
	},
	{
		"dt": "Workflow",
		"filters": [
			["name", "in", ["Pool Customer Review", "Pool Allocation Request", "Ownership Transfer"]]
		],
	},
]

after_install = "crm_pool.setup.install.after_install"

# --- ownership (claim, release, assign, lock) and record-level access ---------------------------
app_include_js = [
	"/assets/crm_pool/js/pool_actions.js",
	"/assets/crm_pool/js/transfer_actions.js",
	"/assets/crm_pool/js/pool_allocation.js",
]

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

# --- doc_events: intake (收集), ownership (归属) and follow-up tracking (跟进) -------------------------
doc_events = {
	"Lead": {
		"before_validate": ["crm_pool.pool.intake.validate_party"],
		"validate": ["crm_pool.pool.ownership.guard_party_owner"],
		"after_insert": ["crm_pool.pool.intake.lead_after_insert"],
		"on_update": ["crm_pool.pool.intake.sync_pool_customer", "crm_pool.pool.followup.on_notes_parent"],
	},
	"Customer": {
		"before_validate": ["crm_pool.pool.intake.validate_party"],
		"validate": ["crm_pool.pool.ownership.guard_party_owner"],
		"after_insert": ["crm_pool.pool.intake.customer_after_insert"],
		"on_update": ["crm_pool.pool.intake.sync_pool_customer"],
	},
	"Prospect": {"on_update": ["crm_pool.pool.followup.on_notes_parent"]},
	"Communication": {"on_update": ["crm_pool.pool.followup.on_communication"]},
	"Comment": {"on_update": ["crm_pool.pool.followup.on_comment"]},
	"Event": {"on_update": ["crm_pool.pool.followup.on_event"]},
	"ToDo": {"on_update": ["crm_pool.pool.followup.on_todo"]},
	"Opportunity": {"on_update": ["crm_pool.pool.followup.on_opportunity"]},
	"Quotation": {"on_update": ["crm_pool.pool.followup.on_quotation"]},
	"Sales Order": {"on_submit": ["crm_pool.pool.followup.on_deal"]},
	"Sales Invoice": {"on_submit": ["crm_pool.pool.followup.on_deal"]},
	"Customer Pool": {"on_update": ["crm_pool.pool.followup.on_pool_update"]},
}

# --- recycle (回收): the daily job sends reminders, then returns due customers to the pool ---------
scheduler_events = {
	"daily": ["crm_pool.pool.recycle.run_daily"],
}

# --- transfer (调整 · 交接), ownership conflicts (撞单), collaborators, leaving staff ------------------
doc_events["User"] = {"on_update": ["crm_pool.pool.transfer.on_user_update"]}
doc_events["Employee"] = {"on_update": ["crm_pool.pool.transfer.on_employee_update"]}
# 撞单 at follow-up: a salesperson creating these for a customer someone else owns
for _doctype in ("Opportunity", "Quotation", "Event", "Communication"):
	doc_events[_doctype]["after_insert"] = ["crm_pool.pool.conflicts.on_followup_insert"]

# --- allocation (分配): requests (申请) with their Workflow, and manager allocation (调配) -----------
doctype_list_js = {"Pool Customer": "public/js/pool_board_allocation.js"}

# --- issue 8 · inputs: no tracebacks to users (crm_pool.setup.errors); arguments of whitelisted
# methods and free text are checked in crm_pool.pool.inputs ------------------------------------------
before_request = ["crm_pool.setup.errors.hide_traceback"]
