// Referral Reward (推荐奖励): coloured by its Workflow state; a salesperson's list opens on their own rewards.
frappe.listview_settings["Referral Reward"] = {
	add_fields: ["workflow_state", "net_amount", "currency", "sharer", "journal_entry"],
	filters: [],
	onload(listview) {
		const reads_all = ["Sales Manager", "Pool Manager", "System Manager", "Accounts Manager", "Accounts User"].some((r) =>
			frappe.user.has_role(r)
		);
		if (!reads_all && !listview.filters.some((f) => f[1] === "sharer")) {
			listview.filter_area.add([[listview.doctype, "sharer", "=", frappe.session.user]]);
		}
	},
	get_indicator(doc) {
		const state = doc.workflow_state || "Draft";
		const color = { Draft: "grey", Submitted: "orange", Approved: "blue", Paid: "green" }[state] || "grey";
		return [__(state), color, "workflow_state,=," + state];
	},
};
