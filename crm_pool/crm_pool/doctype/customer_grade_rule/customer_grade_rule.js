// Customer Grade Rule (客户分级规则): "Regrade now" runs the regrade in the background with progress.
frappe.ui.form.on("Customer Grade Rule", {
	refresh(frm) {
		if (frm.is_new() || !frappe.user.has_role(["Sales Manager", "Pool Manager", "System Manager"])) return;
		frm.add_custom_button(__("Regrade now"), () => {
			frappe.call({
				method: "crm_pool.api.grading.regrade",
				callback: (r) => {
					frappe.show_alert({ message: r.message.message, indicator: "blue" });
					// the job reports its progress (frappe.publish_progress); reload the form when it ends
					frappe.realtime.on("progress", function done(data) {
						if (data && data.percent >= 100) {
							frappe.realtime.off("progress", done);
							frm.reload_doc();
						}
					});
				},
			});
		});
	},
});
