app_name = "crm_pool"
app_title = "CRM Pool"
app_publisher = "crm_pool developers"
app_description = "Customer resource pools (公海), allocation, ownership and grading for ERPNext"
app_email = "dev@crm-pool.invalid"
app_license = "MIT"
required_apps = ["frappe/erpnext"]

# Every whitelisted method of the app is typed (enforced by crm_pool.api.args.api_method on Frappe
# v15; by Frappe itself from v16).
require_type_annotated_api_methods = True

# Records shipped with the app; admins may change them on their site (one file per DocType in
# fixtures/): the role, the Custom Fields on Lead/Customer, and the three approval Workflows —
# intake review (审核), allocation requests (申请) and ownership transfers (调整).
fixtures = [
	{"dt": "Role", "filters": [["role_name", "in", ["Pool Manager"]]]},
	{
		"dt": "Custom Field",
		"filters": [
			[
				"name",
				"in",
				[
					"Lead-uscc",
					"Lead-pool_customer",
					"Customer-uscc",
					"Customer-pool_customer",
					"Customer-potential_score",
					"Journal Entry-referral_reward",  # sharing: the reward a Journal Entry pays
				],
			]
		],
	},
	{
		"dt": "Workflow State",
		"filters": [
			[
				"name",
				"in",
				# sharing: Submitted and Paid of the referral reward's Workflow
				[
					"Pending",
					"Approved",
					"Rejected",
					"Draft",
					"Pending Approval",
					"Cancelled",
					"Submitted",
					"Paid",
				],
			]
		],
	},
	{
		"dt": "Workflow Action Master",
		"filters": [["name", "in", ["Approve", "Reject", "Submit for Approval", "Cancel", "Submit", "Pay"]]],
	},
	{
		"dt": "Workflow",
		"filters": [
			[
				"name",
				"in",
				[
					"Pool Customer Review",
					"Pool Allocation Request",
					"Ownership Transfer",
					"Customer Grade Override",
					"Referral Reward",  # sharing: approval and payment of referral rewards (推荐奖励)
				],
			]
		],
	},
	# grading's service (SPEC §4): the working calendar and one Service Level Agreement per grade
	{"dt": "Holiday List", "filters": [["name", "in", ["CRM Pool Service Holidays"]]]},
	{
		"dt": "Service Level Agreement",
		"filters": [["name", "in", ["SLA-Issue-Grade A", "SLA-Issue-Grade B", "SLA-Issue-Grade C"]]],
	},
	# (sharing's seed rules of 危废处置 and 检测 are not fixtures: Frappe re-imports fixtures on every
	# migrate, which would undo a manager's changes; crm_pool.sharing.rules.ensure_seed_rules adds the
	# missing ones from crm_pool/sharing/seed_rules.json)
]

after_install = "crm_pool.setup.install.after_install"
# the setup wizard makes the company and ERPNext's trees (Item Group…) the set-up below needs
setup_wizard_complete = "crm_pool.setup.install.after_setup_wizard"
after_migrate = [
	"crm_pool.access.contacts.allow_managers_to_read_access_log",
	"crm_pool.setup.install.setup_service",  # Issue fields and access, the grade service policy
]

# --- the desk: pool actions on Lead, Customer and Pool Customer; allocation and transfer dialogs ---
app_include_js = [
	"/assets/crm_pool/js/pool_actions.js",
	"/assets/crm_pool/js/transfer_actions.js",
	"/assets/crm_pool/js/pool_allocation.js",
]
doctype_js = {
	"Lead": "public/js/party_pool_status.js",
	"Customer": "public/js/party_pool_status.js",
}
doctype_list_js = {"Pool Customer": "public/js/pool_board_allocation.js"}

