// The pool board (公海看板): Pool Customer's list. Filters for pool, territory, industry, grade and
// days in pool; masked contact columns; claim from the list, one or many (within the caps).
frappe.listview_settings["Pool Customer"] = {
	add_fields: ["status", "owned_by", "pool", "grade", "recycle_due_at", "pool_entered_at"],
	filters: [["status", "=", "In Pool"]],
	get_indicator(doc) {
		const color = (crm_pool.status_indicator || {})[doc.status] || "grey";
		return [__(doc.status), color, "status,=," + doc.status];
	},
	formatters: {
		grade(value) {
			const color = { A: "green", B: "blue", C: "grey" }[value];
			return value ? `<span class="indicator-pill ${color}">${value}</span>` : "";
		},
	},
	onload(listview) {
		listview.page.add_field({
			fieldname: "days_in_pool",
			fieldtype: "Int",
			label: __("Days in Pool ≥"),
			change() {
				const days = cint(this.get_value());
				listview.filter_area.remove("pool_entered_at");
				if (days > 0) {
					listview.filter_area.add([
						// "between" lets the database use its (status, pool_entered_at) index
						["Pool Customer", "pool_entered_at", "between", ["2000-01-01", frappe.datetime.add_days(frappe.datetime.now_date(), -days)]],
					]);
				}
			},
		});
		listview.page.add_actions_menu_item(__("Claim"), () => {
			const names = listview.get_checked_items(true);
			if (!names.length) return frappe.msgprint(__("Please select customers to claim"));
			frappe.call({
				method: "crm_pool.api.pool.claim_many",
				args: { pool_customers: names },
				freeze: true,
				freeze_message: __("Claiming {0} customers…", [names.length]),
				callback: (r) => {
					const res = r.message || { claimed: [], refused: [] };
					let html = `<p>${__("Claimed {0} of {1}", [res.claimed.length, names.length])}</p>`;
					if (res.refused.length) {
						html += "<ul>" + res.refused.map((x) => `<li><b>${x.name}</b>: ${frappe.utils.escape_html(x.reason)}</li>`).join("") + "</ul>";
					}
					frappe.msgprint({ title: __("Claim"), message: html, indicator: res.refused.length ? "orange" : "green" });
					listview.clear_checked_items();
					listview.refresh();
				},
			});
		});
	},
	button: {
		show: (doc) => doc.status === "In Pool",
		get_label: () => __("Claim"),
		get_description: (doc) => __("Claim {0}", [doc.customer_name]),
		action: (doc) => crm_pool.call("claim", { pool_customer: doc.name }, () => cur_list.refresh()),
	},
};
