"""Ownership conflicts (撞单, SPEC §3, seed 004: 明确唯一 one owner, 首问负责 first contact owns).

A customer has one owner at a time. When another salesperson reaches a customer someone else owns,
the pool records an **Ownership Conflict** for the managers instead of giving it a second owner:

- at intake: a salesperson's new Lead (or Customer) that intake refuses as a duplicate of a customer
  owned by someone else. The refusal stands (the insert fails and its transaction is rolled back);
  the conflict is written after that rollback (`frappe.db.after_rollback`) and committed on its own —
  or, when the caller catches the refusal and commits instead, after that commit
  (`frappe.db.after_commit`). Exactly one of the two runs.
- at a merge of two Leads or Customers with different owners (`crm_pool.transfer.merge`): the owner of
  the merged party is the claimant of the surviving customer.
- at follow-up: a salesperson who is neither the owner nor a collaborator creates an Opportunity,
  Quotation, Event or Communication on an owned customer's Lead or Customer (after_insert hooks).

The claimant may read their own conflict (Sales User: if owner) and sees the owner masked (张*,
`current_owner_masked`), as in the duplicate refusal; the owner, their name and the details are
for managers (permlevel 1).

One open conflict per (customer, claimant): the key `open_key` is unique while the conflict is open.
The pool's admins and the Pool Managers get a system notification. A manager resolves it
(`resolve`): keep the owner, transfer the customer to the claimant (with its open documents, through
`handover.move_customers`: Pool Log TRANSFER), or add the claimant as a collaborator
(`collaborators.add_collaborator`: Pool Log COLLABORATE).
"""

from __future__ import annotations

from collections.abc import Iterable

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.translate import get_user_lang
from frappe.utils import escape_html, get_fullname, now_datetime

from crm_pool.core.errors import PoolRuleError
from crm_pool.core.normalize import clean_text, mask_person_name
from crm_pool.core.notify import notify
from crm_pool.core.roles import (
	NOT_A_PERSON,
	POOL_MANAGER,
	SALES_MANAGER,
	can_manage,
	competes,
	users_with_role,
)
from crm_pool.core.status import HAS_OWNER, READ, READ_WRITE
from crm_pool.pool import followup, intake
from crm_pool.pool.collaborators import add_collaborator
from crm_pool.pool.dedupe import kind_label
from crm_pool.pool.locking import check_user
from crm_pool.transfer.handover import move_customers

DOCTYPE = "Ownership Conflict"
OPEN, RESOLVED = "Open", "Resolved"
INTAKE_DUPLICATE, FOLLOWUP = "Intake Duplicate", "Follow-up by Non-owner"
MERGED = "Merge"  # two owned parties merged (crm_pool.transfer.merge): the merged one's owner is the claimant
KEEP_OWNER, TO_CLAIMANT, ADD_COLLABORATOR = "Keep Owner", "Transfer to Claimant", "Add as Collaborator"
RESOLUTIONS = (KEEP_OWNER, TO_CLAIMANT, ADD_COLLABORATOR)


# --- who competes for a customer ------------------------------------------------------------------


def competing_customers(names: Iterable[str], user: str) -> list[frappe._dict]:
	"""Of these pool customers, those owned by someone other than `user` who is not their
	collaborator either (one query)."""
	names = tuple(dict.fromkeys(n for n in names if n))
	if not names:
		return []
	return frappe.db.sql(  # owner and collaborators in one query
		"""SELECT pc.name, pc.customer_name, pc.pool, pc.owned_by FROM `tabPool Customer` pc
		WHERE pc.name IN %(names)s AND pc.status IN %(owned)s AND pc.owned_by IS NOT NULL
			AND pc.owned_by != %(user)s AND NOT EXISTS (
				SELECT 1 FROM `tabPool Customer Collaborator` c
				WHERE c.parenttype = 'Pool Customer' AND c.parent = pc.name AND c.user = %(user)s)
		ORDER BY pc.name""",
		{"names": names, "owned": HAS_OWNER, "user": user},
		as_dict=True,
	)


# --- recording ------------------------------------------------------------------------------------


