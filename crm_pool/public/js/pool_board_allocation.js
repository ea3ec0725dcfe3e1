// The pool board (Pool Customer's list): 申请 (apply for the selected customers, as a request a manager
// approves — the way to claim from "Apply and Approve" pools) and 调配 (a pool admin or manager allocates
// the selected customers, or the pool's customers by filters, after a preview).
(() => {
	const settings = frappe.listview_settings["Pool Customer"] || (frappe.listview_settings["Pool Customer"] = {});
	const previous_onload = settings.onload;
	settings.onload = function (listview) {
		previous_onload && previous_onload.call(this, listview);
		const selected = () => listview.get_checked_items(true);
		// The board's pool: its filter (standard filter field or filter list), else the filters the
		// list took from the route and has not applied yet, else the route options or the URL
		// (`/app/pool-customer?pool=...`) — the button may be used before the list has refreshed.
		const pool_filter = () => {
			const from = (filters) => {
				const f = (filters || []).find((x) => x[1] === "pool" && ["=", "like"].includes(x[2]) && x[3]);
				return f && typeof f[3] === "string" ? f[3].replace(/^%|%$/g, "") : null;
			};
			const field = listview.page.fields_dict && listview.page.fields_dict.pool;
			return (
				(field && field.get_value()) ||
				from(listview.filter_area && listview.filter_area.get()) ||
				from(listview.filters) ||
				(frappe.route_options && typeof frappe.route_options.pool === "string" && frappe.route_options.pool) ||
				frappe.utils.get_query_params().pool ||
				null
			);
		};
		listview.page.add_actions_menu_item(__("Request Allocation"), () => {
			const names = selected();
			if (!names.length) return frappe.msgprint(__("Please select the customers to apply for"));
			crm_pool.ask_apply(names, (res) => {
				listview.clear_checked_items();
				frappe.set_route("Form", "Pool Allocation Request", res.name);
			});
		});
		const managing = frappe.user.has_role(["Pool Manager", "Sales Manager", "System Manager"]);
		listview.page.add_actions_menu_item(__("Allocate to Members"), () => {
			const names = selected();
			if (!names.length) return frappe.msgprint(__("Please select the customers to allocate"));
			crm_pool.allocation_dialog({
				pool_customers: names,
				pool: listview.data.find((d) => d.name === names[0])?.pool,
				after: () => {
					listview.clear_checked_items();
					listview.refresh();
				},
			});
		});
		if (managing) {
			listview.page.add_inner_button(__("Allocate from Pool"), () =>
				crm_pool.allocation_dialog({ pool: pool_filter(), after: () => listview.refresh() })
			);
		}
	};
})();
