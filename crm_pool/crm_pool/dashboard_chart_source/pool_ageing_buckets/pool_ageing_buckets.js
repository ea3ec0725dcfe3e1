// Copyright (c) 2026, crm_pool developers
// For license information, please see license.txt

frappe.provide("frappe.dashboards.chart_sources");

frappe.dashboards.chart_sources["Pool Ageing Buckets"] = {
	method: "crm_pool.insight.charts.pool_ageing",
	filters: [
		{
			fieldname: "pool",
			label: __("Customer Pool"),
			fieldtype: "Link",
			options: "Customer Pool",
		},
	],
};
