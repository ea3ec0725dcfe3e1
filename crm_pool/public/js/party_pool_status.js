// crm_pool on the Lead and Customer forms: pool status, owner and ownership history, the actions,
// and the grade (客户分级) with its score parts, RFM segment and CLV.
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
			crm_pool_grade_panel(frm, s);
			crm_pool.add_action_buttons(frm, s, () => frm.reload_doc());
			frm.add_custom_button(__("Ownership History"), () => {
				frappe.msgprint({ title: __("Ownership History"), message: crm_pool.history_html(s.history), wide: true });
			}, __("Pool"));
		},
	});
}

const CRM_POOL_GRADE_COLORS = { A: "green", B: "blue", C: "grey" };

function crm_pool_grade_panel(frm, s) {
	const g = s.grading;
	if (!g) return;
	const fmt = (f) => {
		const v = g[f];
		if (v === null || v === undefined || v === "") return "–";
		if (["clv", "net_invoiced", "average_order_value"].includes(f)) return format_currency(v);
		if (typeof v === "number") return frappe.utils.escape_html(String(Math.round(v * 100) / 100));
		return frappe.utils.escape_html(String(v));
	};
	const badge = g.grade
		? `<span class="indicator-pill ${CRM_POOL_GRADE_COLORS[g.grade] || "grey"}">${frappe.utils.escape_html(g.grade)}</span>`
		: `<span class="text-muted">${__("Not graded")}</span>`;
	const segment = g.rfm_segment_label ? ` · ${__("RFM Segment")}: ${frappe.utils.escape_html(g.rfm_segment_label)}` : "";
	frm.dashboard.add_comment(
		`<b>${__("Customer Grade")}</b>: ${badge} · ${__("Grade Score")}: ${fmt("grade_score")}${segment} · ${__("Customer Lifetime Value")}: ${fmt("clv")}`,
		"blue",
		true
	);
	frm.add_custom_button(__("Grade Details"), () => {
		const parts = ["score_monetary", "score_frequency", "score_recency", "score_profit", "profit_included", "score_repeat", "score_potential",
			"net_invoiced", "invoice_count", "last_invoice_date", "average_order_value", "purchases_per_year",
			"expected_lifetime_years", "clv", "grade_override", "graded_at"];
		const rows = parts.map((f) => `<tr><td>${frappe.utils.escape_html(g.labels[f] || f)}</td><td>${fmt(f)}</td></tr>`).join("");
		frappe.msgprint({ title: __("Customer Grade"), message: `<table class="table table-bordered">${rows}</table>`, wide: true });
	}, __("Pool"));
	frm.add_custom_button(__("Request Grade Override"), () => {
		frappe.new_doc("Customer Grade Override", { pool_customer: s.name });
	}, __("Pool"));
}
