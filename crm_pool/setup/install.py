"""Install-time set-up that fixtures cannot express."""

import frappe

from crm_pool.setup.roles import POOL_MANAGER


def after_install() -> None:
	"""Create the app's role (fixtures are synced only after this hook) and give it to Administrator."""
	if not frappe.db.exists("Role", POOL_MANAGER):
		frappe.get_doc({"doctype": "Role", "role_name": POOL_MANAGER, "desk_access": 1}).insert(
			ignore_permissions=True
		)
	frappe.get_doc("User", "Administrator").add_roles(POOL_MANAGER)
