// Ownership Transfer (调整 · 交接): coloured by workflow state; the transfer wizard.
frappe.listview_settings["Ownership Transfer"] = {
	add_fields: ["status", "trigger"],
	has_indicator_for_draft: true,
	get_indicator(doc) {
		const color = { Draft: "grey", "Pending Approval": "orange", Approved: "green", Rejected: "red", Cancelled: "darkgrey" }[doc.status] || "grey";
		return [__(doc.status), color, "status,=," + doc.status];
	},
	onload(listview) {
		listview.page.add_inner_button(__("Transfer Wizard"), () => crm_pool.transfer_wizard());
	},
};
