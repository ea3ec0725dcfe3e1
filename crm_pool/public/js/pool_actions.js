// crm_pool: the pool actions (领取 / 释放 / 分配 / 锁定 / 解锁) shared by the Pool Customer, Lead and
// Customer forms and the pool board. Every action is a whitelisted method that re-checks the rules.
frappe.provide("crm_pool");

crm_pool.call = function (method, args, after) {
	return frappe.call({
		method: "crm_pool.api.pool." + method,
		args: args,
		freeze: true,
		callback: (r) => {
			if (!r.exc) {
				frappe.show_alert({ message: __("Done"), indicator: "green" });
				after && after(r.message);
			}
		},
	});
};

crm_pool.status_indicator = {
	"Pending Review": "orange",
	"In Pool": "blue",
	Owned: "green",
	Locked: "purple",
	Converted: "darkgrey",
	Invalid: "red",
};

crm_pool.ask_reason = function (title, method, pool_customer, after, required = true) {
	frappe.prompt(
		[{ fieldname: "reason", fieldtype: "Small Text", label: __("Reason"), reqd: required ? 1 : 0 }],
		(v) => crm_pool.call(method, { pool_customer: pool_customer, reason: v.reason }, after),
		title,
		__("Confirm")
	);
};

crm_pool.ask_assign = function (pool_customer, after) {
	frappe.prompt(
		[
			{ fieldname: "user", fieldtype: "Link", options: "User", label: __("Assign To"), reqd: 1,
				get_query: () => ({ filters: { enabled: 1, user_type: "System User" } }) },
			{ fieldname: "reason", fieldtype: "Small Text", label: __("Reason") },
		],
		(v) => crm_pool.call("assign", { pool_customer: pool_customer, user: v.user, reason: v.reason }, after),
		__("Assign Customer"),
		__("Assign")
	);
};

// Buttons for what the current user may do, as pool_status() reports it.
crm_pool.add_action_buttons = function (frm, status, after) {
	const group = __("Pool");
	const pc = status.name;
	if (status.can.claim) frm.add_custom_button(__("Claim"), () => crm_pool.call("claim", { pool_customer: pc }, after), group);
	if (status.can.release) frm.add_custom_button(__("Release"), () => crm_pool.ask_reason(__("Release to Pool"), "release", pc, after), group);
	if (status.can.apply && crm_pool.ask_apply) frm.add_custom_button(__("Request Allocation"), () => crm_pool.ask_apply([pc], after), group);
	if (status.can.assign) frm.add_custom_button(__("Assign"), () => crm_pool.ask_assign(pc, after), group);
	if (status.can.allocate && crm_pool.allocation_dialog)
		frm.add_custom_button(__("Allocate to Members"), () => crm_pool.allocation_dialog({ pool_customers: [pc], pool: status.pool, after: after }), group);
	if (status.can.lock) frm.add_custom_button(__("Lock"), () => crm_pool.ask_reason(__("Lock Customer"), "lock", pc, after), group);
	if (status.can.unlock) frm.add_custom_button(__("Unlock"), () => crm_pool.ask_reason(__("Unlock Customer"), "unlock", pc, after, false), group);
};

crm_pool.history_html = function (history) {
	if (!history || !history.length) return `<p class="text-muted">${__("No ownership changes yet")}</p>`;
	const rows = history
		.map(
			(h) => `<tr><td>${frappe.datetime.str_to_user(h.at)}</td><td>${__(h.action)}</td>
			<td>${frappe.utils.escape_html(h.from_user_name || "")}</td><td>${frappe.utils.escape_html(h.to_user_name || "")}</td>
			<td>${frappe.utils.escape_html(h.by_user_name || "")}</td><td>${frappe.utils.escape_html(h.reason || h.rule || "")}</td></tr>`
		)
		.join("");
	return `<table class="table table-sm table-bordered"><thead><tr><th>${__("Done At")}</th><th>${__("Pool Action")}</th>
		<th>${__("From Owner")}</th><th>${__("To Owner")}</th><th>${__("Done By")}</th><th>${__("Reason")}</th></tr></thead><tbody>${rows}</tbody></table>`;
};
