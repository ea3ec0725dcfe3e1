"""Ownership transfer (调整 · 交接, SPEC §3, seed 004 §五).

An **Ownership Transfer** moves customers from one owner to another owner, or back to the pool, for a
reason (its trigger: 离职 leaving, 岗位调整 role change, 客户要求 customer request, 组织调整
reorganization, 业绩评估 results). It goes through the Workflow "Ownership Transfer" (Draft → Pending
Approval → Approved / Rejected, or Cancelled); nobody decides on a transfer they asked for, give or
receive. Its state changes only through the Workflow's actions (a transfer posted or saved with
docstatus 1 or a hand-set status is refused) and its content is frozen once it leaves Draft
(`core.workflow.check_workflow_change`). Approval (`execute`, the document's on_submit) happens in one transaction and set-based,
however many customers move:

- the customers: selected lines, or every customer the from-owner owns at that moment;
- each line is checked under row locks (pool rows, then customer rows): a customer no longer owned by
  the from-owner, or over the receiver's cap (unless the manager overrides it), stays where it is and
  its line says why; locked customers move with their lock;
- ownership moves through `ownership.set_owner_many` (Pool Log TRANSFER — or RELEASE back to the
  pool — with the trigger as rule; Lead.lead_owner / Customer.account_manager; assignments);
- the customers' open Opportunities (opportunity_owner), open Quotations and the from-owner's open
  ToDos on them move to the new owner (back to the pool: the ToDos are cancelled, the Opportunities
  lose their owner);
- the hand-over notes become a comment on the transfer and an Info comment on each party;
- the new owner is notified (system notification and a queued email).

A User disabled, or an Employee set to Left, gets a Draft transfer of everything they own, back to
the pool unless a manager picks a receiver, assigned to the managers (`on_user_update`,
`on_employee_update`), so no customer is left ownerless silently.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import get_fullname, now_datetime

from crm_pool.core.roles import is_manager, is_salesperson
from crm_pool.core.setbased import insert_records
from crm_pool.core.status import HAS_OWNER
from crm_pool.core.workflow import check_workflow_change
from crm_pool.transfer.handover import add_handover_comments, move_customers, notify_receiver

DOCTYPE = "Ownership Transfer"
LINE_DOCTYPE = "Ownership Transfer Customer"

# Workflow states (the `status` field)
DRAFT, PENDING, APPROVED, REJECTED, CANCELLED = (
	"Draft",
	"Pending Approval",
	"Approved",
	"Rejected",
	"Cancelled",
)
OPEN_STATES = (DRAFT, PENDING)
# What a transfer moves, where and why: frozen once it leaves Draft.
CONTENT_FIELDS = (
	"trigger",
	"reason",
	"from_owner",
	"to_pool",
	"to_owner",
	"override_cap",
	"all_customers",
	"handover_notes",
)
DECIDED_STATES = (APPROVED, REJECTED)
WORKFLOW = "Ownership Transfer"

# Triggers (调整触发条件)
LEAVING, ROLE_CHANGE, CUSTOMER_REQUEST, REORGANIZATION, RESULTS = (
	"Leaving",
	"Role Change",
	"Customer Request",
	"Reorganization",
	"Results",
)
TRIGGERS = (LEAVING, ROLE_CHANGE, CUSTOMER_REQUEST, REORGANIZATION, RESULTS)


# --- the document's rules (called by its controller) ----------------------------------------------


def validate(doc: Document) -> None:
	"""Ownership Transfer validate: who may ask for what, a receiver or the pool, lines, decisions."""
	before = doc.get_doc_before_save()
	if before and before.status in (REJECTED, CANCELLED):
		frappe.throw(_("This transfer is {0} and can no longer be changed").format(_(before.status)))
	# state only through the Workflow's actions, content frozen once submitted for approval
	check_workflow_change(doc, before, "status", CONTENT_FIELDS, "customers", DRAFT)
	if doc.is_new():
		doc.requested_by = doc.requested_by or frappe.session.user
	manager = is_manager()
	if (
		not manager
		and not doc.flags.system_draft
		and (doc.is_new() or doc.has_value_changed("from_owner"))
		and doc.from_owner != frappe.session.user
	):
		frappe.throw(
			_("You may ask to transfer your own customers only; a manager transfers anyone's"),
			frappe.PermissionError,
		)
	if doc.trigger not in TRIGGERS:
		frappe.throw(_("Choose the trigger of the transfer"), frappe.MandatoryError)
	if doc.to_pool:
		doc.to_owner = doc.to_owner_name = None
		doc.override_cap = 0
	elif not doc.to_owner:
		frappe.throw(_("Choose who receives the customers, or tick Back to the Pool"), frappe.MandatoryError)
	if doc.to_owner and doc.to_owner == doc.from_owner:
		frappe.throw(_("The customers already belong to {0}").format(get_fullname(doc.to_owner)))
	if doc.to_owner and not frappe.db.get_value("User", doc.to_owner, "enabled"):
		frappe.throw(_("User {0} does not exist or is disabled").format(doc.to_owner))
	if doc.to_owner and not is_salesperson(doc.to_owner):
		frappe.throw(_("{0} is not a sales user").format(get_fullname(doc.to_owner)))
	if doc.has_value_changed("override_cap") and doc.override_cap and not manager:
		frappe.throw(_("Only a manager may override the receiver's cap"), frappe.PermissionError)
	validate_lines(doc)
	if before and before.status != doc.status and doc.status in DECIDED_STATES:
		check_decider(doc)
		doc.decided_by, doc.decided_at = frappe.session.user, now_datetime()


def validate_lines(doc: Document) -> None:
	"""Selected customers: listed once each; the count shown is what would move now."""
	if doc.all_customers:
		doc.set("customers", [])
		doc.customer_count = len(owned_by(doc.from_owner))
		return
	before = doc.get_doc_before_save()
	listed_before = {line.pool_customer for line in before.customers} if before else set()
	seen = set()
	for line in doc.customers:
		if line.pool_customer in seen:
			frappe.throw(_("Row {0}: {1} is listed twice").format(line.idx, line.pool_customer))
		seen.add(line.pool_customer)
		if doc.docstatus == 0 and line.pool_customer not in listed_before:
			owner = frappe.db.get_value("Pool Customer", line.pool_customer, "owned_by")
			if owner != doc.from_owner:
				frappe.throw(
					_("Row {0}: {1} is not owned by {2}").format(
						line.idx, line.pool_customer, get_fullname(doc.from_owner)
					)
				)
	if not doc.customers and doc.status != CANCELLED:
		frappe.throw(_("Choose the customers to transfer, or tick All Customers of the From Owner"))
	doc.customer_count = len(doc.customers)


def check_decider(doc: Document) -> None:
	"""No self-approval: whoever asked for a transfer, gives or receives its customers does not decide
	on it; deciders are managers (Workflow: Sales Manager, Pool Manager)."""
	user = frappe.session.user
	if user == "Administrator":
		return
	if not is_manager(user):
		frappe.throw(_("Only a manager may approve or reject a transfer"), frappe.PermissionError)
	if user in (doc.owner, doc.requested_by, doc.from_owner, doc.to_owner):
		frappe.throw(
			_("You may not approve or reject a transfer you asked for, give or receive"),
			frappe.PermissionError,
			title=_("Self Approval"),
		)


def on_submit(doc: Document) -> None:
	if doc.status != APPROVED:
		frappe.throw(_("A transfer takes effect when it is approved"))
	execute(doc)


# --- approval: moving the customers ---------------------------------------------------------------


def owned_by(user: str) -> list[str]:
	"""The pool customers `user` owns now (owned, locked or converted)."""
	return frappe.get_all(
		"Pool Customer",
		filters={"owned_by": user, "status": ("in", HAS_OWNER)},
		order_by="name",
		pluck="name",
	)


def execute(doc: Document) -> dict:
	"""Carry out an approved transfer (see the module's doc); the lines get their results. Returns
	{"moved": n, "not_moved": n, "documents": n}."""
	if doc.all_customers:
		names = owned_by(doc.from_owner)
		lines = [frappe._dict(name=None, pool_customer=name) for name in names]
	else:
		lines = [frappe._dict(name=line.name, pool_customer=line.pool_customer) for line in doc.customers]
	to_user = None if doc.to_pool else doc.to_owner
	reason = _("Ownership transfer {0} ({1}): {2}").format(
		doc.name, _(doc.trigger), (doc.reason or "").strip() or _("no reason given")
	)
	results = move_customers(
		[line.pool_customer for line in lines],
		doc.from_owner,
		to_user,
		reason=reason,
		rule=doc.trigger,
		override_cap=bool(doc.override_cap),
	)
	moved = [results[line.pool_customer].row for line in lines if results[line.pool_customer].moved]
	write_lines(doc, lines, results)
	add_handover_comments(doc, moved, to_user)
	documents = sum(r.documents for r in results.values())
	counts = {"moved": len(moved), "not_moved": len(lines) - len(moved), "documents": documents}
	doc.db_set(
		{
			"moved_count": counts["moved"],
			"failed_count": counts["not_moved"],
			"documents_moved": documents,
			"customer_count": len(lines),
		},
		update_modified=False,
	)
	if to_user and moved:
		frappe.share.add_docshare(DOCTYPE, doc.name, to_user, read=1, flags={"ignore_share_permission": True})
		notify_receiver(doc, to_user, moved)
	return counts


# --- results, hand-over notes and notification ----------------------------------------------------


def write_lines(doc: Document, lines: list[frappe._dict], results: dict[str, frappe._dict]) -> None:
	"""The lines with their results, rewritten in one statement (all-customers transfers get their
	lines here, at approval)."""
	rows = []
	for idx, line in enumerate(lines, start=1):
		result = results[line.pool_customer]
		row = result.row or frappe._dict()
		rows.append(
			{
				"name": line.name,
				"idx": idx,
				"parent": doc.name,
				"parentfield": "customers",
				"parenttype": DOCTYPE,
				"pool_customer": line.pool_customer,
				"customer_name": row.get("customer_name"),
				"pool": row.get("pool"),
				"result": result.result,
				"message": result.message,
			}
		)
	frappe.db.delete(LINE_DOCTYPE, {"parenttype": DOCTYPE, "parent": doc.name})
	insert_records(LINE_DOCTYPE, rows, docstatus=1)
	doc.set("customers", rows)
