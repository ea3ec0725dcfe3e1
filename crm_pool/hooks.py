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

# --- issue 8, masks (masks): hidden fields stay out of list queries' filters and sort; pool masks --
# Frappe v15 drops hidden (permlevel) fields from a list query's columns but not from its filters,
# sort or grouping: crm_pool.pool.query_guard refuses those (installed before each request and job).
before_request = [*globals().get("before_request", []), "crm_pool.pool.query_guard.install"]
before_job = [*globals().get("before_job", []), "crm_pool.pool.query_guard.install"]
# frappe.client.get_count counts without any permission in Frappe v15: count what the user may read.
override_whitelisted_methods = {
	**globals().get("override_whitelisted_methods", {}),
	"frappe.client.get_count": "crm_pool.pool.query_guard.get_count",
}
# A pool's mask_mobile / mask_email / mask_address apply to its customers' contact copies at once.
doc_events["Customer Pool"]["on_update"] = [
	*doc_events["Customer Pool"]["on_update"],
	"crm_pool.pool.intake.on_pool_masks_change",
]

# --- contact data follows its party (issue 8): Contact, Address, Opportunity, Quotation, Prospect,
# and the selling documents that copy a Customer's contact (Sales Order, Delivery Note, Installation Note)
# See crm_pool/pool/contact_access.py for the rules; global search, PDF and print are wrapped
# (results filtered by permission; prints logged in Access Log).
permission_query_conditions.update(
	{
		"Contact": "crm_pool.pool.contact_access.contact_query",
		"Address": "crm_pool.pool.contact_access.address_query",
		"Contact Phone": "crm_pool.pool.contact_access.contact_phone_query",
		"Contact Email": "crm_pool.pool.contact_access.contact_email_query",
		"Dynamic Link": "crm_pool.pool.contact_access.dynamic_link_query",
		"Prospect": "crm_pool.pool.contact_access.prospect_query",
		"Prospect Lead": "crm_pool.pool.contact_access.prospect_lead_query",
		"Opportunity": "crm_pool.pool.contact_access.opportunity_query",
		"Quotation": "crm_pool.pool.contact_access.quotation_query",
		"Sales Order": "crm_pool.pool.contact_access.sales_order_query",
		"Delivery Note": "crm_pool.pool.contact_access.delivery_note_query",
		"Installation Note": "crm_pool.pool.contact_access.installation_note_query",
	}
)
has_permission.update(
	{
		"Contact": "crm_pool.pool.contact_access.has_contact_permission",
		"Address": "crm_pool.pool.contact_access.has_contact_permission",
		"Prospect": "crm_pool.pool.contact_access.has_party_document_permission",
		"Opportunity": "crm_pool.pool.contact_access.has_party_document_permission",
		"Quotation": "crm_pool.pool.contact_access.has_party_document_permission",
		"Sales Order": "crm_pool.pool.contact_access.has_party_document_permission",
		"Delivery Note": "crm_pool.pool.contact_access.has_party_document_permission",
		"Installation Note": "crm_pool.pool.contact_access.has_party_document_permission",
	}
)
for _doctype in ("Contact", "Address"):
	doc_events.setdefault(_doctype, {})["before_validate"] = ["crm_pool.pool.contact_access.guard_links"]
