"""Customer Grade Override (客户等级调整): a grade set by hand, with a reason and an expiry date.

- A salesperson (or a manager) requests it for a customer they may read; it goes Draft → Pending
  Approval → Approved / Rejected (or Cancelled) through the Workflow "Customer Grade Override" only
  (`core.workflow.check_workflow_change`); outside Draft its content is frozen.
- A Sales Manager or Pool Manager decides, never the requester (nor whoever made the document).
- Approved: the grade applies at once (Customer Grade Log, why "Override") and wins in every regrade
  until the expiry date; after it the regrade brings the computed grade back (why "Override
  Expired"). Rejected and cancelled overrides change nothing.
"""

import frappe
from frappe import _
from frappe.utils import getdate, now_datetime, nowdate

from crm_pool.core import workflow
from crm_pool.core.errors import PoolRuleError
from crm_pool.core.roles import POOL_MANAGER, SALES_MANAGER, SYSTEM_MANAGER
from crm_pool.core.workflow import check_workflow_change
from crm_pool.grading.rules import grade_codes
from crm_pool.grading.scores import WHY_OVERRIDE

DRAFT, PENDING_APPROVAL, APPROVED, REJECTED, CANCELLED = (
	"Draft",
	"Pending Approval",
	"Approved",
	"Rejected",
	"Cancelled",
)
FINAL_STATES = (APPROVED, REJECTED, CANCELLED)
CONTENT_FIELDS = ("pool_customer", "grade", "expiry_date", "reason", "requester")
DECIDER_ROLES = (SALES_MANAGER, POOL_MANAGER, SYSTEM_MANAGER)


def validate(doc) -> None:
	before = doc.get_doc_before_save()
	old = before.workflow_state if before else None
	new = doc.workflow_state or DRAFT
	if old in FINAL_STATES and (new != old or doc.docstatus != before.docstatus):
		frappe.throw(
			_("Grade override {0} is {1} and can no longer be changed").format(doc.name, _(old)),
			PoolRuleError,
		)
	check_workflow_change(doc, before, "workflow_state", CONTENT_FIELDS, None, DRAFT)
	if not before:
		doc.requester = frappe.session.user
	if not before or (old == DRAFT and new == DRAFT):
		check_content(doc)
	if new != old and new in (APPROVED, REJECTED):
		check_decider(doc, old)
		doc.decided_by = frappe.session.user
		doc.decided_at = now_datetime()
	if new in (DRAFT, PENDING_APPROVAL):
		doc.decided_by = doc.decided_at = None


def check_content(doc) -> None:
	"""A known grade, an expiry date after today, a customer the requester may read."""
	if doc.grade not in grade_codes():
		frappe.throw(_("Unknown grade {0}").format(doc.grade), PoolRuleError)
	if not doc.expiry_date or getdate(doc.expiry_date) <= getdate(nowdate()):
		frappe.throw(_("The expiry date must be after today"), PoolRuleError)
	pc = frappe.get_doc("Pool Customer", doc.pool_customer)
	if not pc.customer:
		frappe.throw(_("Only customers are graded: convert the lead first"), PoolRuleError)
	if not frappe.has_permission("Pool Customer", "read", doc=pc, user=doc.requester or frappe.session.user):
		frappe.throw(_("You may not request a grade for this customer"), frappe.PermissionError)
	doc.customer_name = pc.customer_name
	doc.current_grade = pc.grade


def check_decider(doc, old_state: str | None) -> None:
	"""Approve/Reject: from Pending Approval, by a Sales Manager or Pool Manager who did not ask."""
	user = frappe.session.user
	workflow.check_decider(
		doc,
		old_state,
		PENDING_APPROVAL,
		user == "Administrator" or bool(set(frappe.get_roles(user)) & set(DECIDER_ROLES)),
		not_pending=_("Only an override pending approval can be approved or rejected"),
		own=_("You cannot approve or reject your own grade override"),
		not_allowed=_("Only a Sales Manager or Pool Manager may approve grade overrides"),
	)


def on_update(doc) -> None:
	"""Approved: the grade applies now and is logged."""
	before = doc.get_doc_before_save()
	if doc.workflow_state == APPROVED and (not before or before.workflow_state != APPROVED):
		apply(doc)


def apply(doc) -> None:
	"""Write the override's grade on the Pool Customer (and log the change), and its recycle due date."""
	from crm_pool.pool.followup import recompute_due

	current = frappe.db.get_value(
		"Pool Customer", doc.pool_customer, ["grade", "customer_name"], as_dict=True
	)
	now = now_datetime()
	frappe.db.set_value(
		"Pool Customer",
		doc.pool_customer,
		{"grade": doc.grade, "grade_override": doc.name, "graded_at": now},
		update_modified=False,
	)
	if (current.grade or None) != doc.grade:
		log = frappe.get_doc(
			{
				"doctype": "Customer Grade Log",
				"pool_customer": doc.pool_customer,
				"customer_name": current.customer_name,
				"from_grade": current.grade or None,
				"to_grade": doc.grade,
				"why": WHY_OVERRIDE,
				"run": doc.name,
				"at": now,
				"override": doc.name,
			}
		)
		log.insert(ignore_permissions=True)
		recompute_due([doc.pool_customer])
