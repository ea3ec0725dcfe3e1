// crm_pool: transfer (调整 · 交接) and collaborators (协作人) on the Pool Customer, Lead and Customer
// forms, and the transfer wizard of the Ownership Transfer list. The server re-checks every rule.
frappe.provide("crm_pool");

crm_pool.TRANSFER_TRIGGERS = ["Leaving", "Role Change", "Customer Request", "Reorganization", "Results"];

crm_pool.trigger_options = () => crm_pool.TRANSFER_TRIGGERS.map((t) => ({ value: t, label: __(t) }));

// method: "<capability>.<function>" of crm_pool.api, e.g. "transfer.make_transfer"
crm_pool.api_call = function (method, args, after) {
	return frappe.call({
		method: "crm_pool.api." + method,
		args: args,
		freeze: true,
		callback: (r) => !r.exc && after && after(r.message),
	});
};

// The receiver (or the pool), the trigger, the reason and the hand-over notes: shared by both dialogs.
crm_pool.transfer_target_fields = () => [
	{ fieldname: "to_pool", fieldtype: "Check", label: __("Back to the Pool") },
	{
		fieldname: "to_owner", fieldtype: "Link", options: "User", label: __("To Owner"), depends_on: "eval:!doc.to_pool",
		mandatory_depends_on: "eval:!doc.to_pool", get_query: () => ({ filters: { enabled: 1, user_type: "System User" } }),
	},
	{ fieldname: "trigger", fieldtype: "Select", label: __("Trigger"), options: crm_pool.trigger_options(), reqd: 1 },
	{ fieldname: "reason", fieldtype: "Small Text", label: __("Reason") },
	{ fieldname: "handover_notes", fieldtype: "Text Editor", label: __("Hand-over Notes") },
];

crm_pool.open_transfer = (r) => {
	frappe.show_alert({ message: __("Transfer {0} created as a draft", [r.name]), indicator: "green" });
	frappe.set_route("Form", "Ownership Transfer", r.name);
};

// "Transfer" (调整) on one customer: a draft transfer of that customer from its owner.
crm_pool.transfer_customer = function (pool_customer, owner) {
	const d = new frappe.ui.Dialog({
		title: __("Transfer Customer"),
		fields: crm_pool.transfer_target_fields(),
		primary_action_label: __("Create Draft"),
		primary_action: (v) => {
			d.hide();
			crm_pool.api_call(
				"transfer.make_transfer",
				Object.assign({ from_owner: owner, pool_customers: [pool_customer] }, v),
				crm_pool.open_transfer
			);
		},
	});
	d.show();
};

crm_pool.add_collaborator = function (pool_customer, after) {
	frappe.prompt(
		[
			{ fieldname: "user", fieldtype: "Link", options: "User", label: __("Collaborator"), reqd: 1,
				get_query: () => ({ filters: { enabled: 1, user_type: "System User" } }) },
			{ fieldname: "access", fieldtype: "Select", label: __("Access"), reqd: 1, default: "Read/Write",
				options: [{ value: "Read", label: __("Read") }, { value: "Read/Write", label: __("Read/Write") }] },
			{ fieldname: "reason", fieldtype: "Small Text", label: __("Reason") },
		],
		(v) => crm_pool.api_call("pool.add_collaborator", Object.assign({ pool_customer: pool_customer }, v), () => {
			frappe.show_alert({ message: __("Done"), indicator: "green" });
			after && after();
		}),
		__("Add Collaborator"),
		__("Add")
	);
};

// Buttons of one customer, from what pool_status() reports (owner and manager rights).
crm_pool.add_transfer_buttons = function (frm, pool_customer) {
	if (!pool_customer || frm.is_new()) return;
	frappe.call({
		method: "crm_pool.api.pool.pool_status",
		args: { pool_customer: pool_customer },
		callback: (r) => {
			const s = r.message;
			if (!s || !["Owned", "Locked", "Converted"].includes(s.status) || !s.owned_by) return;
			const manage = s.can.assign || s.can.lock || s.can.unlock;
			if (!(manage || s.owned_by === frappe.session.user)) return;
			const group = __("Pool");
			frm.add_custom_button(__("Transfer Ownership"), () => crm_pool.transfer_customer(s.name, s.owned_by), group);
			frm.add_custom_button(__("Add Collaborator"), () => crm_pool.add_collaborator(s.name, () => frm.reload_doc()), group);
		},
	});
};

