// Ownership Conflict (撞单): open ones stand out.
frappe.listview_settings["Ownership Conflict"] = {
	add_fields: ["status", "kind", "resolution"],
	get_indicator(doc) {
		if (doc.status === "Open") {
			return [__("Unresolved"), doc.kind === "Intake Duplicate" ? "red" : "orange", "status,=,Open"];
		}
		return [__(doc.resolution || doc.status), "green", "status,=,Resolved"];
	},
};