def record_conflict(
	pool_customer: str,
	claimant: str,
	kind: str,
	*,
	source_doctype: str | None = None,
	source_name: str | None = None,
	details: str | None = None,
) -> str | None:
	"""Record that `claimant` reached `pool_customer`, owned by someone else; the managers are told.
	Returns the open conflict (the existing one if there is one), or None when there is no conflict
	(no owner, the claimant owns or collaborates on it)."""
	competing = competing_customers([pool_customer], claimant)
	if not competing:
		return None
	pc = competing[0]
	key = open_key(pc.name, claimant)
	existing = frappe.db.get_value(DOCTYPE, {"open_key": key})
	if existing:
		return existing
	doc = frappe.get_doc(
		{
			"doctype": DOCTYPE,
			"status": OPEN,
			"kind": kind,
			"pool_customer": pc.name,
			"customer_name": pc.customer_name,
			"pool": pc.pool,
			"claimant": claimant,
			"current_owner": pc.owned_by,
			# what the claimant (who may not see the customer) reads; current_owner, its name and
			# the details are for managers (permlevel 1)
			"current_owner_masked": mask_person_name(get_fullname(pc.owned_by)),
			"detected_at": now_datetime(),
			"source_doctype": source_doctype,
			"source_name": source_name,
			"details": details,
			"open_key": key,
		}
	)
	savepoint = f"conflict_{frappe.generate_hash(length=8)}"
	frappe.db.savepoint(savepoint)
	try:
		doc.insert(ignore_permissions=True)
	except (frappe.DuplicateEntryError, frappe.UniqueValidationError):
		frappe.db.rollback(save_point=savepoint)  # recorded meanwhile by another request
		return frappe.db.get_value(DOCTYPE, {"open_key": key})
	notify_managers(doc)
	return doc.name


def open_key(pool_customer: str, claimant: str) -> str:
	return f"{pool_customer}|{claimant}"


def conflict_managers(pool: str, exclude: Iterable[str] = ()) -> list[str]:
	"""Who hears of a conflict: the pool's admins and the Pool Managers; Sales Managers when there is
	neither."""
	admins = frappe.get_all(
		"Customer Pool Member",
		filters={"parent": pool, "parenttype": "Customer Pool", "is_admin": 1},
		pluck="user",
	)
	users = set(admins) | set(users_with_role(POOL_MANAGER))
	if not users:
		users = set(users_with_role(SALES_MANAGER))
	return sorted(users - set(exclude))


def notify_managers(doc: Document) -> None:
	for user in conflict_managers(doc.pool, exclude=[doc.claimant, doc.current_owner]):
		lang = get_user_lang(user)
		subject = _("Ownership conflict: {0} reached {1}, owned by {2}", lang=lang).format(
			get_fullname(doc.claimant),
			doc.customer_name or doc.pool_customer,
			get_fullname(doc.current_owner),
		)
		message = f"<p>{escape_html(subject)}</p><p>{escape_html(doc.details or '')}</p>"
		notify(
			[user],
			subject,
			message,
			link=f"/app/ownership-conflict/{doc.name}",
			document_type=DOCTYPE,
			document_name=doc.name,
		)


# --- detection at intake (a refused duplicate) ----------------------------------------------------


def claimant_of(doc: Document) -> str | None:
	"""Who reached the customer with this new Lead/Customer: its own owner (首问负责: ERPNext sets the
	creator as lead_owner), else the user entering it — if a salesperson."""
	owner = doc.get("lead_owner") if doc.doctype == "Lead" else doc.get("account_manager")
	claimant = owner if owner and owner not in NOT_A_PERSON else frappe.session.user
	return claimant if competes(claimant) else None


def check_party(doc: Document, method: str | None = None) -> None:
	"""Lead / Customer before_validate: intake's checks (`intake.validate_party`); when they refuse a
	salesperson's duplicate of a customer someone else owns, that is also an ownership conflict."""
	try:
		intake.validate_party(doc)
	except (frappe.ValidationError, frappe.PermissionError):
		if doc.flags.crm_pool_duplicate:
			after_refused_duplicate(doc, doc.flags.crm_pool_duplicate)
		raise


def after_refused_duplicate(doc: Document, duplicate: frappe._dict) -> None:
	"""Intake refused the new `doc` as a duplicate of the pool customer `duplicate`. If a salesperson
	reached a customer someone else owns, record the conflict once this transaction ends: after the
	rollback that follows the refusal, or after a commit if the caller carried on."""
	claimant = claimant_of(doc)
	if not claimant or not duplicate.get("owned_by") or duplicate.owned_by == claimant:
		return
	title = doc.get("company_name") or doc.get("customer_name") or doc.get("lead_name") or ""
	details = _("{0} {1} was refused: it has the same {2} as {3} {4}").format(
		_(doc.doctype), title, kind_label(duplicate.get("kind") or "name_key"), duplicate.name,
		duplicate.get("customer_name") or "",
	)  # fmt: skip
	done = []

	def record() -> None:
		if done:
			return
		done.append(True)
		try:
			if record_conflict(
				duplicate.name, claimant, INTAKE_DUPLICATE, source_doctype=doc.doctype, details=details
			):
				frappe.db.commit()
		except Exception:
			frappe.log_error(title=f"crm_pool: ownership conflict on {duplicate.name} not recorded")

	frappe.db.after_rollback.add(record)
	frappe.db.after_commit.add(record)


# --- detection at follow-up -----------------------------------------------------------------------


