// crm_pool: allocation in the desk — 申请 (a salesperson applies for pool customers) and 调配 (a pool
// admin or manager allocates them by a strategy, after a preview). Used by the pool board, the Pool
// Customer / Lead / Customer forms. Every action is a whitelisted method that re-checks the rules.
frappe.provide("crm_pool");

// 申请: ask for a reason (and what the salesperson expects), then create and submit the request.
crm_pool.ask_apply = function (pool_customers, after) {
	frappe.prompt(
		[
			{
				fieldname: "info",
				fieldtype: "HTML",
				options: `<p class="text-muted">${__("Apply for {0} customers; a manager approves or rejects the request.", [pool_customers.length])}</p>`,
			},
			{ fieldname: "reason", fieldtype: "Small Text", label: __("Reason for Request"), reqd: 1 },
			{ fieldname: "expected_resources", fieldtype: "Small Text", label: __("Expected Resources") },
		],
		(v) =>
			frappe.call({
				method: "crm_pool.api.allocation.request_allocation",
				args: { pool_customers: pool_customers, reason: v.reason, expected_resources: v.expected_resources },
				freeze: true,
				callback: (r) => {
					if (r.exc || !r.message) return;
					frappe.show_alert({
						message: __("Allocation request {0} sent for approval", [r.message.name]),
						indicator: "green",
					});
					after && after(r.message);
				},
			}),
		__("Apply for Customers"),
		__("Submit for Approval")
	);
};

// 调配: choose pool (or the selected customers), strategy, members; preview (dry run); confirm.
crm_pool.allocation_dialog = function (opts) {
	const selected = opts.pool_customers || [];
	let previewed = false;
	let settings = null;
	let loaded_pool = null;
	const dialog = new frappe.ui.Dialog({
		title: __("Allocate Customers"),
		size: "extra-large",
		fields: [
			{
				fieldname: "pool",
				fieldtype: "Link",
				options: "Customer Pool",
				label: __("Customer Pool"),
				reqd: 1,
				default: opts.pool,
				read_only: selected.length ? 1 : 0,
				onchange: () => load_settings(),
			},
			{
				fieldname: "selection",
				fieldtype: "HTML",
				hidden: selected.length ? 0 : 1,
				options: `<p>${__("{0} selected customers", [selected.length])}</p>`,
			},
			{ fieldname: "col1", fieldtype: "Column Break" },
			{
				fieldname: "strategy",
				fieldtype: "Select",
				label: __("Allocation Strategy"),
				options: ["Round Robin", "Load Balancing", "Rule Based", "Score Based"].map((s) => ({ value: s, label: __(s) })),
				onchange: () => reset(),
			},
			{
				fieldname: "members",
				fieldtype: "MultiSelectList",
				label: __("Pool Members"),
				description: __("Empty: the pool's members taking part in allocation"),
				get_data: (txt) =>
					((settings && settings.members) || [])
						.filter((m) => !txt || (m.full_name + m.user).toLowerCase().includes(txt.toLowerCase()))
						.map((m) => ({
							value: m.user,
							description: `${m.full_name} · ${__("Owned Customers")} ${m.owned_before}${m.cap ? " / " + m.cap : ""}`,
						})),
				onchange: () => reset(),
			},
			{ fieldname: "filters_section", fieldtype: "Section Break", label: __("Which Customers"), hidden: selected.length ? 1 : 0 },
			{ fieldname: "territory", fieldtype: "Link", options: "Territory", label: __("Territory"), onchange: () => reset() },
			{ fieldname: "customer_group", fieldtype: "Link", options: "Customer Group", label: __("Customer Group"), onchange: () => reset() },
			{ fieldname: "col2", fieldtype: "Column Break" },
			{ fieldname: "industry", fieldtype: "Link", options: "Industry Type", label: __("Industry"), onchange: () => reset() },
			{ fieldname: "grade", fieldtype: "Select", options: "\nA\nB\nC", label: __("Customer Grade"), onchange: () => reset() },
			{ fieldname: "limit", fieldtype: "Int", label: __("At Most"), default: 1000, onchange: () => reset() },
			{ fieldname: "preview_section", fieldtype: "Section Break" },
			{ fieldname: "preview", fieldtype: "HTML" },
		],
		primary_action_label: __("Preview"),
		primary_action: () => run(!previewed),
	});

	function args(dry_run) {
		const v = dialog.get_values();
		const a = { strategy: v.strategy || "", members: v.members || [], dry_run: dry_run ? 1 : 0 };
		if (selected.length) {
			a.pool_customers = selected;
		} else {
			a.pool = v.pool;
			a.filters = { territory: v.territory, customer_group: v.customer_group, industry: v.industry, grade: v.grade, limit: v.limit || null };
		}
		return a;
	}

	function reset() {
		previewed = false;
		dialog.set_primary_action(__("Preview"), () => run(true));
	}

	function load_settings() {
		// the Link field reports its value again after validating it: load each pool once
		const pool = dialog.get_value("pool");
		if (!pool || pool === loaded_pool) return;
		loaded_pool = pool;
		frappe.call({
			method: "crm_pool.api.allocation.allocation_settings",
			args: { pool: pool },
			callback: (r) => {
				settings = r.message;
				if (!settings) return;
				dialog.set_value("strategy", settings.strategy);
				dialog.fields_dict.preview.$wrapper.html(
					`<p class="text-muted">${__("{0} customers in the pool; cap per member: {1}", [settings.in_pool, settings.cap || __("none")])}</p>`
				);
				reset();
			},
		});
	}

	function run(dry_run) {
		frappe.call({
			method: "crm_pool.api.allocation.allocate",
			args: args(dry_run),
			freeze: true,
			freeze_message: dry_run ? __("Planning…") : __("Allocating…"),
			callback: (r) => {
				if (r.exc || !r.message) return;
				const res = r.message;
				if (res.queued) {
					dialog.hide();
					frappe.msgprint(__("Allocating {0} customers in the background; you will be notified when it is done.", [res.count]));
					return;
				}
				dialog.fields_dict.preview.$wrapper.html(crm_pool.allocation_html(res));
				if (dry_run) {
					previewed = true;
					dialog.set_primary_action(__("Allocate {0} Customers", [res.assigned_count]), () => run(false));
				} else {
					frappe.show_alert({ message: __("{0} customers allocated", [res.assigned_count]), indicator: "green" });
					dialog.set_primary_action(__("Close"), () => dialog.hide());
					opts.after && opts.after(res);
				}
			},
		});
	}

	dialog.show();
	load_settings();
	return dialog;
};