# --- documents: each doctype's events, the capability that handles them in the comment --------------
doc_events = {
	"Lead": {
		"before_validate": ["crm_pool.transfer.conflicts.check_party"],  # intake (dedupe), then 撞单
		"validate": ["crm_pool.pool.ownership.guard_party_owner"],  # owner changes are claims/assignments
		"after_insert": ["crm_pool.pool.intake.lead_after_insert"],  # enters its pool
		"on_update": [
			"crm_pool.pool.intake.sync_pool_customer",  # profile follows the party
			"crm_pool.pool.followup.on_notes_parent",  # CRM Notes are follow-ups
		],
		"before_rename": ["crm_pool.transfer.merge.before_party_rename"],
		"after_rename": ["crm_pool.transfer.merge.after_party_rename"],
	},
	"Customer": {
		"before_validate": ["crm_pool.transfer.conflicts.check_party"],
		"validate": ["crm_pool.pool.ownership.guard_party_owner"],
		"after_insert": ["crm_pool.pool.intake.customer_after_insert"],  # takes over its Lead's
		"on_update": ["crm_pool.pool.intake.sync_pool_customer"],
		"before_rename": ["crm_pool.transfer.merge.before_party_rename"],
		"after_rename": ["crm_pool.transfer.merge.after_party_rename"],
	},
	"Prospect": {
		"validate": ["crm_pool.access.erpnext_guards.check_prospect_leads"],  # Lead → Prospect rows
		"on_update": ["crm_pool.pool.followup.on_notes_parent"],
	},
	# follow-up (跟进) resets the recycle clock; a non-owner's follow-up is an ownership conflict
	"Communication": {
		"on_update": ["crm_pool.pool.followup.on_communication"],
		"after_insert": ["crm_pool.transfer.conflicts.on_followup_insert"],
	},
	"Comment": {"on_update": ["crm_pool.pool.followup.on_comment"]},
	"Event": {
		"on_update": ["crm_pool.pool.followup.on_event"],
		"after_insert": ["crm_pool.transfer.conflicts.on_followup_insert"],
	},
	"ToDo": {"on_update": ["crm_pool.pool.followup.on_todo"]},
	"Opportunity": {
		"on_update": ["crm_pool.pool.followup.on_opportunity"],
		"after_insert": ["crm_pool.transfer.conflicts.on_followup_insert"],
	},
	"Quotation": {
		"validate": ["crm_pool.sharing.shares.guard_quotation"],  # sharing: the line's staff quote it
		"on_update": ["crm_pool.pool.followup.on_quotation"],
		"after_insert": ["crm_pool.transfer.conflicts.on_followup_insert"],
	},
	"Sales Order": {"on_submit": ["crm_pool.pool.followup.on_deal"]},
	"Sales Invoice": {"on_submit": ["crm_pool.pool.followup.on_deal"]},
	# leaving staff (离职): a draft transfer of everything they own
	"User": {"on_update": ["crm_pool.transfer.leaving.on_user_update"]},
	"Employee": {"on_update": ["crm_pool.transfer.leaving.on_employee_update"]},
	# access: contacts follow their party; a share never opens a customer nobody owns
	"Contact": {"before_validate": ["crm_pool.access.contacts.guard_links"]},
	"Address": {"before_validate": ["crm_pool.access.contacts.guard_links"]},
	"DocShare": {"validate": ["crm_pool.access.permissions.guard_share"]},
	# grading's service: exclusive manager by default; complaints under their grade's SLA
	"Pool Customer": {"validate": ["crm_pool.grading.managers.on_pool_customer_validate"]},
	"Issue": {
		"before_validate": ["crm_pool.grading.complaints.issue_before_validate"],  # before ERPNext's SLA
		"after_insert": ["crm_pool.grading.complaints.issue_after_insert"],  # the manager is told
	},
	# sharing: a Journal Entry of a referral reward pays it (one per reward); cancelled, reopens it
	"Journal Entry": {
		"validate": ["crm_pool.sharing.payout.journal_entry_validate"],
		"on_submit": ["crm_pool.sharing.payout.journal_entry_on_submit"],
		"on_cancel": ["crm_pool.sharing.payout.journal_entry_on_cancel"],
	},
}

# --- pool (公海): recycling, daily: reminders first, then due customers return to the pool ----------
scheduler_events = {
	"daily": [
		"crm_pool.pool.recycle.run_daily",
		"crm_pool.grading.regrade.run_daily",  # only when an applied grade override has expired
		"crm_pool.grading.visits.run_daily",  # exclusive managers by default, return visits (回访)
	],
	"hourly": ["crm_pool.grading.complaints.check_breaches"],  # complaint SLA breaches
	"monthly": [
		"crm_pool.grading.regrade.run_monthly",  # grading (客户分级): everyone regraded
		"crm_pool.sharing.rewards.run_monthly",  # sharing: last month's referral rewards (drafts)
	],
}

# --- events of the pool for the capabilities above it (crm_pool.core.events) -----------------------
# Owners of pool customers changed (write_owners) or a Lead became a Customer (convert_to_customer).
crm_pool_owners_changed = ["crm_pool.sharing.shares.follow"]  # sharing: shares follow their customer
# What a claim reads under its customer's lock for them (alias: function returning SQL over `pc`),
# given back to them as `known` on crm_pool_owners_changed.
crm_pool_claim_reads = {"open_shares": "crm_pool.sharing.shares.open_shares_sql"}  # anything to follow?

