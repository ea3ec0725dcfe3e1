"""The exceptions of crm_pool, one place. Each is a Frappe exception class, so a refusal reaches the
desk and the REST API as its translated message with Frappe's status code (417 for a rule, 403 for a
permission, 409 for a duplicate), never as a traceback."""

import frappe


class PoolRuleError(frappe.ValidationError):
	"""A pool rule refused the action (already owned, cap reached, cooldown, not a member…)."""


class InvalidArgument(PoolRuleError):
	"""An argument of a whitelisted method is missing, of the wrong type or out of range."""


class AuditedPathError(frappe.PermissionError):
	"""An ownership (or Workflow state) change tried outside its audited action: claim, assign,
	release, transfer, allocation request, each through its own action."""


class DuplicateCustomerError(frappe.DuplicateEntryError, frappe.ValidationError):
	"""The party is already a pool customer (same USCC, company name, mobile or email)."""


class IntakeBusyError(frappe.ValidationError):
	"""Another request is entering a customer with the same dedupe key and did not finish in time."""


class SelfApprovalError(frappe.ValidationError):
	"""A user tried to approve or reject their own allocation request."""


class ShareRefusedError(frappe.PermissionError):
	"""A Frappe share that would open a customer to someone the pool's rules keep out."""


class HiddenFieldQueryError(frappe.PermissionError):
	"""A list query filtering, sorting or grouping on a field the user may not read."""
