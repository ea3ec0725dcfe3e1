"""No tracebacks to users: a refusal reaches the desk and the REST API as its translated message only.

Frappe adds the server's traceback to an error response (`exc`, `exception`) when System Settings
"Show Full Error and Allow Reporting of Issues to the Developer" (allow_error_traceback) is on, as it
is by default. The app turns it off at install and on existing sites (a patch), and a before_request
hook keeps tracebacks from every user but Administrator even if the setting is turned on again.
Errors of 500 and above are still recorded in the Error Log for System Managers.
"""

import frappe


def disable_error_traceback() -> None:
	"""Turn System Settings' allow_error_traceback off (idempotent)."""
	if frappe.db.get_single_value("System Settings", "allow_error_traceback"):
		frappe.db.set_single_value("System Settings", "allow_error_traceback", 0)
		frappe.clear_cache(doctype="System Settings")


def hide_traceback() -> None:
	"""before_request: no traceback in any response to a user other than Administrator."""
	if frappe.session.user != "Administrator":
		frappe.local.flags.disable_traceback = True
