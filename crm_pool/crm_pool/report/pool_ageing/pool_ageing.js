// Pool Ageing (公海账龄): customers by pool (and owner) and age bucket, as of a date.
frappe.query_reports["Pool Ageing"] = {
	filters: [
		{ fieldname: "pool", label: __("Pool"), fieldtype: "Link", options: "Customer Pool" },
		{
			fieldname: "status_group",
			label: __("Status Group"),
			fieldtype: "Select",
			options: [
				{ value: "Both", label: __("In Pool and Owned") },
				{ value: "In Pool", label: __("In Pool") },
				{ value: "Owned", label: __("With an Owner") },
			],
			default: "Both",
		},
		{ fieldname: "as_of_date", label: __("As of Date"), fieldtype: "Date", default: frappe.datetime.get_today() },
		{ fieldname: "by_owner", label: __("By Owner"), fieldtype: "Check", default: 0 },
	],
};
