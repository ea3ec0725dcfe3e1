"""Intake (收集, SPEC §1): every new Lead or Customer becomes one Pool Customer, after dedupe.

- Lead / Customer `before_validate`: who may give a new party its owner (`check_new_owner`), USCC
  and mobile format, then dedupe against the pool customers
  (same USCC, normalized company name, mobile or email) — a duplicate is refused with a message
  naming the existing customer and its owner (masked when the user may not see that customer).
- Lead `after_insert`: `create_pool_customer` — owned by the lead's own lead_owner (首问负责), else
  waiting for review (when the pool requires it) or straight in the pool.
- Customer `after_insert`: a Customer made from a Lead takes over the Lead's Pool Customer (one
  customer code, one history; CONVERT log entry); any other Customer becomes a new Pool Customer.
- Lead / Customer `on_update`: the Pool Customer's profile (name, territory, masked contacts, …)
  follows the party, only the fields that changed.

The pool is `doc.flags.pool` when set (tests, imports by code), else the enabled pool whose
territory is the party's territory or its nearest ancestor, else the default pool; with no enabled
pool at all, nothing enters a pool.
"""

from __future__ import annotations

from functools import partial

import frappe
from frappe import _
from frappe.desk.form import assign_to
from frappe.model.document import Document
from frappe.utils import get_fullname, now_datetime

from crm_pool.core import events
from crm_pool.core.errors import AuditedPathError, DuplicateCustomerError
from crm_pool.core.log import log_change
from crm_pool.core.mirror import OWNER_FIELD, mirror_owner
from crm_pool.core.normalize import normalize_mobile, validate_uscc
from crm_pool.core.roles import NOT_A_PERSON, is_manager
from crm_pool.core.settings import choose_pool, mask_settings
from crm_pool.core.status import (
	CONVERT,
	CONVERTED,
	HAS_OWNER,
	IN_POOL,
	INTAKE,
	LOCKED,
	OWNED,
	PENDING_REVIEW,
	REVIEW_PENDING,
	owned_status,
)
from crm_pool.pool.dedupe import dedupe_keys, duplicate_message, find_duplicate, lock_dedupe_keys
from crm_pool.pool.followup import recompute_due
from crm_pool.pool.profile import party_profile

PARTY_DOCTYPES = ("Lead", "Customer")


# --- hooks: Lead and Customer --------------------------------------------------------------------


def validate_party(doc: Document, method: str | None = None) -> None:
	"""Lead / Customer before_validate: USCC and mobile format (when given and changed), then dedupe.

	Runs before ERPNext's own validate, so a duplicate gets this message (with its owner) first.
	A refused new Lead leaves nothing behind (see `drop_contact_after_rollback`). The doc_events
	handler is `crm_pool.transfer.conflicts.check_party`: it runs this, then records the ownership
	conflict (撞单) of a salesperson's duplicate of a customer someone else owns.
	"""
	try:
		check_new_owner(doc)
		check_party(doc)
	except (frappe.ValidationError, frappe.PermissionError):
		drop_contact_after_rollback(doc)
		raise


def check_new_owner(doc: Document) -> None:
	"""A new Lead/Customer gets an owner only through the audited paths (SPEC §3): a non-manager
	converts only a Lead they own into a Customer, and makes only themselves the owner of a new Lead
	or Customer (lead_owner / account_manager; empty: the pool decides). Anything else is refused,
	not silently changed: a colleague's customer reaches them by assignment or transfer. Server code
	inserting with ignore_permissions (imports by code, web forms) is trusted."""
	if not doc.is_new() or doc.flags.ignore_permissions:
		return
	user = frappe.session.user
	if is_manager(user):
		return
	if doc.doctype == "Customer" and doc.get("lead_name") and lead_owner(doc.lead_name) != user:
		frappe.throw(
			_("Only the owner of lead {0} or a manager may convert it into a customer").format(doc.lead_name),
			AuditedPathError,
			title=_("Not Your Lead"),
		)
	owner = doc.get(OWNER_FIELD[doc.doctype])
	if owner and owner != user and owner not in NOT_A_PERSON:
		frappe.throw(
			_(
				"You cannot make {0} the owner of a new {1}: what you bring in is yours (or goes to the "
				"pool); a manager assigns customers to others"
			).format(get_fullname(owner), _(doc.doctype)),
			AuditedPathError,
			title=_("Not Allowed"),
		)


def lead_owner(lead: str) -> str | None:
	"""Who owns a Lead now: the owner of its pool customer, else (no pool) its lead_owner."""
	pc = frappe.db.get_value(
		"Pool Customer", {"lead": lead}, ["owned_by", "status"], as_dict=True, order_by="creation asc"
	)
	if pc:
		return pc.owned_by if pc.status in HAS_OWNER else None
	return frappe.db.get_value("Lead", lead, "lead_owner")