crm_pool.allocation_html = function (res) {
	const esc = frappe.utils.escape_html;
	const head = `<p><b>${res.dry_run ? __("Preview") : __("Allocation Done")}</b> · ${__(res.strategy)} ·
		${__("{0} to members, {1} stay in the pool", [res.assigned_count, res.unassigned_count])}</p>`;
	const members = res.members
		.map(
			(m) => `<tr><td>${esc(m.full_name)}</td><td>${m.owned_before}</td><td><b>+${m.given}</b></td><td>${m.owned_after}</td>
			<td>${m.cap || ""}</td><td>${esc(m.skipped || "")}</td></tr>`
		)
		.join("");
	const score = (row) =>
		row.candidates
			? `<div class="small text-muted">${row.candidates
					.slice(0, 5)
					.map((c) => `${esc(c.full_name)} ${c.total} (${__("conversion")} ${c.parts.conversion}, ${__("capacity")} ${c.parts.capacity}, ${__("experience")} ${c.parts.experience}, ${__("region")} ${c.parts.region})`)
					.join("<br>")}</div>`
			: "";
	const rows = res.allocations
		.map((a) => `<tr><td>${esc(a.customer_name || a.pool_customer)}</td><td>${esc(a.full_name || "")}</td><td>${esc(a.reason)}${score(a)}</td></tr>`)
		.join("");
	const left = res.unassigned
		.map((a) => `<tr><td>${esc(a.customer_name || a.pool_customer)}</td><td>—</td><td>${esc(a.reason)}</td></tr>`)
		.join("");
	const more = res.assigned_count + res.unassigned_count > res.allocations.length + res.unassigned.length
		? `<p class="text-muted">${__("Showing the first {0} rows", [res.allocations.length + res.unassigned.length])}</p>`
		: "";
	return `${head}
		<table class="table table-sm table-bordered"><thead><tr><th>${__("Pool Member")}</th><th>${__("Owned Before")}</th>
		<th>${__("Given Now")}</th><th>${__("Owned After")}</th><th>${__("Owned Cap")}</th><th>${__("Allocation Note")}</th></tr></thead><tbody>${members}</tbody></table>
		<div style="max-height: 360px; overflow: auto"><table class="table table-sm table-bordered"><thead><tr><th>${__("Customer")}</th>
		<th>${__("Allocated To")}</th><th>${__("Allocation Reason")}</th></tr></thead><tbody>${rows}${left}</tbody></table></div>${more}`;
};

// A large allocation runs in the background: tell the manager when it is done.
$(document).on("app_ready", () => {
	frappe.realtime.on("crm_pool_allocation_done", (res) => {
		frappe.msgprint({ title: __("Allocation Finished"), message: crm_pool.allocation_html(res), wide: true });
		if (window.cur_list && cur_list.doctype === "Pool Customer") cur_list.refresh();
	});
});