def followup_links(doc: Document) -> list[tuple[str | None, str | None]]:
	"""The parties a new Opportunity, Quotation, Event or Communication is about."""
	if doc.doctype == "Opportunity":
		return [(doc.opportunity_from, doc.party_name)]
	if doc.doctype == "Quotation":
		return [(doc.quotation_to, doc.party_name)]
	if doc.doctype == "Event":
		return [(p.reference_doctype, p.reference_docname) for p in doc.get("event_participants") or []]
	if doc.doctype == "Communication":
		if doc.communication_type not in ("Communication", "Chat"):
			return []
		links = [(doc.reference_doctype, doc.reference_name)]
		return links + [(link.link_doctype, link.link_name) for link in doc.get("timeline_links") or []]
	return []


def on_followup_insert(doc: Document, method: str | None = None) -> None:
	"""after_insert of Opportunity, Quotation, Event and Communication: a salesperson following up a
	customer someone else owns is a conflict for the managers; the owner stays the owner."""
	user = frappe.session.user
	if not competes(user):
		return
	links = followup_links(doc)
	if not links:
		return
	names = followup.pool_customers_of(followup.parties_of(links))
	for pc in competing_customers(names, user):
		record_conflict(
			pc.name,
			user,
			FOLLOWUP,
			source_doctype=doc.doctype,
			source_name=doc.name,
			details=_("{0} created {1} {2} for {3}, owned by {4}").format(
				get_fullname(user), _(doc.doctype), doc.name, pc.customer_name, get_fullname(pc.owned_by)
			),
		)


# --- resolution -----------------------------------------------------------------------------------


def resolve(name: str, resolution: str, note: str | None = None, access: str = READ_WRITE) -> Document:
	"""A manager settles an open conflict: keep the owner, transfer the customer to the claimant, or
	add the claimant as a collaborator (with `access`). The change goes through the ownership
	functions (Pool Log); a refusal (cap, disabled user…) leaves the conflict open."""
	if resolution not in RESOLUTIONS:
		frappe.throw(_("Choose how to resolve the conflict"), PoolRuleError)
	if resolution == ADD_COLLABORATOR and access not in (READ, READ_WRITE):
		frappe.throw(_("Access must be Read or Read/Write"), PoolRuleError)
	if not frappe.db.sql(f"SELECT name FROM `tab{DOCTYPE}` WHERE name = %s FOR UPDATE", name):
		frappe.throw(_("Ownership conflict {0} does not exist").format(name), frappe.DoesNotExistError)
	doc = frappe.get_doc(DOCTYPE, name)
	if not can_manage(doc.pool):
		frappe.throw(
			_("Only a pool admin or a manager may resolve ownership conflicts"), frappe.PermissionError
		)
	if doc.status != OPEN:
		frappe.throw(_("Ownership conflict {0} is already resolved").format(name), PoolRuleError)
	note = clean_text((note or "").strip()) or None
	reason = _("Ownership conflict {0}: {1}").format(doc.name, note or _(resolution))
	if resolution == TO_CLAIMANT:
		transfer_to_claimant(doc, reason)
	elif resolution == ADD_COLLABORATOR:
		add_collaborator(doc.pool_customer, doc.claimant, access, reason)
	doc.db_set(
		{
			"status": RESOLVED,
			"resolution": resolution,
			"collaborator_access": access if resolution == ADD_COLLABORATOR else None,
			"resolution_note": note,
			"resolved_by": frappe.session.user,
			"resolved_at": now_datetime(),
			"open_key": None,
		}
	)
	tell_claimant(doc)
	return doc


def transfer_to_claimant(doc: Document, reason: str) -> None:
	check_user(doc.claimant)
	owner = frappe.db.get_value("Pool Customer", doc.pool_customer, "owned_by")
	if owner == doc.claimant:
		frappe.throw(_("{0} already owns it").format(get_fullname(doc.claimant)), PoolRuleError)
	if not owner:
		frappe.throw(
			_("{0} has no owner any more: the claimant may claim it from the pool").format(doc.customer_name),
			PoolRuleError,
		)
	result = move_customers(
		[doc.pool_customer], owner, doc.claimant, reason=reason, rule=f"conflict:{doc.name}"
	)[doc.pool_customer]
	if not result.moved:
		frappe.throw(result.message, PoolRuleError)


def tell_claimant(doc: Document) -> None:
	lang = get_user_lang(doc.claimant)
	subject = _("Ownership conflict on {0} resolved: {1}", lang=lang).format(
		doc.customer_name or doc.pool_customer, _(doc.resolution, lang=lang)
	)
	notify(
		[doc.claimant],
		subject,
		f"<p>{escape_html(subject)}</p><p>{escape_html(doc.resolution_note or '')}</p>",
		link=f"/app/ownership-conflict/{doc.name}",
		document_type=DOCTYPE,
		document_name=doc.name,
	)
