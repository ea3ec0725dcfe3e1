// Customer Grade Rule (客户分级规则): the default rule, enabled and disabled rules.
frappe.listview_settings["Customer Grade Rule"] = {
	add_fields: ["enabled", "is_default"],
	get_indicator(doc) {
		if (!doc.enabled) return [__("Disabled"), "grey", "enabled,=,0"];
		if (doc.is_default) return [__("Default Rule"), "green", "is_default,=,1"];
		return [__("Enabled"), "blue", "enabled,=,1"];
	},
};
