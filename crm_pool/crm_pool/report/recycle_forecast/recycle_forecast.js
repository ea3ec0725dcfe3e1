// Recycle Forecast (回收预测): owned customers due to return to the pool, per owner and day or week.
frappe.query_reports["Recycle Forecast"] = {
	filters: [
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date", default: frappe.datetime.get_today() },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date", default: frappe.datetime.add_days(frappe.datetime.get_today(), 30) },
		{ fieldname: "pool", label: __("Pool"), fieldtype: "Link", options: "Customer Pool" },
		{ fieldname: "owner", label: __("Owned By"), fieldtype: "Link", options: "User" },
		{
			fieldname: "period",
			label: __("Period"),
			fieldtype: "Select",
			options: [
				{ value: "Week", label: __("Week") },
				{ value: "Day", label: __("Day") },
			],
			default: "Week",
		},
		{ fieldname: "detail", label: __("List Customers"), fieldtype: "Check", default: 0 },
	],
};
