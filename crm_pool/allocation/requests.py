"""Allocation requests (申请, SPEC §3): a salesperson applies for pool customers with a reason; a
Pool Manager or Sales Manager approves or rejects (Workflow "Pool Allocation Request": Draft →
Pending Approval → Approved / Rejected, or Cancelled). Pools whose claim mode is "Apply and
Approve" are claimed this way.

- Nobody approves or rejects their own request: the Workflow's transitions do not allow self
  approval, and `validate` refuses it whatever path the change takes (REST, data import, code).
- On approval each requested customer is re-checked at that moment, under the pool's and then the
  customer's row lock (as every ownership change takes them): still in the pool, the requester
  still a member, out of the cooldown, under the cap. Each line is assigned in its own savepoint
  (`ownership.assign`, Pool Log rule "allocation request <name>") or reported Unavailable with the
  reason; one customer taken meanwhile never stops the others.
- The requester is notified of the decision either way (system notification and email).
- Once decided (or cancelled) a request no longer changes; only a draft's content may be edited; its
  state changes only through the Workflow's transitions (`core.workflow.check_workflow_change`: a
  request posted or saved with docstatus 1 or a hand-set workflow_state is refused).
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.translate import get_user_lang
from frappe.utils import get_fullname, now_datetime, strip_html_tags

from crm_pool.core import workflow
from crm_pool.core.errors import PoolRuleError
from crm_pool.core.normalize import mask_person_name
from crm_pool.core.notify import notify, table
from crm_pool.core.roles import can_manage, is_manager
from crm_pool.core.settings import pool_settings, user_pools
from crm_pool.core.status import HAS_OWNER, IN_POOL
from crm_pool.core.workflow import check_workflow_change
from crm_pool.pool.locking import lock_pool_customer, lock_pools
from crm_pool.pool.ownership import assign, check_cooldown

DOCTYPE = "Pool Allocation Request"

# Workflow states and actions (fixtures/workflow.json)
DRAFT, PENDING_APPROVAL = "Draft", "Pending Approval"
APPROVED, REJECTED, CANCELLED = "Approved", "Rejected", "Cancelled"
FINAL_STATES = (APPROVED, REJECTED, CANCELLED)
SUBMIT_ACTION, APPROVE_ACTION, REJECT_ACTION, CANCEL_ACTION = (
	"Submit for Approval",
	"Approve",
	"Reject",
	"Cancel",
)

# Line results
PENDING, ASSIGNED, UNAVAILABLE = "Pending", "Assigned", "Unavailable"

CONTENT_FIELDS = ("requester", "pool", "reason", "expected_resources")
MAX_LINES = 200


# --- creating a request ----------------------------------------------------------------------------


def create(
	pool_customers: list[str],
	reason: str,
	expected_resources: str | None = None,
	*,
	submit: bool = True,
) -> frappe.model.document.Document:
	"""A request by the current user for `pool_customers` (all of one pool), submitted for approval
	unless `submit` is false (then it stays a draft)."""
	from frappe.model.workflow import apply_workflow

	names = list(dict.fromkeys(pool_customers or []))
	if not names:
		frappe.throw(_("Please choose one or more pool customers"), PoolRuleError)
	pools = set(frappe.get_all("Pool Customer", filters={"name": ("in", names)}, pluck="pool"))
	if len(pools) != 1:
		frappe.throw(_("Please choose customers of one pool at a time"), PoolRuleError)
	doc = frappe.get_doc(
		{
			"doctype": DOCTYPE,
			"requester": frappe.session.user,
			"pool": pools.pop(),
			"reason": reason,
			"expected_resources": expected_resources,
			"lines": [{"pool_customer": name} for name in names],
		}
	)
	doc.insert()
	if submit:
		doc = apply_workflow(doc, SUBMIT_ACTION)
	return doc


# --- controller ------------------------------------------------------------------------------------


def validate(doc) -> None:
	before = doc.get_doc_before_save()
	old = before.workflow_state if before else None
	new = doc.workflow_state or DRAFT
	if old in FINAL_STATES:
		frappe.throw(
			_("Allocation request {0} is {1} and can no longer be changed").format(doc.name, _(old)),
			PoolRuleError,
		)
	# state only through the Workflow's actions (never submitted: docstatus stays 0); the content's
	# freeze outside Draft is checked below
	check_workflow_change(doc, before, "workflow_state", (), None, DRAFT)
	doc.requester = doc.requester or frappe.session.user
	if not doc.pool and doc.lines:
		doc.pool = frappe.db.get_value("Pool Customer", doc.lines[0].pool_customer, "pool")
	if before and old != DRAFT and content_changed(doc, before):
		frappe.throw(_("Only a draft allocation request can be changed"), PoolRuleError)
	if not before or content_changed(doc, before) or (new == PENDING_APPROVAL and old != PENDING_APPROVAL):
		check_content(doc)
	if not before or (new == PENDING_APPROVAL and old != PENDING_APPROVAL):
		check_still_available(doc)
	if new != old and new in (APPROVED, REJECTED):
		check_decider(doc, old)
		doc.decided_by = frappe.session.user
		doc.decided_at = now_datetime()
	if new in (DRAFT, PENDING_APPROVAL):
		# results are the approval's to write: nothing a client sends before it counts
		for line in doc.lines:
			line.status, line.message = PENDING, None
		doc.assigned_count = doc.unavailable_count = 0
		doc.decided_by = doc.decided_at = None


def content_changed(doc, before) -> bool:
	return any(doc.get(f) != before.get(f) for f in CONTENT_FIELDS) or [
		line.pool_customer for line in doc.lines
	] != [line.pool_customer for line in before.lines]


def check_content(doc) -> None:
	"""Who asks, from which pool, for what, and why."""
	if doc.requester != frappe.session.user and not is_manager():
		frappe.throw(_("You can only request customers for yourself"), frappe.PermissionError)
	if not (doc.reason or "").strip():
		frappe.throw(_("Please give a reason for the request"), PoolRuleError)
	if not doc.lines:
		frappe.throw(_("Please add the pool customers you are requesting"), PoolRuleError)
	if len(doc.lines) > MAX_LINES:
		frappe.throw(_("Please request at most {0} customers at a time").format(MAX_LINES), PoolRuleError)
	settings = pool_settings(doc.pool)
	if not settings.enabled:
		frappe.throw(_("Pool {0} is disabled").format(settings.pool_name), PoolRuleError)
	if doc.pool not in user_pools(doc.requester) and not is_manager(doc.requester):
		frappe.throw(
			_("{0} is not a member of pool {1}").format(get_fullname(doc.requester), settings.pool_name),
			PoolRuleError,
		)
	seen = set()
	pools = dict(
		frappe.get_all(
			"Pool Customer",
			filters={"name": ("in", [line.pool_customer for line in doc.lines])},
			fields=["name", "pool"],
			as_list=True,
		)
	)
	for line in doc.lines:
		if line.pool_customer in seen:
			frappe.throw(
				_("Row {0}: {1} is requested twice").format(line.idx, line.pool_customer),
				PoolRuleError,
			)
		seen.add(line.pool_customer)
		if pools.get(line.pool_customer) != doc.pool:
			frappe.throw(
				_("Row {0}: {1} is not a customer of pool {2}").format(
					line.idx, line.customer_name or line.pool_customer, settings.pool_name
				),
				PoolRuleError,
			)


def check_still_available(doc) -> None:
	"""When made and when submitted: every requested customer is in the pool now, and not already
	in another pending request of the same requester."""
	names = [line.pool_customer for line in doc.lines]
	status = dict(
		frappe.get_all(
			"Pool Customer", filters={"name": ("in", names)}, fields=["name", "status"], as_list=True
		)
	)
	for line in doc.lines:
		if status.get(line.pool_customer) != IN_POOL:
			frappe.throw(
				_("Row {0}: {1} is no longer in the pool").format(
					line.idx, line.customer_name or line.pool_customer
				),
				PoolRuleError,
			)
	pending = frappe.db.sql(  # a join of the request and its lines
		"""SELECT l.pool_customer, r.name FROM `tabPool Allocation Request Line` l
		JOIN `tabPool Allocation Request` r ON r.name = l.parent AND l.parenttype = %(doctype)s
		WHERE r.requester = %(requester)s AND r.workflow_state = %(pending)s AND r.name != %(name)s
		AND l.pool_customer IN %(names)s LIMIT 1""",
		{
			"doctype": DOCTYPE,
			"requester": doc.requester,
			"pending": PENDING_APPROVAL,
			"name": doc.name or "",
			"names": names,
		},
	)
	if pending:
		frappe.throw(
			_("{0} is already requested in your pending request {1}").format(pending[0][0], pending[0][1]),
			PoolRuleError,
		)


def check_decider(doc, old_state: str | None) -> None:
	"""Approve/Reject: from Pending Approval, by a manager of the pool who did not ask."""
	workflow.check_decider(
		doc,
		old_state,
		PENDING_APPROVAL,
		can_manage(doc.pool, frappe.session.user),
		not_pending=_("Only a request pending approval can be approved or rejected"),
		own=_("You cannot approve or reject your own allocation request"),
		not_allowed=_("Only a pool admin or a manager may approve or reject allocation requests"),
	)


def on_update(doc) -> None:
	before = doc.get_doc_before_save()
	old = before.workflow_state if before else None
	if doc.workflow_state == old:
		return
	if doc.workflow_state == APPROVED:
		approve(doc)
		notify_requester(doc)
	elif doc.workflow_state == REJECTED:
		notify_requester(doc)
	elif doc.workflow_state == PENDING_APPROVAL:
		notify_approvers(doc)


def on_trash(doc) -> None:
	if doc.workflow_state not in (DRAFT, None, ""):
		frappe.throw(_("Only a draft allocation request can be deleted"), frappe.PermissionError)


# --- approval --------------------------------------------------------------------------------------


def approve(doc) -> None:
	"""Assign each requested customer that is still available to the requester, each in its own
	savepoint; record every line's result (written straight to the lines: the request itself is
	being saved)."""
	lang = frappe.local.lang
	frappe.local.lang = get_user_lang(doc.requester)  # the lines' messages are for the requester
	try:
		# the pool's row first, as every ownership change in crm_pool locks it
		lock_pools([doc.pool])
		settings = pool_settings(doc.pool)
		rule = f"allocation request {doc.name}"
		for line in doc.lines:
			line.status, line.message = assign_line(doc, line.pool_customer, settings, rule)
			line.db_update()
	finally:
		frappe.local.lang = lang
	doc.assigned_count = sum(1 for line in doc.lines if line.status == ASSIGNED)
	doc.unavailable_count = sum(1 for line in doc.lines if line.status == UNAVAILABLE)
	doc.db_set(
		{"assigned_count": doc.assigned_count, "unavailable_count": doc.unavailable_count},
		update_modified=False,
	)


def assign_line(doc, pool_customer: str, settings: frappe._dict, rule: str) -> tuple[str, str]:
	"""(ASSIGNED, message) or (UNAVAILABLE, why); whatever failed is rolled back to the savepoint."""
	savepoint = f"allocation_request_{frappe.generate_hash(length=8)}"
	frappe.db.savepoint(savepoint)
	messages = len(frappe.local.message_log)
	try:
		pc = lock_pool_customer(pool_customer)
		check_available(doc, pc, settings)
		check_cooldown(pc, settings, doc.requester)
		assign(pc.name, doc.requester, doc.reason, rule=rule)  # checks the cap
	except (frappe.ValidationError, frappe.PermissionError) as e:
		frappe.db.rollback(save_point=savepoint)
		del frappe.local.message_log[messages:]
		return UNAVAILABLE, strip_html_tags(str(e)).strip()
	return ASSIGNED, _("Assigned to {0}").format(get_fullname(doc.requester))


def check_available(doc, pc: frappe._dict, settings: frappe._dict) -> None:
	"""The customer (locked) is still in the request's pool and the requester still a member."""
	if pc.pool != doc.pool:
		frappe.throw(_("{0} has moved to another pool").format(pc.customer_name), PoolRuleError)
	if pc.status in HAS_OWNER:
		if pc.owned_by == doc.requester:
			frappe.throw(_("{0} is already yours").format(pc.customer_name), PoolRuleError)
		frappe.throw(
			_("{0} was taken by {1} before the approval").format(
				pc.customer_name, mask_person_name(get_fullname(pc.owned_by))
			),
			PoolRuleError,
		)
	if pc.status != IN_POOL:
		frappe.throw(
			_("{0} is no longer in the pool (status: {1})").format(pc.customer_name, _(pc.status)),
			PoolRuleError,
		)
	if not settings.enabled:
		frappe.throw(_("Pool {0} is disabled").format(settings.pool_name), PoolRuleError)
	if doc.pool not in user_pools(doc.requester) and not is_manager(doc.requester):
		frappe.throw(
			_("{0} is no longer a member of pool {1}").format(
				get_fullname(doc.requester), settings.pool_name
			),
			PoolRuleError,
		)