frappe.ui.form.on("Pool Customer", { refresh: (frm) => crm_pool.add_transfer_buttons(frm, frm.doc.name) });
frappe.ui.form.on("Lead", { refresh: (frm) => crm_pool.add_transfer_buttons(frm, frm.doc.pool_customer) });
frappe.ui.form.on("Customer", { refresh: (frm) => crm_pool.add_transfer_buttons(frm, frm.doc.pool_customer) });

// The transfer wizard: from whom, to whom (or the pool), why, and all their customers or a selection;
// the count is shown before the draft is made.
crm_pool.transfer_wizard = function () {
	let owned = { count: 0, customers: [] };
	const d = new frappe.ui.Dialog({
		title: __("Transfer Wizard"),
		size: "large",
		fields: [
			{
				fieldname: "from_owner", fieldtype: "Link", options: "User", label: __("From Owner"), reqd: 1,
				get_query: () => ({ filters: { user_type: "System User" } }),
				onchange: () => load(d.get_value("from_owner")),
			},
			{
				fieldname: "scope", fieldtype: "Select", label: __("Customers"), reqd: 1, default: "all",
				options: [{ value: "all", label: __("All their customers") }, { value: "selected", label: __("Selected customers") }],
				onchange: () => show_count(),
			},
			{ fieldname: "count_html", fieldtype: "HTML" },
			{ fieldname: "customers", fieldtype: "MultiCheck", label: __("Choose Customers"), columns: 2, options: [],
				depends_on: "eval:doc.scope=='selected'", on_change: () => show_count() },
			{ fieldtype: "Section Break" },
			...crm_pool.transfer_target_fields(),
		],
		primary_action_label: __("Create Draft"),
		primary_action: (v) => {
			const selected = v.scope === "selected" ? d.fields_dict.customers.get_checked_options() : [];
			const n = v.scope === "all" ? owned.count : selected.length;
			if (!n) {
				frappe.msgprint(__("Choose the customers to transfer, or tick All Customers of the From Owner"));
				return;
			}
			const target = v.to_pool ? __("the pool") : v.to_owner;
			frappe.confirm(__("Create a draft transfer of {0} customers from {1} to {2}?", [n, v.from_owner, target]), () => {
				d.hide();
				const args = Object.assign({}, v, { all_customers: v.scope === "all" ? 1 : 0, pool_customers: selected });
				delete args.scope; delete args.customers; delete args.count_html;
				crm_pool.api_call("transfer.make_transfer", args, crm_pool.open_transfer);
			});
		},
	});

	function load(user) {
		owned = { count: 0, customers: [] };
		if (!user) return show_count();
		crm_pool.api_call("transfer.owner_customers", { from_owner: user }, (r) => {
			owned = r;
			const field = d.fields_dict.customers;
			field.df.options = r.customers.map((c) => ({
				label: `${frappe.utils.escape_html(c.customer_name || c.name)} (${c.name} · ${c.status_label})`,
				value: c.name,
			}));
			field.refresh();
			show_count();
		});
	}

	function show_count() {
		const selected = d.fields_dict.customers.get_checked_options ? d.fields_dict.customers.get_checked_options().length : 0;
		let html = `<p>${__("{0} owns {1} customers now", [frappe.utils.escape_html(d.get_value("from_owner") || "-"), owned.count])}</p>`;
		if (d.get_value("scope") === "selected") {
			html += `<p>${__("{0} selected", [selected])}</p>`;
			if (owned.count > owned.customers.length) {
				html += `<p class="text-muted">${__("The first {0} are listed", [owned.customers.length])}</p>`;
			}
		}
		d.fields_dict.count_html.$wrapper.html(html);
	}

	d.show();
	show_count();
};
