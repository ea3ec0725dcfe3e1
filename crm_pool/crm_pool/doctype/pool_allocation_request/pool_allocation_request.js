// Pool Allocation Request (申请): a salesperson's request for pool customers; the Workflow's actions
// (Submit for Approval, Approve, Reject, Cancel) move it on. After approval each line shows its result.
frappe.ui.form.on("Pool Allocation Request", {
	setup(frm) {
		frm.set_query("pool_customer", "lines", () => ({
			filters: frm.doc.pool ? { pool: frm.doc.pool, status: "In Pool" } : { status: "In Pool" },
		}));
	},
	refresh(frm) {
		const state = frm.doc.workflow_state;
		if (state === "Approved") {
			const color = frm.doc.unavailable_count ? "orange" : "green";
			frm.set_intro(
				__("{0} of {1} customers assigned to {2}; see each line for the others.", [
					frm.doc.assigned_count,
					(frm.doc.lines || []).length,
					frm.doc.requester_name || frm.doc.requester,
				]),
				color
			);
		} else if (state === "Pending Approval") {
			frm.set_intro(__("Waiting for a pool manager or sales manager to approve."), "blue");
		}
		const grid = frm.fields_dict.lines.grid;
		grid.wrapper.find(".grid-row").each(function () {
			const row = $(this).data("grid_row");
			if (!row || !row.doc) return;
			const color = { Assigned: "green", Unavailable: "red" }[row.doc.status];
			if (color) $(this).find('[data-fieldname="status"]').addClass(`indicator-pill ${color}`);
		});
	},
});

frappe.ui.form.on("Pool Allocation Request Line", {
	pool_customer(frm, cdt, cdn) {
		const row = locals[cdt][cdn];
		if (!frm.doc.pool && row.pool_customer) {
			frappe.db.get_value("Pool Customer", row.pool_customer, "pool").then((r) => {
				if (r.message && r.message.pool) frm.set_value("pool", r.message.pool);
			});
		}
	},
});
