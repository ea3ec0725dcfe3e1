// Exclusive Manager Scorecard (专属经理考核): per manager and period (seed 003 §10).
frappe.query_reports["Exclusive Manager Scorecard"] = {
	filters: [
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date", default: frappe.datetime.month_start() },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date", default: frappe.datetime.get_today() },
		{ fieldname: "manager", label: __("Exclusive Manager"), fieldtype: "Link", options: "User" },
	],
};
