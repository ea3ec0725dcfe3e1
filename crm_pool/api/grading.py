"""Whitelisted methods of grading (客户分级): "Regrade now" from a Customer Grade Rule's form. See
crm_pool.api.pool for the conventions (typed `api_method`s, no `from __future__ import annotations`).
"""

import frappe
from frappe import _

from crm_pool.api.args import api_method
from crm_pool.core.roles import MANAGER_ROLES
from crm_pool.grading import regrade as regrading


@api_method(methods=["POST"], roles=MANAGER_ROLES)
def regrade() -> dict:
	"""Regrade every customer in the background (long queue), with progress on the desk; managers
	only. Returns the job id and a message."""
	job = regrading.enqueue()
	return {"job": job, "message": _("Regrading in the background: grades change when it is done")}


@api_method(methods=["GET", "POST"], roles=MANAGER_ROLES)
def last_run(rule: str) -> dict:
	"""The rule's last run (for the form after the job): run id, when, customers graded and changed."""
	if not frappe.db.exists("Customer Grade Rule", rule):
		frappe.throw(_("Customer Grade Rule {0} not found").format(rule), frappe.DoesNotExistError)
	return frappe.db.get_value(
		"Customer Grade Rule", rule, ["last_run", "last_run_at", "last_graded", "last_changed"], as_dict=True
	)
