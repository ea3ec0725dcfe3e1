// Allocation requests (申请): indicators by approval state; approved ones with unavailable lines show it.
frappe.listview_settings["Pool Allocation Request"] = {
	add_fields: ["workflow_state", "assigned_count", "unavailable_count"],
	get_indicator(doc) {
		const state = doc.workflow_state || "Draft";
		if (state === "Approved" && cint(doc.unavailable_count)) {
			return [__("Partly Assigned"), "orange", "workflow_state,=,Approved"];
		}
		const color = {
			Draft: "grey",
			"Pending Approval": "blue",
			Approved: "green",
			Rejected: "red",
			Cancelled: "darkgrey",
		}[state];
		return [__(state), color || "grey", "workflow_state,=," + state];
	},
};
