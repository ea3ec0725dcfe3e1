// Customer Grade Log (客户等级变更记录): append-only; coloured by the new grade.
frappe.listview_settings["Customer Grade Log"] = {
	add_fields: ["to_grade", "why"],
	get_indicator(doc) {
		const color = { A: "green", B: "blue", C: "grey" }[doc.to_grade] || "grey";
		return [doc.to_grade || __("None"), color, "to_grade,=," + (doc.to_grade || "")];
	},
	formatters: {
		why(value) {
			return value ? __(value) : "";
		},
	},
};
