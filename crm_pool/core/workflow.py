"""Documents whose approval Workflow decides (Ownership Transfer, Pool Allocation Request): their state
changes only through the Workflow's transitions, and their content is frozen once submitted."""

import frappe
from frappe import _
from frappe.utils import cint, flt, getdate

from crm_pool.core.errors import AuditedPathError, PoolRuleError, SelfApprovalError


def check_workflow_change(
	doc, before, state_field: str, content_fields: tuple[str, ...], lines: str | None, draft: str = "Draft"
) -> None:
	"""A document of an approval Workflow changes state only through the Workflow's transitions:
	made as a draft (docstatus 0, the first state), then each change of state (and of docstatus) is
	a transition the user's roles allow, with the docstatus of its new state — what
	`frappe.model.workflow.apply_workflow` does. Frappe itself checks the transition, but sets the
	state of a document saved or posted with docstatus 1 after that check, which let a document
	approve itself. Outside `draft`, the content (`content_fields`, the `lines` table's pool
	customers) is frozen. Refusals raise AuditedPathError."""
	from frappe.model.workflow import get_workflow_name

	workflow_name = get_workflow_name(doc.doctype)
	workflow = frappe.get_cached_doc("Workflow", workflow_name) if workflow_name else None
	first = workflow.states[0].state if workflow and workflow.states else None
	new_state = doc.get(state_field)
	if not before:
		if doc.docstatus != 0 or (first and new_state not in (None, "", first)):
			frappe.throw(
				_("A new {0} is saved as a draft; its Workflow actions move it on").format(_(doc.doctype)),
				AuditedPathError,
				title=_("Not Allowed"),
			)
		return
	old_state = before.get(state_field)
	if workflow and (old_state != new_state or before.docstatus != doc.docstatus):
		roles = set(frappe.get_roles())
		allowed = any(
			t.state == old_state and t.next_state == new_state and t.allowed in roles
			for t in workflow.transitions
		)
		target = next((s for s in workflow.states if s.state == new_state), None)
		if not allowed or not target or cint(target.doc_status) != doc.docstatus:
			frappe.throw(
				_("{0} {1} cannot go from {2} to {3} this way: use its Workflow actions").format(
					_(doc.doctype), doc.name, _(old_state or ""), _(new_state or "")
				),
				AuditedPathError,
				title=_("Not Allowed"),
			)
	if (old_state or draft) != draft:
		changed = changed_fields(doc, before, content_fields)
		if lines and [r.pool_customer for r in doc.get(lines)] != [
			r.pool_customer for r in before.get(lines)
		]:
			changed.append(lines)
		if changed:
			frappe.throw(
				_("{0} {1} is {2}: only a draft can be changed ({3})").format(
					_(doc.doctype),
					doc.name,
					_(old_state),
					", ".join(_(doc.meta.get_label(f)) for f in changed),
				),
				AuditedPathError,
				title=_("Not Allowed"),
			)


def check_decider(
	doc,
	old_state: str | None,
	pending: str,
	may_decide: bool,
	*,
	not_pending: str,
	own: str,
	not_allowed: str,
) -> None:
	"""Approve or reject a request: only from its `pending` state (else `not_pending`), never by whoever
	asked — its requester or creator (`own`, a SelfApprovalError) — and only by someone who
	`may_decide` (else `not_allowed`). The messages are the document's own, translated."""
	if old_state != pending:
		frappe.throw(not_pending, PoolRuleError)
	if frappe.session.user in (doc.requester, doc.owner):
		frappe.throw(own, SelfApprovalError, title=_("Self Approval"))
	if not may_decide:
		frappe.throw(not_allowed, frappe.PermissionError)


def changed_fields(doc, before, fields: tuple[str, ...]) -> list[str]:
	"""The `fields` whose value differs from the stored document, each compared as stored: a form
	sends dates as text and numbers maybe as text, and an unchanged value must compare equal."""
	return [f for f in fields if _stored(doc, f, doc.get(f)) != _stored(doc, f, before.get(f))]


def _stored(doc, field: str, value):
	if value in (None, ""):
		return None
	fieldtype = doc.meta.get_field(field).fieldtype if doc.meta.get_field(field) else None
	if fieldtype == "Date":
		return getdate(value)
	if fieldtype in ("Currency", "Float", "Percent"):
		return flt(value)
	if fieldtype in ("Int", "Check"):
		return cint(value)
	return value
