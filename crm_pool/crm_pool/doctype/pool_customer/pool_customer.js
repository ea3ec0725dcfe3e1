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
		crm_pool_exclusive_manager_button(frm);
		if (frm.doc.party_type && frm.doc.party) {
			frm.add_custom_button(__(frm.doc.party_type), () => frappe.set_route("Form", frm.doc.party_type, frm.doc.party), __("View"));
		}
	},
});

// 专属经理: a manager assigns the exclusive manager of an owned customer (crm_pool.api.grading).
function crm_pool_exclusive_manager_button(frm) {
	const managers = ["Sales Manager", "Pool Manager", "System Manager"];
	if (!frm.doc.owned_by || !managers.some((r) => frappe.user.has_role(r))) return;
	frm.add_custom_button(__("Assign Exclusive Manager"), () => {
		const d = new frappe.ui.Dialog({
			title: __("Assign Exclusive Manager"),
			fields: [
				{ fieldname: "user", label: __("Exclusive Manager"), fieldtype: "Link", options: "User", reqd: 1,
					default: frm.doc.exclusive_manager || frm.doc.owned_by },
				{ fieldname: "reason", label: __("Reason"), fieldtype: "Small Text" },
			],
			primary_action_label: __("Assign"),
			primary_action(values) {
				frappe.call({
					method: "crm_pool.api.grading.assign_exclusive_manager",
					args: { pool_customer: frm.doc.name, user: values.user, reason: values.reason },
					freeze: true,
					callback: () => { d.hide(); frm.reload_doc(); },
				});
			},
		});
		d.show();
	});
}
