"""Calling whitelisted methods as a request does, in the test's transaction."""

from __future__ import annotations

import frappe


def call_whitelisted(cmd: str, **kwargs):
	"""Run the whitelisted method `cmd` with `kwargs` as its form_dict, as a request does: the app's
	`before_request` hooks first, then, as frappe.handler, the last `override_whitelisted_methods`
	hook for it wins, and it must be whitelisted."""
	for hook in frappe.get_hooks("before_request"):  # as frappe.app does for every request
		frappe.call(hook)
	overrides = frappe.get_hooks("override_whitelisted_methods", {}).get(cmd, [])
	method = frappe.get_attr(overrides[-1] if overrides else cmd)
	frappe.is_whitelisted(method)
	frappe.local.form_dict = frappe._dict(kwargs)
	return frappe.call(method, **frappe.local.form_dict)
