"""Ownership transfer (调整 · 交接, SPEC §3, seed 004 §五).

An **Ownership Transfer** moves customers from one owner to another owner, or back to the pool, for a
reason (its trigger: 离职 leaving, 岗位调整 role change, 客户要求 customer request, 组织调整
reorganization, 业绩评估 results). It goes through the Workflow "Ownership Transfer" (Draft → Pending
Approval → Approved / Rejected, or Cancelled); nobody decides on a transfer they asked for, give or
receive. Its state changes only through the Workflow's actions (a transfer posted or saved with
docstatus 1 or a hand-set status is refused) and its content is frozen once it leaves Draft
(`ownership.check_workflow_change`). Approval (`execute`, the document's on_submit) happens in one transaction and set-based,
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

from collections import defaultdict

import frappe
from frappe import _
from frappe.desk.form import assign_to
from frappe.model.document import Document
from frappe.translate import get_user_lang
from frappe.utils import escape_html, get_fullname, now_datetime

from crm_pool.pool import mirror, ownership
from crm_pool.pool.followup import OPEN_OPPORTUNITY_STATUSES
from crm_pool.pool.notify import notify
from crm_pool.pool.status import HAS_OWNER, RELEASE, TRANSFER
from crm_pool.setup.roles import MANAGER_ROLES, POOL_MANAGER, SALES_MANAGER, SALES_USER

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

# Line results
MOVED, RELEASED, NOT_MOVED = "Moved", "Released", "Not Moved"

OPEN_QUOTATION_STATUSES = ("Draft", "Open", "Replied", "Partially Ordered")
# The notification lists this many customers; the transfer itself lists them all.
LISTED = 20


# --- the document's rules (called by its controller) ----------------------------------------------


def validate(doc: Document) -> None:
	"""Ownership Transfer validate: who may ask for what, a receiver or the pool, lines, decisions."""
	before = doc.get_doc_before_save()
	if before and before.status in (REJECTED, CANCELLED):
		frappe.throw(_("This transfer is {0} and can no longer be changed").format(_(before.status)))
	# state only through the Workflow's actions, content frozen once submitted for approval
	ownership.check_workflow_change(doc, before, "status", CONTENT_FIELDS, "customers", DRAFT)
	if doc.is_new():
		doc.requested_by = doc.requested_by or frappe.session.user
	manager = ownership.is_manager()
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
	if doc.to_owner and not _is_salesperson(doc.to_owner):
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
	if not set(frappe.get_roles(user)) & set(MANAGER_ROLES):
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
	return frappe.db.sql_list(
		"SELECT name FROM `tabPool Customer` WHERE owned_by = %s AND status IN %s ORDER BY name",
		(user, HAS_OWNER),
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


def move_customers(
	names: list[str],
	from_user: str,
	to_user: str | None,
	*,
	reason: str,
	rule: str | None = None,
	override_cap: bool = False,
) -> dict[str, frappe._dict]:
	"""Move the pool customers `names` from `from_user` to `to_user` (None: back to the pool) with
	their open documents, under row locks, set-based. A customer that cannot move stays as it is.
	Returns per name: {moved, result, message, row, documents}."""
	results: dict[str, frappe._dict] = {}
	rows = ownership.lock_pool_customers(names)
	movable: list[frappe._dict] = []
	for name in dict.fromkeys(names):
		row = rows.get(name)
		problem = line_problem(name, row, from_user, to_user)
		results[name] = frappe._dict(moved=False, result=NOT_MOVED, message=problem, row=row, documents=0)
		if not problem:
			movable.append(row)
	if to_user:
		movable = within_caps(movable, to_user, override_cap, results)
	if not movable:
		return results
	documents = open_documents(movable, from_user)
	ownership.set_owner_many(movable, to_user, TRANSFER if to_user else RELEASE, reason=reason, rule=rule)
	move_open_documents(documents, from_user, to_user)
	for row in movable:
		result = results[row.name]
		result.moved, result.documents = True, documents.count_of(row.name)
		if to_user:
			result.result = MOVED
			result.message = _("Moved to {0}").format(get_fullname(to_user))
		else:
			result.result = RELEASED
			result.message = _("Back in the pool")
		if result.documents:
			result.message += "; " + _("{0} open documents moved with it").format(result.documents)
	return results


def line_problem(name: str, row: frappe._dict | None, from_user: str, to_user: str | None) -> str | None:
	"""Why this customer cannot move from `from_user`, or None."""
	if not row:
		if frappe.db.exists("Pool Customer", name):
			return _("{0} was just moved to another pool; please try again").format(name)
		return _("Pool customer {0} does not exist").format(name)
	if row.status not in HAS_OWNER or not row.owned_by:
		return _("{0} has no owner any more (status: {1})").format(row.customer_name, _(row.status))
	if row.owned_by != from_user:
		if row.owned_by == to_user:
			return _("{0} already owns it").format(get_fullname(to_user))
		return _("No longer owned by {0}: {1} owns it now").format(
			get_fullname(from_user), get_fullname(row.owned_by)
		)
	return None


def within_caps(
	rows: list[frappe._dict], to_user: str, override_cap: bool, results: dict[str, frappe._dict]
) -> list[frappe._dict]:
	"""The rows the receiver may take under each pool's cap (保有量上限), in line order; the others
	get the reason. With `override_cap` (a manager's decision) every row may move."""
	if override_cap:
		return rows
	by_pool: dict[str, list[frappe._dict]] = defaultdict(list)
	for row in rows:
		by_pool[row.pool].append(row)
	refused = set()
	for pool, pool_rows in by_pool.items():
		room, rules = ownership.cap_room(pool, to_user)
		if room is None:
			continue
		for row in pool_rows:
			if not ownership.counts_toward_cap(row.status, rules):
				continue
			if room > 0:
				room -= 1
				continue
			refused.add(row.name)
			results[row.name].message = _(
				"{0} would own more than {1} customers of pool {2}, the most allowed; a manager may "
				"override the cap"
			).format(get_fullname(to_user), rules.max_owned, rules.pool_name)
	return [row for row in rows if row.name not in refused]


# --- open documents (商机 · 报价 · 待办) ------------------------------------------------------------


class OpenDocuments(frappe._dict):
	"""The open Opportunities and Quotations of some pool customers, and the from-owner's open ToDos
	on them, each known by the pool customer it belongs to."""

	def count_of(self, pool_customer: str) -> int:
		return self.per_customer.get(pool_customer, 0)


def open_documents(rows: list[frappe._dict], from_user: str) -> OpenDocuments:
	"""Find (in a few queries) the open Opportunities and Quotations of these customers' Lead and
	Customer, and `from_user`'s open ToDos on them."""
	party_pc: dict[tuple[str, str], str] = {}
	for row in rows:
		for doctype, name in (("Lead", row.lead), ("Customer", row.customer)):
			if name:
				party_pc[(doctype, name)] = row.name
	docs = OpenDocuments(opportunities={}, quotations={}, todos={}, per_customer=defaultdict(int))
	leads = tuple(name for (doctype, name) in party_pc if doctype == "Lead") or ("",)
	customers = tuple(name for (doctype, name) in party_pc if doctype == "Customer") or ("",)
	for name, party_type, party in frappe.db.sql(
		"""SELECT name, opportunity_from, party_name FROM `tabOpportunity`
		WHERE docstatus < 2 AND status IN %(open)s AND (
			(opportunity_from = 'Lead' AND party_name IN %(leads)s)
			OR (opportunity_from = 'Customer' AND party_name IN %(customers)s))""",
		{"open": OPEN_OPPORTUNITY_STATUSES, "leads": leads, "customers": customers},
	):
		docs.opportunities[name] = party_pc[(party_type, party)]
	opportunities = tuple(docs.opportunities) or ("",)
	for name, party_type, party, opportunity in frappe.db.sql(
		"""SELECT name, quotation_to, party_name, opportunity FROM `tabQuotation`
		WHERE docstatus < 2 AND status IN %(open)s AND (
			(quotation_to = 'Lead' AND party_name IN %(leads)s)
			OR (quotation_to = 'Customer' AND party_name IN %(customers)s)
			OR opportunity IN %(opportunities)s)""",
		{
			"open": OPEN_QUOTATION_STATUSES,
			"leads": leads,
			"customers": customers,
			"opportunities": opportunities,
		},
	):
		pc = party_pc.get((party_type, party)) or docs.opportunities.get(opportunity)
		if pc:
			docs.quotations[name] = pc
	refs = {"Opportunity": docs.opportunities, "Quotation": docs.quotations}
	for todo, doctype, name in frappe.db.sql(
		"""SELECT name, reference_type, reference_name FROM `tabToDo`
		WHERE status = 'Open' AND allocated_to = %(user)s AND (
			(reference_type = 'Opportunity' AND reference_name IN %(opportunities)s)
			OR (reference_type = 'Quotation' AND reference_name IN %(quotations)s))""",
		{"user": from_user, "opportunities": opportunities, "quotations": tuple(docs.quotations) or ("",)},
	):
		docs.todos[todo] = refs[doctype][name]
	for kind in ("opportunities", "quotations", "todos"):
		for pc in docs[kind].values():
			docs.per_customer[pc] += 1
	return docs


def move_open_documents(docs: OpenDocuments, from_user: str, to_user: str | None) -> None:
	"""The open Opportunities owned by `from_user` get `to_user` as their owner (none back in the
	pool); `from_user`'s open ToDos on the Opportunities and Quotations move to `to_user` (back in the
	pool: cancelled). Set-based."""
	if docs.opportunities:
		frappe.db.sql(
			"""UPDATE `tabOpportunity` SET opportunity_owner = %(to)s
			WHERE name IN %(names)s AND opportunity_owner = %(from)s""",
			{"to": to_user, "from": from_user, "names": tuple(docs.opportunities)},
		)
	mirror.move_assignments(list(docs.todos), to_user)


# --- results, hand-over notes and notification ----------------------------------------------------


def write_lines(doc: Document, lines: list[frappe._dict], results: dict[str, frappe._dict]) -> None:
	"""The lines with their results, rewritten in one statement (all-customers transfers get their
	lines here, at approval)."""
	now = now_datetime()
	values = []
	for idx, line in enumerate(lines, start=1):
		result = results[line.pool_customer]
		row = result.row or frappe._dict()
		values.append(
			(
				line.name or frappe.generate_hash(length=10),
				now,
				now,
				frappe.session.user,
				frappe.session.user,
				1,
				idx,
				doc.name,
				"customers",
				DOCTYPE,
				line.pool_customer,
				row.get("customer_name"),
				row.get("pool"),
				result.result,
				result.message,
			)
		)
	frappe.db.sql(
		f"DELETE FROM `tab{LINE_DOCTYPE}` WHERE parenttype = %s AND parent = %s", (DOCTYPE, doc.name)
	)
	frappe.db.bulk_insert(
		LINE_DOCTYPE,
		(
			"name",
			"creation",
			"modified",
			"owner",
			"modified_by",
			"docstatus",
			"idx",
			"parent",
			"parentfield",
			"parenttype",
			"pool_customer",
			"customer_name",
			"pool",
			"result",
			"message",
		),
		values,
	)
	doc.set(
		"customers",
		[
			{
				"name": v[0],
				"idx": v[6],
				"pool_customer": v[10],
				"customer_name": v[11],
				"pool": v[12],
				"result": v[13],
				"message": v[14],
			}
			for v in values
		],
	)


def handover_text(doc: Document, to_user: str | None) -> str:
	"""The Info comment a party gets: who from, who to (or the pool), the trigger, the notes."""
	target = get_fullname(to_user) if to_user else _("the pool")
	text = _("Ownership transferred from {0} to {1} ({2}, {3}).").format(
		escape_html(get_fullname(doc.from_owner)),
		escape_html(target),
		_(doc.trigger),
		f'<a href="/app/ownership-transfer/{doc.name}">{doc.name}</a>',
	)
	if doc.handover_notes:
		text += "<br>" + _("Hand-over notes:") + " " + doc.handover_notes
	return text


def add_handover_comments(doc: Document, moved: list[frappe._dict], to_user: str | None) -> None:
	"""交接: the hand-over notes as a comment on the transfer, and an Info comment on each moved
	customer's party, inserted in one statement (so they do not count as follow-ups)."""
	if doc.handover_notes:
		doc.add_comment("Comment", _("Hand-over notes:") + " " + doc.handover_notes)
	if not moved:
		return
	now = now_datetime()
	user = frappe.session.user
	text = handover_text(doc, to_user)
	frappe.db.bulk_insert(
		"Comment",
		(
			"name",
			"creation",
			"modified",
			"owner",
			"modified_by",
			"docstatus",
			"idx",
			"comment_type",
			"reference_doctype",
			"reference_name",
			"content",
			"comment_email",
			"comment_by",
		),
		[
			(
				frappe.generate_hash(length=10),
				now,
				now,
				user,
				user,
				0,
				0,
				"Info",
				row.party_type,
				row.party,
				text,
				user,
				get_fullname(user),
			)
			for row in moved
			if row.party_type and row.party
		],
	)


def notify_receiver(doc: Document, to_user: str, moved: list[frappe._dict]) -> None:
	"""The new owner learns what they received, in their language: a system notification and a
	queued email listing the first customers and the hand-over notes."""
	lang = get_user_lang(to_user)
	subject = _("{0} customers were transferred to you from {1} ({2})", lang=lang).format(
		len(moved), get_fullname(doc.from_owner), _(doc.trigger, lang=lang)
	)
	items = "".join(
		f"<li>{escape_html(row.customer_name or row.name)} ({row.name})</li>" for row in moved[:LISTED]
	)
	more = (
		"<p>" + _("and {0} more", lang=lang).format(len(moved) - LISTED) + "</p>"
		if len(moved) > LISTED
		else ""
	)
	message = f"<p>{escape_html(subject)}</p><ul>{items}</ul>{more}"
	if doc.handover_notes:
		message += f"<p><b>{_('Hand-over Notes', lang=lang)}</b></p>{doc.handover_notes}"
	notify(
		[to_user],
		subject,
		message,
		link=f"/app/ownership-transfer/{doc.name}",
		document_type=DOCTYPE,
		document_name=doc.name,
	)


# --- leaving staff (离职) -------------------------------------------------------------------------


def on_user_update(doc: Document, method: str | None = None) -> None:
	"""User on_update: a user just disabled gets a draft transfer of everything they own."""
	before = doc.get_doc_before_save()
	if before and before.enabled and not doc.enabled:
		make_leaving_draft(doc.name, _("User {0} was disabled").format(doc.name))


def on_employee_update(doc: Document, method: str | None = None) -> None:
	"""Employee on_update: an employee set to Left gets a draft transfer of everything their user
	owns."""
	before = doc.get_doc_before_save()
	if doc.status == "Left" and doc.get("user_id") and (not before or before.status != "Left"):
		make_leaving_draft(
			doc.user_id, _("Employee {0} ({1}) left").format(doc.get("employee_name") or doc.name, doc.name)
		)


def make_leaving_draft(user: str, reason: str) -> str | None:
	"""A Draft Ownership Transfer (trigger Leaving) of all the customers `user` owns, back to the pool
	unless a manager picks a receiver, assigned to the managers. Nothing when they own nothing, or
	when an open transfer of all their customers exists already (idempotent). Returns its name."""
	if not owned_by(user):
		return None
	existing = frappe.db.get_value(
		DOCTYPE,
		{"from_owner": user, "all_customers": 1, "status": ("in", OPEN_STATES), "docstatus": 0},
	)
	if existing:
		return None
	doc = frappe.get_doc(
		{
			"doctype": DOCTYPE,
			"from_owner": user,
			"to_pool": 1,
			"all_customers": 1,
			"trigger": LEAVING,
			"reason": reason,
			"status": DRAFT,
		}
	)
	doc.flags.ignore_permissions = True
	doc.flags.system_draft = True
	doc.insert()
	# Made by the system, not by whoever disabled the user: any manager may approve it.
	frappe.db.set_value(
		DOCTYPE, doc.name, {"owner": "Administrator", "requested_by": None}, update_modified=False
	)
	managers = [m for m in manager_users() if m != user] or ["Administrator"]
	assign_to.add(
		{
			"assign_to": managers,
			"doctype": DOCTYPE,
			"name": doc.name,
			"description": _("{0} is leaving: decide who takes over their {1} customers").format(
				get_fullname(user), doc.customer_count
			),
		},
		ignore_permissions=True,
	)
	return doc.name


def manager_users() -> list[str]:
	"""Enabled users holding Pool Manager or Sales Manager (not Administrator)."""
	return frappe.db.sql_list(
		"""SELECT DISTINCT u.name FROM `tabUser` u JOIN `tabHas Role` r
			ON r.parent = u.name AND r.parenttype = 'User'
		WHERE u.enabled = 1 AND u.user_type = 'System User' AND u.name NOT IN ('Administrator', 'Guest')
			AND r.role IN %(roles)s
		ORDER BY u.name""",
		{"roles": (POOL_MANAGER, SALES_MANAGER)},
	)


def _is_salesperson(user: str) -> bool:
	roles = set(frappe.get_roles(user))
	return bool(roles & {SALES_USER, *MANAGER_ROLES})
