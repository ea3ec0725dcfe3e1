// Grade Movement (等级变动): transitions between grades in a period, and the current distribution.
frappe.query_reports["Grade Movement"] = {
	filters: [
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date", default: frappe.datetime.month_start() },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date", default: frappe.datetime.get_today() },
		{ fieldname: "pool", label: __("Pool"), fieldtype: "Link", options: "Customer Pool" },
	],
};
