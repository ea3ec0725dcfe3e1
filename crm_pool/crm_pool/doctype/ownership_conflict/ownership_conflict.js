// Ownership Conflict (撞单): a manager resolves it — keep the owner, transfer to the claimant, or add
// the claimant as a collaborator.
frappe.ui.form.on("Ownership Conflict", {
	refresh(frm) {
		if (frm.doc.pool_customer) {
			frm.add_custom_button(__("Pool Customer"), () => frappe.set_route("Form", "Pool Customer", frm.doc.pool_customer), __("View"));
		}
		if (frm.doc.source_doctype && frm.doc.source_name) {
			frm.add_custom_button(__(frm.doc.source_doctype), () => frappe.set_route("Form", frm.doc.source_doctype, frm.doc.source_name), __("View"));
		}
		if (frm.doc.status !== "Open") return;
		frm.add_custom_button(__("Resolve"), () => {
			frappe.prompt(
				[
					{ fieldname: "resolution", fieldtype: "Select", label: __("Resolution"), reqd: 1,
						options: ["Keep Owner", "Transfer to Claimant", "Add as Collaborator"].map((v) => ({ value: v, label: __(v) })) },
					{ fieldname: "access", fieldtype: "Select", label: __("Collaborator Access"), default: "Read/Write",
						options: [{ value: "Read", label: __("Read") }, { value: "Read/Write", label: __("Read/Write") }],
						depends_on: "eval:doc.resolution=='Add as Collaborator'" },
					{ fieldname: "note", fieldtype: "Small Text", label: __("Resolution Note") },
				],
				(v) => frappe.call({
					method: "crm_pool.api.transfer.resolve_conflict",
					args: Object.assign({ conflict: frm.doc.name }, v),
					freeze: true,
					callback: (r) => !r.exc && frm.reload_doc(),
				}),
				__("Resolve Ownership Conflict"),
				__("Resolve")
			);
		}).addClass("btn-primary");
	},
});