# other blocks may define overrides too: add to them
override_whitelisted_methods = globals().get("override_whitelisted_methods", {})
override_whitelisted_methods.update(
	{
		"frappe.utils.global_search.search": "crm_pool.pool.contact_access.global_search",
		"frappe.utils.print_format.download_pdf": "crm_pool.pool.contact_access.download_pdf",
		"frappe.utils.print_format.download_multi_pdf": "crm_pool.pool.contact_access.download_multi_pdf",
		"frappe.www.printview.get_html_and_style": "crm_pool.pool.contact_access.get_html_and_style",
	}
)
after_migrate = [
	*globals().get("after_migrate", []),
	"crm_pool.pool.contact_access.allow_managers_to_read_access_log",
]
# --- ERPNext's whitelisted methods that read or copy a party's data (issue 8, SPEC §7) ------------
# Each original is answered by a guard in crm_pool.pool.erpnext_guards with the same signature: it
# checks the caller's permission on the Lead/Prospect/Customer (or the document naming one), then
# calls the original. map_docs and the search `query` are routed through these overrides too.
_guards = "crm_pool.pool.erpnext_guards."
override_whitelisted_methods |= {
	"erpnext.crm.doctype.lead.lead.get_lead_details": _guards + "get_lead_details",
	"erpnext.crm.doctype.lead.lead.make_customer": _guards + "lead_make_customer",
	"erpnext.crm.doctype.lead.lead.make_opportunity": _guards + "lead_make_opportunity",
	"erpnext.crm.doctype.lead.lead.make_quotation": _guards + "lead_make_quotation",
	"erpnext.crm.doctype.lead.lead.add_lead_to_prospect": _guards + "add_lead_to_prospect",
	"erpnext.crm.doctype.lead.lead.make_lead_from_communication": _guards + "make_lead_from_communication",
	"erpnext.crm.doctype.prospect.prospect.make_customer": _guards + "prospect_make_customer",
	"erpnext.crm.doctype.prospect.prospect.make_opportunity": _guards + "prospect_make_opportunity",
	"erpnext.crm.doctype.prospect.prospect.get_opportunities": _guards + "get_opportunities",
	"erpnext.crm.doctype.opportunity.opportunity.make_quotation": _guards + "opportunity_make_quotation",
	"erpnext.crm.doctype.opportunity.opportunity.make_customer": _guards + "opportunity_make_customer",
	"erpnext.crm.doctype.opportunity.opportunity.make_request_for_quotation": _guards
	+ "make_request_for_quotation",
	"erpnext.crm.doctype.opportunity.opportunity.make_supplier_quotation": _guards
	+ "make_supplier_quotation",
	"erpnext.crm.doctype.opportunity.opportunity.make_opportunity_from_communication": _guards
	+ "make_opportunity_from_communication",
	"erpnext.crm.doctype.utils.get_last_interaction": _guards + "get_last_interaction",
	"erpnext.crm.utils.get_open_activities": _guards + "get_open_activities",
	"erpnext.selling.doctype.customer.customer.make_quotation": _guards + "customer_make_quotation",
	"erpnext.selling.doctype.customer.customer.make_opportunity": _guards + "customer_make_opportunity",
	"erpnext.selling.doctype.customer.customer.get_customer_primary_contact": _guards
	+ "get_customer_primary_contact",
	"erpnext.selling.page.point_of_sale.point_of_sale.set_customer_info": _guards + "set_customer_info",
	"erpnext.selling.doctype.quotation.quotation.make_sales_order": _guards + "quotation_make_sales_order",
	"erpnext.selling.doctype.quotation.quotation.make_sales_invoice": _guards
	+ "quotation_make_sales_invoice",
	"erpnext.selling.doctype.sales_order.sales_order.make_sales_invoice": _guards
	+ "sales_order_make_sales_invoice",
	"erpnext.accounts.party.get_party_details": _guards + "get_party_details",
	"frappe.contacts.doctype.contact.contact.get_contact_details": _guards + "get_contact_details",
	"frappe.contacts.doctype.contact.contact.contact_query": _guards + "contact_query",
	"frappe.contacts.doctype.address.address.get_address_display": _guards + "get_address_display",
	"frappe.contacts.doctype.address.address.get_default_address": _guards + "get_default_address",
	"frappe.contacts.doctype.address.address.address_query": _guards + "address_query",
	"frappe.model.mapper.map_docs": _guards + "map_docs",
	"frappe.desk.search.search_link": _guards + "search_link",
	"frappe.desk.search.search_widget": _guards + "search_widget",
}
# Lead → Prospect by saving a Prospect with Lead rows (the Lead form's Create › Prospect)
doc_events["Prospect"].setdefault("validate", []).append(_guards + "check_prospect_leads")
# --- issue 8, races and merges: a Lead/Customer renamed or merged keeps one Pool Customer ---------
for _doctype in ("Lead", "Customer"):
	doc_events[_doctype].setdefault("before_rename", []).append("crm_pool.pool.merge.before_party_rename")
	doc_events[_doctype].setdefault("after_rename", []).append("crm_pool.pool.merge.after_party_rename")
# --- issue 8 · audited paths: a Frappe share never opens a customer nobody owns (see
# crm_pool.pool.permissions.guard_share; shares and assignments end with ownership) ---------------
doc_events.setdefault("DocShare", {}).setdefault("validate", []).append(
	"crm_pool.pool.permissions.guard_share"
)
# --- issue 8 · inputs: no tracebacks to users (crm_pool.setup.errors); arguments of whitelisted
# methods and free text are checked in crm_pool.pool.inputs ------------------------------------------
before_request = [*before_request, "crm_pool.setup.errors.hide_traceback"]

# --- issue 8 · reports: Script/Query Report rows naming a customer the user may not read are dropped
# (Frappe filters report rows by User Permissions only; crm_pool.pool.report_guard) ------------------
before_request = [*before_request, "crm_pool.pool.report_guard.install"]
before_job = [*before_job, "crm_pool.pool.report_guard.install"]
