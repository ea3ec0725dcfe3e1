// Referral Reward Summary (推荐奖励汇总): by business line, sharer and month.
frappe.query_reports["Referral Reward Summary"] = {
	filters: [
		{ fieldname: "company", label: __("Company"), fieldtype: "Link", options: "Company", default: frappe.defaults.get_user_default("Company") },
		{ fieldname: "from_month", label: __("From Month"), fieldtype: "Date", default: frappe.datetime.year_start() },
		{ fieldname: "to_month", label: __("To Month"), fieldtype: "Date", default: frappe.datetime.get_today() },
		{ fieldname: "business_line", label: __("Business Line"), fieldtype: "Link", options: "Item Group" },
		{ fieldname: "sharer", label: __("Sharer"), fieldtype: "Link", options: "User" },
		{
			fieldname: "state",
			label: __("Reward State"),
			fieldtype: "Select",
			options: [
				{ value: "", label: "" },
				...["Draft", "Submitted", "Approved", "Paid"].map((s) => ({ value: s, label: __(s) })),
			],
		},
	],
};
