// Return Visit (回访): the assignee records the outcome (crm_pool.api.grading.complete_visit).
frappe.ui.form.on("Return Visit", {
	refresh(frm) {
		if (frm.is_new() || frm.doc.status !== "Planned") return;
		if (frm.doc.planned_date < frappe.datetime.get_today()) {
			frm.set_intro(__("Overdue"), "red");
		}
		for (const status of ["Done", "Missed"]) {
			frm.add_custom_button(__(status), () => complete(frm, status), __("Complete"));
		}
	},
});

function complete(frm, status) {
	const d = new frappe.ui.Dialog({
		title: __("Return Visit") + ": " + __(status),
		fields: [
			{ fieldname: "channel", label: __("Channel"), fieldtype: "Select", options: "Phone\nVisit\nOnline", default: frm.doc.channel },
			{ fieldname: "outcome", label: __("Outcome"), fieldtype: "Small Text" },
			{ fieldname: "satisfaction", label: __("Satisfaction (1-5)"), fieldtype: "Select", options: "0\n1\n2\n3\n4\n5", default: "0" },
			{ fieldname: "feedback", label: __("Customer Feedback"), fieldtype: "Small Text" },
		],
		primary_action_label: __(status),
		primary_action(values) {
			frappe.call({
				method: "crm_pool.api.grading.complete_visit",
				args: { visit: frm.doc.name, status, ...values, satisfaction: parseInt(values.satisfaction || 0) },
				freeze: true,
				callback: () => { d.hide(); frm.reload_doc(); },
			});
		},
	});
	d.show();
}
