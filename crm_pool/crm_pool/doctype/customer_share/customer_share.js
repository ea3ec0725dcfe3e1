// Copyright (c) 2026, crm_pool developers
// For license information, please see license.txt

// 共享客户: the do-not-quote headline (seed 2.1.3) and, for a manager, Reject with a reason.
const CRM_POOL_SHARE_MANAGERS = ["Pool Manager", "Sales Manager", "System Manager"];
const CRM_POOL_REJECTABLE = ["Shared", "Accepted", "Converted"];

frappe.ui.form.on("Customer Share", {
	refresh(frm) {
		frm.set_intro(
			__(
				"Do not quote prices to the customer: the business line's salesperson follows up and quotes."
			),
			"orange"
		);
		if (
			!frm.is_new() &&
			CRM_POOL_REJECTABLE.includes(frm.doc.status) &&
			frappe.user.has_role(CRM_POOL_SHARE_MANAGERS)
		) {
			frm.add_custom_button(__("Reject"), () => {
				frappe.prompt(
					{ fieldname: "reason", fieldtype: "Small Text", label: __("Reason"), reqd: 1 },
					(values) =>
						frappe
							.call({
								method: "crm_pool.api.sharing.reject_share",
								args: { share: frm.doc.name, reason: values.reason },
								freeze: true,
							})
							.then(() => frm.reload_doc()),
					__("Reject Customer Share"),
					__("Reject")
				);
			});
		}
	},
});
