// Pool Customer (公海客户): status, owner, the pool actions and the ownership history.
frappe.ui.form.on("Pool Customer", {
	refresh(frm) {
		if (frm.is_new()) return;
		frm.set_intro("");
		frappe.call({
			method: "crm_pool.api.pool.pool_status",
			args: { pool_customer: frm.doc.name },
			callback: (r) => {
				const s = r.message;
				if (!s) return;
				crm_pool.add_action_buttons(frm, s, () => frm.reload_doc());
				frm.dashboard.add_section(crm_pool.history_html(s.history), __("Ownership History"));
				if (s.recycle_due_at) {
					frm.set_intro(__("Returns to the pool on {0} unless followed up", [frappe.datetime.str_to_user(s.recycle_due_at)]), "orange");
				}
			},
		});
		if (frm.doc.party_type && frm.doc.party) {
			frm.add_custom_button(__(frm.doc.party_type), () => frappe.set_route("Form", frm.doc.party_type, frm.doc.party), __("View"));
		}
	},
});
