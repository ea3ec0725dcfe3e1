// Copyright (c) 2026, crm_pool developers
// For license information, please see license.txt

// 共享客户 list: one colour per status; "My Shares" for everyone but managers (sharer = me).
frappe.listview_settings["Customer Share"] = {
	add_fields: ["status", "sharer"],
	get_indicator(doc) {
		const colours = {
			Shared: "blue",
			Accepted: "orange",
			Converted: "green",
			Rewarded: "purple",
			"Not Rewardable": "gray",
			Rejected: "red",
		};
		return [__(doc.status, null, "Customer Share"), colours[doc.status] || "gray", "status,=," + doc.status];
	},
	onload(listview) {
		const manager = frappe.user.has_role(["Pool Manager", "Sales Manager", "System Manager"]);
		const filtered = (listview.filters || []).some((f) => f[1] === "sharer");
		if (!manager && !filtered) {
			listview.filter_area.add([["Customer Share", "sharer", "=", frappe.session.user]]);
		}
	},
};