def check_party(doc: Document) -> None:
	before = doc.get_doc_before_save()
	if doc.get("uscc") and _changed(doc, before, "uscc"):
		doc.uscc = validate_uscc(doc.uscc)
	# A Customer's mobile_no follows its primary contact: checked when entered with a new Customer.
	if (
		doc.get("mobile_no")
		and _changed(doc, before, "mobile_no")
		and (doc.doctype == "Lead" or doc.is_new())
	):
		normalize_mobile(doc.mobile_no)
	if doc.doctype == "Customer" and doc.is_new() and doc.get("lead_name") and not doc.get("account_manager"):
		# the owner of the lead's pool customer becomes the account manager (ownership mirrored)
		doc.account_manager = frappe.db.get_value(
			"Pool Customer", {"lead": doc.lead_name, "party_type": "Lead"}, "owned_by"
		)

	keys = dedupe_keys(party_profile(doc))
	if before and keys == dedupe_keys(party_profile(before)):
		return
	lock_dedupe_keys(keys)
	duplicate = find_duplicate(keys, exclude=own_pool_customers(doc), locking=True)
	if duplicate:
		doc.flags.crm_pool_duplicate = duplicate
		frappe.throw(duplicate_message(duplicate), DuplicateCustomerError, title=_("Duplicate Customer"))


def drop_contact_after_rollback(doc: Document) -> None:
	"""ERPNext's Lead.before_insert creates the Lead's Contact before any app can validate the Lead,
	and ERPNext's telephony hook commits it at once. When intake refuses the new Lead, that Contact is
	deleted after the rollback that follows the refusal (if nothing links to it)."""
	contact = doc.get("contact_doc") if doc.doctype == "Lead" and doc.is_new() else None
	if contact and contact.get("name"):
		frappe.db.after_rollback.add(partial(drop_unlinked_contact, contact.name))


def drop_unlinked_contact(contact: str) -> None:
	linked = frappe.db.exists(
		"Dynamic Link", {"parenttype": "Contact", "parent": contact}
	) or frappe.db.exists("Dynamic Link", {"link_doctype": "Contact", "link_name": contact})
	if frappe.db.exists("Contact", contact) and not linked:
		frappe.delete_doc("Contact", contact, ignore_permissions=True, force=True)
		frappe.db.commit()


def _changed(doc: Document, before: Document | None, field: str) -> bool:
	return before is None or before.get(field) != doc.get(field)


def own_pool_customers(doc: Document) -> list[str]:
	"""The Pool Customers that stand for this party itself (not duplicates): its own, and for a
	Customer made from a Lead the Lead's (the conversion is the same party)."""
	names = []
	if not doc.is_new():
		names += frappe.get_all(
			"Pool Customer", filters={"party_type": doc.doctype, "party": doc.name}, pluck="name"
		)
		names += frappe.get_all("Pool Customer", filters={doc.doctype.lower(): doc.name}, pluck="name")
	if doc.doctype == "Customer" and doc.get("lead_name"):
		names += frappe.get_all(
			"Pool Customer", filters={"lead": doc.lead_name, "party_type": "Lead"}, pluck="name"
		)
	return list(dict.fromkeys(names))


def lead_after_insert(doc: Document, method: str | None = None) -> None:
	"""A new Lead enters its pool, owned by its own lead_owner if set (首问负责).

	ERPNext defaults lead_owner to the user creating the Lead: a salesperson entering a lead owns it.
	Administrator and Guest (web forms) are nobody's salesperson: such a lead goes to the pool and
	its lead_owner is cleared, so the Lead tells the truth.
	"""
	pool = doc.flags.pool or choose_pool(doc.get("territory"))
	if not pool:
		return
	owner = doc.get("lead_owner") or None
	if owner in NOT_A_PERSON:
		owner = doc.lead_owner = None
		frappe.db.set_value("Lead", doc.name, "lead_owner", None, update_modified=False)
	create_pool_customer("Lead", doc.name, pool=pool, owner=owner, doc=doc)


def customer_after_insert(doc: Document, method: str | None = None) -> None:
	"""A Customer made from a Lead takes over the Lead's Pool Customer; another one enters a pool."""
	if doc.get("lead_name"):
		lead_pc = frappe.db.get_value("Pool Customer", {"lead": doc.lead_name, "party_type": "Lead"})
		if lead_pc:
			convert_to_customer(lead_pc, doc)
			return
	pool = doc.flags.pool or choose_pool(doc.get("territory"))
	owner = doc.get("account_manager") or None
	if pool:
		owner = None if owner in NOT_A_PERSON else owner
		create_pool_customer("Customer", doc.name, pool=pool, owner=owner, doc=doc)


