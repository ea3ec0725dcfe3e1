// Customer Grade Override (客户等级调整): coloured by its Workflow state.
frappe.listview_settings["Customer Grade Override"] = {
	add_fields: ["workflow_state", "grade", "expiry_date"],
	get_indicator(doc) {
		const color = { Draft: "grey", "Pending Approval": "orange", Approved: "green", Rejected: "red", Cancelled: "darkgrey" }[doc.workflow_state] || "grey";
		return [__(doc.workflow_state || "Draft"), color, "workflow_state,=," + (doc.workflow_state || "Draft")];
	},
};
