// Ownership Transfer (调整 · 交接): what approval will move, and the results afterwards.
frappe.ui.form.on("Ownership Transfer", {
	refresh(frm) {
		if (frm.doc.docstatus === 0 && frm.doc.all_customers && frm.doc.from_owner) {
			frm.set_intro(__("All {0} customers of {1} move when the transfer is approved (the count is taken again then)",
				[frm.doc.customer_count || 0, frm.doc.from_owner_name || frm.doc.from_owner]), "blue");
		} else if (frm.doc.docstatus === 1) {
			frm.set_intro(__("{0} customers moved, {1} not moved, {2} open documents moved with them",
				[frm.doc.moved_count || 0, frm.doc.failed_count || 0, frm.doc.documents_moved || 0]),
				frm.doc.failed_count ? "orange" : "green");
		} else {
			frm.set_intro("");
		}
		frm.set_query("to_owner", () => ({ filters: { enabled: 1, user_type: "System User" } }));
		frm.set_query("pool_customer", "customers", () => ({
			filters: { owned_by: frm.doc.from_owner || "", status: ["in", ["Owned", "Locked", "Converted"]] },
		}));
	},
});
