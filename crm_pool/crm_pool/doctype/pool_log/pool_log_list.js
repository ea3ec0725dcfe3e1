// Pool Log (客户归属日志): append-only; coloured by action.
frappe.listview_settings["Pool Log"] = {
	add_fields: ["action"],
	get_indicator(doc) {
		const color = {
			Intake: "blue", Review: "blue", Claim: "green", Assign: "green", Release: "orange",
			Recycle: "red", Lock: "purple", Unlock: "purple", Convert: "darkgrey", Transfer: "cyan", Merge: "grey",
			Collaborate: "light-blue", "Exclusive Manager": "pink",
		}[doc.action] || "grey";
		return [__(doc.action), color, "action,=," + doc.action];
	},
};
