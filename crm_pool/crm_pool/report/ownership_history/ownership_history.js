// Ownership History (归属历史): the Pool Log of one customer or of one user (crm_pool.insight.history).
frappe.query_reports["Ownership History"] = {
	filters: [
		{ fieldname: "pool_customer", label: __("Pool Customer"), fieldtype: "Link", options: "Pool Customer" },
		{ fieldname: "user", label: __("User"), fieldtype: "Link", options: "User" },
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date", default: frappe.datetime.add_months(frappe.datetime.get_today(), -1) },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date", default: frappe.datetime.get_today() },
	],
};
