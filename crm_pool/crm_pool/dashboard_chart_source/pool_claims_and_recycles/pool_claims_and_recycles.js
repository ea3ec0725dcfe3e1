// Copyright (c) 2026, crm_pool developers
// For license information, please see license.txt

frappe.provide("frappe.dashboards.chart_sources");

frappe.dashboards.chart_sources["Pool Claims and Recycles"] = {
	method: "crm_pool.insight.charts.claims_and_recycles",
	filters: [
		{
			fieldname: "pool",
			label: __("Customer Pool"),
			fieldtype: "Link",
			options: "Customer Pool",
		},
	],
};
