// Salesperson Performance (销售业绩分析): claims, allocations, releases, recycles and conversions per
// salesperson, with the response time and cadence of their follow-ups (crm_pool.insight.performance).
frappe.query_reports["Salesperson Performance"] = {
	filters: [
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date", default: frappe.datetime.month_start(), reqd: 1 },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date", default: frappe.datetime.get_today(), reqd: 1 },
		{ fieldname: "pool", label: __("Pool"), fieldtype: "Link", options: "Customer Pool" },
		{ fieldname: "user", label: __("Salesperson"), fieldtype: "Link", options: "User" },
	],
};
