// Return Visit (回访): overdue ones stand out.
frappe.listview_settings["Return Visit"] = {
	add_fields: ["status", "planned_date"],
	get_indicator(doc) {
		if (doc.status === "Planned") {
			if (doc.planned_date < frappe.datetime.get_today()) {
				return [__("Overdue"), "red", "status,=,Planned|planned_date,<,Today"];
			}
			return [__("Planned"), "blue", "status,=,Planned"];
		}
		return [__(doc.status), doc.status === "Done" ? "green" : "orange", "status,=," + doc.status];
	},
};
