// crm_pool on the Lead and Customer forms: pool status, owner and ownership history, and the actions.
frappe.ui.form.on("Lead", { refresh: (frm) => crm_pool_party_refresh(frm) });
frappe.ui.form.on("Customer", { refresh: (frm) => crm_pool_party_refresh(frm) });

function crm_pool_party_refresh(frm) {
	if (frm.is_new()) return;
	frappe.call({
		method: "crm_pool.api.pool.pool_status",
		args: { doctype: frm.doctype, name: frm.doc.name },
		callback: (r) => {
			const s = r.message;
			if (!s || !s.name) return;
			const color = crm_pool.status_indicator[s.status] || "grey";
			const owner = s.owner_name ? ` · ${__("Owned By")}: ${frappe.utils.escape_html(s.owner_name)}` : "";
			frm.dashboard.add_comment(
				`<b>${__("Customer Pool")}</b>: <a href="/app/pool-customer/${s.name}">${s.name}</a> ·
				${frappe.utils.escape_html(s.pool_name || s.pool)} · <span class="indicator-pill ${color}">${s.status_label}</span>${owner}`,
				color,
				true
			);
			crm_pool.add_action_buttons(frm, s, () => frm.reload_doc());
			frm.add_custom_button(__("Ownership History"), () => {
				frappe.msgprint({ title: __("Ownership History"), message: crm_pool.history_html(s.history), wide: true });
			}, __("Pool"));
		},
	});
}
