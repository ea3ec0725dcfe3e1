// My Shares and Rewards (我的共享与奖励): the session user's shares and rewards only.
frappe.query_reports["My Shares and Rewards"] = {
	filters: [
		{ fieldname: "from_month", label: __("From Month"), fieldtype: "Date", default: frappe.datetime.year_start() },
		{ fieldname: "to_month", label: __("To Month"), fieldtype: "Date", default: frappe.datetime.get_today() },
	],
};
