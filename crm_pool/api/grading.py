"""Whitelisted methods of grading (客户分级, SPEC §4): "Regrade now" from a Customer Grade Rule's form
and its last run; the service (seed 003): assign an exclusive manager (专属经理), complete a return
visit (回访), plan visits now. Each is an `api_method` (crm_pool.api.args: typed arguments, roles). No
`from __future__ import annotations` here: the annotations must stay real types for the argument
validation.
"""

import frappe
from frappe import _

from crm_pool.api import args
from crm_pool.api.args import api_method
from crm_pool.core.errors import InvalidArgument
from crm_pool.core.roles import MANAGER_ROLES, SELLING_ROLES
from crm_pool.grading import managers, visits
from crm_pool.grading import regrade as regrading


@api_method(methods=["POST"], roles=MANAGER_ROLES)
def assign_exclusive_manager(pool_customer: str, user: str, reason: str | None = None) -> dict:
	"""A manager makes `user` the exclusive manager of an owned customer (logged in the Pool Log)."""
	name = args.pool_customer(pool_customer)
	pc = managers.assign(name, args.user(user), args.text(reason, "Reason"))
	return {"pool_customer": pc.name, "exclusive_manager": pc.exclusive_manager}


@api_method(methods=["POST"], roles=SELLING_ROLES)
def complete_visit(
	visit: str,
	status: str = "Done",
	outcome: str | None = None,
	satisfaction: int = 0,
	feedback: str | None = None,
	channel: str | None = None,
) -> dict:
	"""The assignee (or the owner, the exclusive manager, a manager) records a visit as Done or Missed;
	a done visit is a follow-up; the next visit is planned."""
	if status not in (visits.DONE, visits.MISSED):
		frappe.throw(_("A return visit is completed as Done or Missed"), InvalidArgument)
	if channel and channel not in visits.CHANNELS:
		frappe.throw(_("Choose a channel: Phone, Visit or Online"), InvalidArgument)
	if not 0 <= satisfaction <= 5:
		frappe.throw(_("Satisfaction is from 1 to 5 (0: not asked)"), InvalidArgument)
	name = args.existing(visits.DOCTYPE, visit, "Return Visit")
	result = visits.complete(
		name,
		status,
		outcome=args.text(outcome, "Outcome"),
		satisfaction=satisfaction,
		feedback=args.text(feedback, "Customer Feedback"),
		channel=channel,
	)
	return dict(result)


@api_method(methods=["POST"], roles=MANAGER_ROLES)
def plan_visits_now() -> dict:
	"""Run the daily planner now (exclusive managers by default, then visits)."""
	return visits.run_daily()


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
