// Referral Reward (推荐奖励): the evidence table read-only, the Journal Entry that paid it, and for
// accounts staff on an approved reward a "Make Journal Entry" button (a draft prefilled as the
// Workflow's payment books it; submitting it pays the reward).
frappe.ui.form.on("Referral Reward", {
	refresh(frm) {
		frm.set_df_property("lines", "read_only", 1);
		frm.set_df_property("lines", "cannot_add_rows", 1);
		frm.set_df_property("lines", "cannot_delete_rows", 1);
		const accounts = ["Accounts Manager", "Accounts User", "System Manager"].some((r) => frappe.user.has_role(r));
		if (frm.doc.workflow_state === "Approved" && accounts && !frm.is_new() && frm.doc.sharer !== frappe.session.user) {
			frm.add_custom_button(__("Make Journal Entry"), () => {
				frappe.call({
					method: "crm_pool.api.sharing.make_journal_entry",
					args: { reward: frm.doc.name },
					freeze: true,
					callback: (r) => r.message && frappe.set_route("Form", "Journal Entry", r.message),
				});
			});
		}
		if (frm.doc.journal_entry) {
			frm.set_intro(__("Paid by Journal Entry {0} on {1}", [frm.doc.journal_entry, frappe.datetime.str_to_user(frm.doc.paid_on)]), "green");
		}
	},
});
