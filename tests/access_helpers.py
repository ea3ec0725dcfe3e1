"""Calling whitelisted methods as a request does, in the test's transaction."""

from __future__ import annotations

import frappe


def call_whitelisted(cmd: str, **kwargs):
	"""Run the whitelisted method `cmd` with `kwargs` as its form_dict, as frappe.handler does: the
	last `override_whitelisted_methods` hook for it wins, and it must be whitelisted."""
	overrides = frappe.get_hooks("override_whitelisted_methods", {}).get(cmd, [])
	method = frappe.get_attr(overrides[-1] if overrides else cmd)
	frappe.is_whitelisted(method)
	frappe.local.form_dict = frappe._dict(kwargs)
	return frappe.call(method, **frappe.local.form_dict)