# --- notifications ---------------------------------------------------------------------------------


def notify_requester(doc) -> None:
	"""The decision, with each line's result, to the requester."""
	lang = get_user_lang(doc.requester)
	total = len(doc.lines)
	if doc.workflow_state == APPROVED:
		subject = _(
			"Your allocation request {0} was approved: {1} of {2} customers are now yours", lang
		).format(doc.name, doc.assigned_count, total)
	else:
		subject = _("Your allocation request {0} was rejected", lang).format(doc.name)
	message = table(
		[
			(line.customer_name or line.pool_customer, _(line.status or PENDING, lang), line.message)
			for line in doc.lines
		],
		lang,
		total=total,
	)
	if doc.decision_note:
		note = _("Approver's Note", lang)
		message = f"<p>{note}: {frappe.utils.escape_html(doc.decision_note)}</p>{message}"
	notify(doc.requester, subject, message, document_type=DOCTYPE, document_name=doc.name)


def notify_approvers(doc) -> None:
	"""A submitted request, to the pool's admins who may approve it."""
	admins = frappe.get_all(
		"Customer Pool Member",
		filters={"parent": doc.pool, "parenttype": "Customer Pool", "is_admin": 1, "user": ("is", "set")},
		pluck="user",
	)
	for user in admins:
		if user in (doc.requester, doc.owner) or not is_manager(user):
			continue
		lang = get_user_lang(user)
		notify(
			user,
			_("{0} requests {1} customers of pool {2}", lang).format(
				doc.requester_name or get_fullname(doc.requester), len(doc.lines), doc.pool
			),
			frappe.utils.escape_html(doc.reason or ""),
			document_type=DOCTYPE,
			document_name=doc.name,
		)