def sync_pool_customer(doc: Document, method: str | None = None) -> None:
	"""Lead / Customer on_update: copy the profile fields that changed to the party's Pool Customer."""
	before = doc.get_doc_before_save()
	if before is None:
		return  # an insert: after_insert made the Pool Customer from the whole record
	pc = frappe.db.get_value(
		"Pool Customer", {"party_type": doc.doctype, "party": doc.name}, ["name", "pool"]
	)
	if not pc:
		return
	pc, pool = pc
	masks = mask_settings(pool)
	new, old = party_profile(doc, masks), party_profile(before, masks)
	changed = {field: value for field, value in new.items() if value != old.get(field)}
	if changed:
		frappe.db.set_value("Pool Customer", pc, changed)


# --- creating and converting pool customers ------------------------------------------------------


def create_pool_customer(
	party_type: str,
	party: str,
	*,
	pool: str | None = None,
	owner: str | None = None,
	doc: Document | None = None,
) -> Document:
	"""The Pool Customer of a party, created when missing (idempotent).

	Status: `owner` given -> OWNED (首问负责); else PENDING_REVIEW when the pool requires review, else
	IN_POOL. Writes an INTAKE log entry, mirrors the owner (assignment), and links the party back.
	`doc` is the party document when the caller has it already.
	"""
	if party_type not in PARTY_DOCTYPES:
		frappe.throw(_("A pool customer is a Lead or a Customer, not a {0}").format(_(party_type)))
	existing = frappe.db.get_value("Pool Customer", {"party_type": party_type, "party": party})
	if existing:
		return frappe.get_doc("Pool Customer", existing)

	party_doc = doc or frappe.get_doc(party_type, party)
	pool = pool or choose_pool(party_doc.get("territory"))
	if not pool:
		frappe.throw(_("There is no enabled customer pool: enable one or make one the default pool"))
	settings = frappe.db.get_value("Customer Pool", pool, ["enabled", "require_review"], as_dict=True)
	if not settings:
		frappe.throw(_("Customer pool {0} does not exist").format(pool), frappe.DoesNotExistError)
	if not settings.enabled:
		frappe.throw(_("Customer pool {0} is disabled").format(pool))
	profile = party_profile(party_doc, pool)

	now = now_datetime()
	if owner:
		status, fields = owned_status(party_type), {"claimed_at": now}
	elif settings.require_review:
		status, fields = PENDING_REVIEW, {}
	else:
		status, fields = IN_POOL, {"pool_entered_at": now}
	pc = frappe.get_doc(
		{
			"doctype": "Pool Customer",
			"party_type": party_type,
			"party": party,
			"lead": party if party_type == "Lead" else party_doc.get("lead_name"),
			"customer": party if party_type == "Customer" else None,
			"pool": pool,
			"status": status,
			"review_status": REVIEW_PENDING,
			"owned_by": owner,
			**fields,
			**profile,
		}
	)
	# Nothing to review when the first contact owns it or the pool does not review.
	pc.flags.review_not_needed = status != PENDING_REVIEW
	pc.insert(ignore_permissions=True)  # trusted: may be made owned (guard_owner_fields)
	log_change(pc, INTAKE, to_user=owner, reason=profile.get("source"))
	if owner:
		mirror_owner(pc, None)
		recompute_due([pc.name])  # the first contact's customer is recycled by the pool's rules too
	frappe.db.set_value(party_type, party, "pool_customer", pc.name, update_modified=False)
	party_doc.pool_customer = pc.name
	return pc


def convert_to_customer(pool_customer: str, customer: Document) -> None:
	"""The Lead's Pool Customer now stands for the Customer made from it: same customer code and
	history, status CONVERTED when owned, profile completed from the Customer, a CONVERT log entry,
	and the owner's assignment moved from the Lead to the Customer."""
	pc = frappe.get_doc("Pool Customer", pool_customer)
	lead = pc.party
	update = {field: value for field, value in party_profile(customer, pc.pool).items() if value}
	update.update(party_type="Customer", party=customer.name, customer=customer.name)
	if pc.status in (OWNED, LOCKED):
		update["status"] = CONVERTED
	frappe.db.set_value("Pool Customer", pc.name, update)
	log_change(
		pc.name,
		CONVERT,
		from_user=pc.owned_by,
		to_user=pc.owned_by,
		reason=_("Lead {0} converted to Customer {1}").format(lead, customer.name),
	)
	frappe.db.set_value("Customer", customer.name, "pool_customer", pc.name, update_modified=False)
	customer.pool_customer = pc.name
	if pc.owned_by and pc.status in HAS_OWNER:
		pc.update(update)
		mirror_owner(pc, None)  # account_manager + an assignment on the Customer
		lead_todo = frappe.db.get_value(
			"ToDo",
			{"reference_type": "Lead", "reference_name": lead, "allocated_to": pc.owned_by, "status": "Open"},
		)
		if lead_todo:  # the lead's work is done
			assign_to.set_status("Lead", lead, todo=lead_todo, status="Closed", ignore_permissions=True)
	events.owners_changed("pc.name = %(name)s", {"name": pc.name})  # sharing follows the conversion