# --- access (SPEC §7): who reads which customer, through every path -------------------------------
# Record-level rules of the pool's doctypes and the parties (crm_pool.access.permissions), and of the
# doctypes that hold a party's contact data (crm_pool.access.contacts).
permission_query_conditions = {
	"Pool Customer": "crm_pool.access.permissions.pool_customer_query",
	"Pool Log": "crm_pool.access.permissions.pool_log_query",
	"Customer Grade Log": "crm_pool.access.permissions.grade_log_query",
	"Customer Grade Override": "crm_pool.access.permissions.grade_override_query",
	"Lead": "crm_pool.access.permissions.lead_query",
	"Customer": "crm_pool.access.permissions.customer_query",
	"Contact": "crm_pool.access.contacts.contact_query",
	"Address": "crm_pool.access.contacts.address_query",
	"Contact Phone": "crm_pool.access.contacts.contact_phone_query",
	"Contact Email": "crm_pool.access.contacts.contact_email_query",
	"Dynamic Link": "crm_pool.access.contacts.dynamic_link_query",
	"Prospect": "crm_pool.access.contacts.prospect_query",
	"Prospect Lead": "crm_pool.access.contacts.prospect_lead_query",
	"Opportunity": "crm_pool.access.contacts.opportunity_query",
	"Quotation": "crm_pool.access.contacts.quotation_query",
	"Sales Order": "crm_pool.access.contacts.sales_order_query",
	"Delivery Note": "crm_pool.access.contacts.delivery_note_query",
	"Installation Note": "crm_pool.access.contacts.installation_note_query",
	"Return Visit": "crm_pool.grading.visits.return_visit_query",
	"Issue": "crm_pool.grading.complaints.issue_query",
	"Referral Reward": "crm_pool.sharing.payout.reward_query",  # sharing: the sharer, managers, accounts
	"Referral Reward Line": "crm_pool.sharing.payout.reward_line_query",  # its evidence read on its own
	"Customer Share": "crm_pool.sharing.shares.share_query",  # sharing: sharer, managers, owner
}
has_permission = {
	"Pool Customer": "crm_pool.access.permissions.has_pool_customer_permission",
	"Pool Log": "crm_pool.access.permissions.has_pool_log_permission",
	"Customer Grade Log": "crm_pool.access.permissions.has_grade_log_permission",
	"Customer Grade Override": "crm_pool.access.permissions.has_grade_override_permission",
	"Lead": "crm_pool.access.permissions.has_party_permission",
	"Customer": "crm_pool.access.permissions.has_party_permission",
	"Contact": "crm_pool.access.contacts.has_contact_permission",
	"Address": "crm_pool.access.contacts.has_contact_permission",
	"Prospect": "crm_pool.access.contacts.has_party_document_permission",
	"Opportunity": "crm_pool.access.contacts.has_party_document_permission",
	"Quotation": "crm_pool.access.contacts.has_party_document_permission",
	"Sales Order": "crm_pool.access.contacts.has_party_document_permission",
	"Delivery Note": "crm_pool.access.contacts.has_party_document_permission",
	"Installation Note": "crm_pool.access.contacts.has_party_document_permission",
	"Return Visit": "crm_pool.grading.visits.has_return_visit_permission",
	"Issue": "crm_pool.grading.complaints.has_issue_permission",
	"Referral Reward": "crm_pool.sharing.payout.has_reward_permission",  # sharing
	"Customer Share": "crm_pool.sharing.shares.has_share_permission",  # sharing
}
# Frappe v15 filters list queries on hidden (permlevel) fields and report rows by User Permissions
# only: the query and report guards close both (installed before each request and job); users never
# get a traceback (crm_pool.setup.errors).
before_request = [
	"crm_pool.access.query_guard.install",
	"crm_pool.setup.errors.hide_traceback",
	"crm_pool.access.report_guard.install",
]
before_job = ["crm_pool.access.query_guard.install", "crm_pool.access.report_guard.install"]
# Frappe's and ERPNext's whitelisted methods that read or copy a party's data: each is answered by a
# guard with the original's signature that checks the caller's permission, then calls the original
# (crm_pool.access.erpnext_guards; the table is in the README, "ERPNext methods guarded"). Global
# search drops unreadable results; prints are logged in Access Log; get_count counts what the user
# may read.
override_whitelisted_methods = {
	"frappe.client.get_count": "crm_pool.access.query_guard.get_count",
	"frappe.utils.global_search.search": "crm_pool.access.contacts.global_search",
	"frappe.utils.print_format.download_pdf": "crm_pool.access.contacts.download_pdf",
	"frappe.utils.print_format.download_multi_pdf": "crm_pool.access.contacts.download_multi_pdf",
	"frappe.www.printview.get_html_and_style": "crm_pool.access.contacts.get_html_and_style",
	"erpnext.crm.doctype.lead.lead.get_lead_details": "crm_pool.access.erpnext_guards.get_lead_details",
	"erpnext.crm.doctype.lead.lead.make_customer": "crm_pool.access.erpnext_guards.lead_make_customer",
	"erpnext.crm.doctype.lead.lead.make_opportunity": "crm_pool.access.erpnext_guards.lead_make_opportunity",
	"erpnext.crm.doctype.lead.lead.make_quotation": "crm_pool.access.erpnext_guards.lead_make_quotation",
	"erpnext.crm.doctype.lead.lead.add_lead_to_prospect": "crm_pool.access.erpnext_guards.add_lead_to_prospect",
	"erpnext.crm.doctype.lead.lead.make_lead_from_communication": "crm_pool.access.erpnext_guards.make_lead_from_communication",
	"erpnext.crm.doctype.prospect.prospect.make_customer": "crm_pool.access.erpnext_guards.prospect_make_customer",
	"erpnext.crm.doctype.prospect.prospect.make_opportunity": "crm_pool.access.erpnext_guards.prospect_make_opportunity",
	"erpnext.crm.doctype.prospect.prospect.get_opportunities": "crm_pool.access.erpnext_guards.get_opportunities",
	"erpnext.crm.doctype.opportunity.opportunity.make_quotation": "crm_pool.access.erpnext_guards.opportunity_make_quotation",
	"erpnext.crm.doctype.opportunity.opportunity.make_customer": "crm_pool.access.erpnext_guards.opportunity_make_customer",
	"erpnext.crm.doctype.opportunity.opportunity.make_request_for_quotation": "crm_pool.access.erpnext_guards.make_request_for_quotation",
	"erpnext.crm.doctype.opportunity.opportunity.make_supplier_quotation": "crm_pool.access.erpnext_guards.make_supplier_quotation",
	"erpnext.crm.doctype.opportunity.opportunity.make_opportunity_from_communication": "crm_pool.access.erpnext_guards.make_opportunity_from_communication",
	"erpnext.crm.doctype.utils.get_last_interaction": "crm_pool.access.erpnext_guards.get_last_interaction",
	"erpnext.crm.utils.get_open_activities": "crm_pool.access.erpnext_guards.get_open_activities",
	"erpnext.selling.doctype.customer.customer.make_quotation": "crm_pool.access.erpnext_guards.customer_make_quotation",
	"erpnext.selling.doctype.customer.customer.make_opportunity": "crm_pool.access.erpnext_guards.customer_make_opportunity",
	"erpnext.selling.doctype.customer.customer.get_customer_primary_contact": "crm_pool.access.erpnext_guards.get_customer_primary_contact",
	"erpnext.selling.page.point_of_sale.point_of_sale.set_customer_info": "crm_pool.access.erpnext_guards.set_customer_info",
	"erpnext.selling.doctype.quotation.quotation.make_sales_order": "crm_pool.access.erpnext_guards.quotation_make_sales_order",
	"erpnext.selling.doctype.quotation.quotation.make_sales_invoice": "crm_pool.access.erpnext_guards.quotation_make_sales_invoice",
	"erpnext.selling.doctype.sales_order.sales_order.make_sales_invoice": "crm_pool.access.erpnext_guards.sales_order_make_sales_invoice",
	"erpnext.accounts.party.get_party_details": "crm_pool.access.erpnext_guards.get_party_details",
	"frappe.contacts.doctype.contact.contact.get_contact_details": "crm_pool.access.erpnext_guards.get_contact_details",
	"frappe.contacts.doctype.contact.contact.contact_query": "crm_pool.access.erpnext_guards.contact_query",
	"frappe.contacts.doctype.address.address.get_address_display": "crm_pool.access.erpnext_guards.get_address_display",
	"frappe.contacts.doctype.address.address.get_default_address": "crm_pool.access.erpnext_guards.get_default_address",
	"frappe.contacts.doctype.address.address.address_query": "crm_pool.access.erpnext_guards.address_query",
	"frappe.model.mapper.map_docs": "crm_pool.access.erpnext_guards.map_docs",
	"frappe.desk.search.search_link": "crm_pool.access.erpnext_guards.search_link",
	"frappe.desk.search.search_widget": "crm_pool.access.erpnext_guards.search_widget",
	# Frappe's number card and chart widgets, read from the MariaDB replica when the site has one
	# (`read_from_replica`; reports already are): crm_pool.insight.replica
	"frappe.desk.doctype.number_card.number_card.get_result": "crm_pool.insight.replica.number_card_result",
	"frappe.desk.doctype.dashboard_chart.dashboard_chart.get": "crm_pool.insight.replica.dashboard_chart_get",
}
