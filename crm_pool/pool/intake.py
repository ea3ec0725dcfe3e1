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

import hashlib
from functools import partial

import frappe
from frappe import _
from frappe.desk.form import assign_to
from frappe.model.document import Document
from frappe.utils import get_datetime, get_fullname, now_datetime

from crm_pool.pool import followup, ownership, rules
from crm_pool.pool.log import log_change
from crm_pool.pool.mirror import OWNER_FIELD, mirror_owner
from crm_pool.pool.status import (
	CONVERT,
	CONVERTED,
	HAS_OWNER,
	IN_POOL,
	INTAKE,
	INVALID,
	LOCKED,
	OWNED,
	PENDING_REVIEW,
	REVIEW,
	owned_status,
)
from crm_pool.setup.roles import MANAGER_ROLES

# review_status, the state field of the Workflow "Pool Customer Review"
REVIEW_PENDING, REVIEW_APPROVED, REVIEW_REJECTED = "Pending", "Approved", "Rejected"
REVIEW_WORKFLOW = "Pool Customer Review"

# Dedupe keys of a Pool Customer, in the order a match is reported. name_key, mobile_key and
# email_key are keyed hashes (`rules.dedupe_key`), readable by managers only (permlevel 1).
DEDUPE_FIELDS = ("uscc", "name_key", "mobile_key", "email_key")
# Keys of contact data: a refusal does not name them to a user who may not see the customer.
CONTACT_KEYS = ("mobile_key", "email_key")
# Profile fields a Pool Customer copies from its party.
PROFILE_FIELDS = (
	"customer_name",
	"territory",
	"industry",
	"customer_group",
	"source",
	"contact_person",
	"uscc",
	"mobile_masked",
	"phone_masked",
	"email_masked",
	"address_masked",
	*DEDUPE_FIELDS[1:],
)
PARTY_DOCTYPES = ("Lead", "Customer")
# Users who never own a customer: a Lead "owned" by them enters the pool unowned.
NOT_AN_OWNER = ("Administrator", "Guest")


class DuplicateCustomerError(frappe.DuplicateEntryError, frappe.ValidationError):
	"""The party is already a pool customer (same USCC, company name, mobile or email)."""


class IntakeBusyError(frappe.ValidationError):
	"""Another request is entering a customer with the same dedupe key and did not finish in time."""


# How long (seconds) an intake waits for another one entering a customer with the same key.
DEDUPE_LOCK_TIMEOUT = 20


# --- choosing the pool ---------------------------------------------------------------------------


def choose_pool(territory: str | None) -> str | None:
	"""The enabled pool for a party in `territory`: the one whose territory is `territory` or its
	nearest ancestor (nested set), else the enabled default pool, else None."""
	if territory:
		rows = frappe.db.sql(
			"""
			SELECT pool.name
			FROM `tabCustomer Pool` pool
			JOIN `tabTerritory` covered ON covered.name = pool.territory
			JOIN `tabTerritory` party ON party.name = %(territory)s
			WHERE pool.enabled = 1 AND covered.lft <= party.lft AND covered.rgt >= party.rgt
			ORDER BY covered.lft DESC, pool.name
			LIMIT 1
			""",
			{"territory": territory},
		)
		if rows:
			return rows[0][0]
	return default_pool()


def default_pool() -> str | None:
	"""The enabled default pool, if any."""
	return frappe.db.get_value("Customer Pool", {"is_default": 1, "enabled": 1}, "name")


# --- what a party looks like to the pool ---------------------------------------------------------


def party_profile(doc: Document, pool: str | dict | None = None) -> dict:
	"""The Pool Customer fields taken from a Lead or Customer: profile, contact copies, dedupe keys.

	The contact copies (mobile, phone, email, address) are what everyone who may read the Pool
	Customer sees, in-pool viewers included: masked (138****5678) unless `pool` (a Customer Pool, or
	its `mask_settings`) turns that mask off, then copied in full. The full values stay on the
	Lead/Customer and its Contact. Values the party does not have are None (a converted customer
	keeps its lead's values, see `convert_to_customer`).
	"""
	masks = pool if isinstance(pool, dict) else mask_settings(pool)
	if doc.doctype == "Lead":
		company = doc.get("company_name")
		name = company or doc.get("lead_name") or doc.get("first_name")
		contact = frappe._dict(
			person=doc.get("lead_name") or doc.get("first_name"),
			mobile=doc.get("mobile_no"),
			phone=doc.get("phone"),
			email=doc.get("email_id"),
		)
		address = (
			rules.mask_address(None, doc.get("state"), doc.get("city"))
			if masks["mask_address"]
			else rules.full_address(None, doc.get("state"), doc.get("city"))
		) or None
		profile = {
			"customer_name": name,
			"territory": doc.get("territory"),
			"industry": doc.get("industry"),
			"customer_group": None,
			"source": doc.get("source"),
		}
	else:
		company = doc.get("customer_name") if doc.get("customer_type") != "Individual" else None
		contact = customer_contact(doc)
		address_of = rules.mask_address if masks["mask_address"] else rules.full_address
		address = (
			address_of(doc.get("address_line1"), doc.get("state"), doc.get("city"))
			if doc.get("address_line1")
			else address_of(doc.get("primary_address"))
		) or None
		profile = {
			"customer_name": doc.get("customer_name"),
			"territory": doc.get("territory"),
			"industry": doc.get("industry"),
			"customer_group": doc.get("customer_group"),
			"source": None,
		}
	profile.update(
		contact_person=contact.person or None,
		uscc=doc.get("uscc") or None,
		mobile_masked=_copy(contact.mobile, rules.mask_mobile, masks["mask_mobile"]),
		phone_masked=_copy(contact.phone, rules.mask_mobile, masks["mask_mobile"]),
		email_masked=_copy(contact.email, rules.mask_email, masks["mask_email"]),
		address_masked=address[:COPY_LENGTH] if address else None,
		name_key=rules.dedupe_key(rules.normalize_company_name(company)),
		mobile_key=mobile_key(contact.mobile),
		email_key=email_key(contact.email),
	)
	return profile


# Masks of a pool (Customer Pool mask_mobile / mask_email / mask_address); all on without a pool.
MASK_SETTINGS = ("mask_mobile", "mask_email", "mask_address")
COPY_LENGTH = 140  # the Pool Customer's Data fields


def mask_settings(pool: str | None) -> dict:
	"""Which contact fields `pool` masks on its pool customers (all of them when unknown)."""
	values = frappe.db.get_value("Customer Pool", pool, MASK_SETTINGS, as_dict=True) if pool else None
	return {
		field: 1 if values is None or values.get(field) is None else values[field] for field in MASK_SETTINGS
	}


def _copy(value: str | None, mask, masked: bool) -> str | None:
	"""The Pool Customer's copy of a contact value: masked, or in full when the pool says so."""
	value = (value or "").strip()
	if not value:
		return None
	return (mask(value) if masked else value)[:COPY_LENGTH] or None


# The Pool Customer's copies of contact data, which follow the pool's mask settings.
CONTACT_COPIES = ("mobile_masked", "phone_masked", "email_masked", "address_masked")
LARGE_POOL = 2000  # refreshed in a background job above this many pool customers


def on_pool_masks_change(pool: Document, method: str | None = None) -> None:
	"""Customer Pool on_update: a changed mask setting applies to the pool's customers at once (a
	large pool in a background job)."""
	before = pool.get_doc_before_save()
	if not before or all(before.get(field) == pool.get(field) for field in MASK_SETTINGS):
		return
	large = frappe.db.count("Pool Customer", {"pool": pool.name}) > LARGE_POOL
	followup.apply_to_pool("crm_pool.pool.intake.refresh_contact_copies", pool.name, in_background=large)


def refresh_contact_copies(pool: str, chunk: int = 1000) -> int:
	"""Copy the contact data of the pool's customers again from their parties, masked or in full as
	the pool says (parties read in chunks, as adoption does). Returns how many rows changed."""
	from crm_pool.pool.adopt import CUSTOMER_FIELDS, LEAD_FIELDS

	masks, changed = mask_settings(pool), 0
	for doctype, fields in (("Lead", LEAD_FIELDS), ("Customer", CUSTOMER_FIELDS)):
		columns = ", ".join(f"p.`{f}`" for f in fields if frappe.db.has_column(doctype, f))
		after = ""
		while True:
			rows = frappe.db.sql(
				f"""SELECT pc.name AS pool_customer, pc.lead AS pc_lead,
					{", ".join(f"pc.{f} AS pc_{f}" for f in CONTACT_COPIES)},
					{columns}
				FROM `tabPool Customer` pc JOIN `tab{doctype}` p ON p.name = pc.party
				WHERE pc.pool = %(pool)s AND pc.party_type = %(doctype)s AND pc.name > %(after)s
				ORDER BY pc.name LIMIT %(chunk)s""",
				{"pool": pool, "doctype": doctype, "after": after, "chunk": chunk},
				as_dict=True,
			)
			if not rows:
				break
			after = rows[-1].pool_customer
			for row in rows:
				row.doctype = doctype
				profile = party_profile(row, masks)
				if doctype == "Customer" and row.pc_lead and not all(profile[f] for f in CONTACT_COPIES):
					# a converted customer keeps its lead's values where it has none (convert_to_customer)
					lead_fields = [f for f in LEAD_FIELDS if frappe.db.has_column("Lead", f)]
					lead = frappe.db.get_value("Lead", row.pc_lead, lead_fields, as_dict=True)
					if lead:
						lead.doctype = "Lead"
						from_lead = party_profile(lead, masks)
						profile.update({f: profile[f] or from_lead[f] for f in CONTACT_COPIES})
				update = {
					f: profile[f] for f in CONTACT_COPIES if profile[f] and profile[f] != row[f"pc_{f}"]
				}
				if update:
					frappe.db.set_value("Pool Customer", row.pool_customer, update, update_modified=False)
					changed += 1
	return changed


def customer_contact(doc: Document) -> frappe._dict:
	"""A Customer's contact data: its fields mobile_no/email_id, else its primary contact's."""
	contact = frappe._dict(person=None, mobile=doc.get("mobile_no"), phone=None, email=doc.get("email_id"))
	if doc.get("customer_primary_contact"):
		row = frappe.db.get_value(
			"Contact",
			doc.customer_primary_contact,
			["full_name", "first_name", "last_name", "mobile_no", "phone", "email_id"],
			as_dict=True,
		)
		if row:
			contact.person = row.full_name or " ".join(filter(None, [row.first_name, row.last_name]))
			contact.mobile = contact.mobile or row.mobile_no
			contact.phone = row.phone
			contact.email = contact.email or row.email_id
	return contact


def mobile_key(value: str | None) -> str | None:
	"""Dedupe key of a mobile number; a number that is not a mainland mobile is keyed by its digits."""
	if not value:
		return None
	return rules.dedupe_key(rules.parse_mobile(value) or "".join(ch for ch in value if ch.isdigit()))


def email_key(value: str | None) -> str | None:
	if not value:
		return None
	return rules.dedupe_key(value.strip().lower())


def dedupe_keys(profile: dict) -> dict:
	return {field: profile.get(field) for field in DEDUPE_FIELDS}


# --- dedupe --------------------------------------------------------------------------------------


def find_duplicate(
	keys: dict, exclude: str | list[str] | None = None, *, locking: bool = False
) -> frappe._dict | None:
	"""The first Pool Customer (not invalid, not in `exclude`) sharing one of the keys uscc, name_key,
	mobile_key, email_key, with `kind` set to the field that matched; None when there is none.

	`locking`: a locking read (it sees every committed pool customer, whatever this transaction read
	before), for the check made under `lock_dedupe_keys`."""
	wanted = {field: keys.get(field) for field in DEDUPE_FIELDS if keys.get(field)}
	if not wanted:
		return None
	if isinstance(exclude, str):
		exclude = [exclude]
	exclude = [name for name in exclude or [] if name] or [""]
	matches = frappe.db.sql(
		f"""
		SELECT name, customer_name, pool, status, owned_by, owner_name, {", ".join(DEDUPE_FIELDS)}
		FROM `tabPool Customer`
		WHERE status != %(invalid)s AND name NOT IN %(exclude)s
			AND ({" OR ".join(f"{field} = %({field})s" for field in wanted)})
		ORDER BY creation
		LIMIT 10
		{"LOCK IN SHARE MODE" if locking else ""}
		""",
		{**wanted, "invalid": INVALID, "exclude": tuple(exclude)},
		as_dict=True,
	)
	for field in DEDUPE_FIELDS:
		for match in matches:
			if field in wanted and match[field] == wanted[field]:
				match.kind = field
				return match
	return None


def kind_label(kind: str) -> str:
	return {
		"uscc": _("Unified Social Credit Code"),
		"name_key": _("company name"),
		"mobile_key": _("mobile number"),
		"email_key": _("email address"),
	}[kind]


def can_see(pool_customer: frappe._dict | Document, user: str | None = None) -> bool:
	"""May `user` see this customer in full: its owner, a collaborator, or a manager."""
	user = user or frappe.session.user
	if user == "Administrator" or user == pool_customer.get("owned_by"):
		return True
	if set(MANAGER_ROLES) & set(frappe.get_roles(user)):
		return True
	return bool(
		frappe.db.exists(
			"Pool Customer Collaborator",
			{"parenttype": "Pool Customer", "parent": pool_customer.get("name"), "user": user},
		)
	)


def display_user_name(
	user: str | None, pool_customer: frappe._dict | Document, visible: bool | None = None
) -> str:
	"""A user's full name as shown about this customer: masked (张*) to whoever may not see the
	customer in full (`can_see`), like its owner in a duplicate refusal."""
	if not user:
		return ""
	name = frappe.utils.get_fullname(user) or user
	if visible is None:
		visible = can_see(pool_customer)
	return name if visible or user == frappe.session.user else rules.mask_person_name(name)


def duplicate_message(pc: frappe._dict | Document, kind: str | None = None) -> str:
	"""Name the existing pool customer (customer code + name) and its owner.

	To a user who may not see that customer the owner is masked (张*) and the message does not say
	which of the mobile number or email address matched: probing numbers must not tell whose they are.
	It never contains a contact value or a key."""
	kind = kind or pc.get("kind") or "name_key"
	customer = f"{pc.get('name')} {pc.get('customer_name') or ''}".strip()
	visible = can_see(pc)
	if not visible and kind in CONTACT_KEYS:
		what = _("contact details")
	else:
		what = kind_label(kind)
	if pc.get("owned_by"):
		owner = pc.get("owner_name") or frappe.db.get_value("User", pc.get("owned_by"), "full_name")
		owner = owner or pc.get("owned_by")
		if not visible:
			owner = rules.mask_person_name(owner)
		return _("This customer already exists: {0} has the same {1}. Its owner is {2}.").format(
			customer, what, owner
		)
	return _(
		"This customer already exists: {0} has the same {1}. It has no owner and is in the pool {2}."
	).format(customer, what, pc.get("pool"))


# --- hooks: Lead and Customer --------------------------------------------------------------------


def validate_party(doc: Document, method: str | None = None) -> None:
	"""Lead / Customer before_validate: USCC and mobile format (when given and changed), then dedupe.

	Runs before ERPNext's own validate, so a duplicate gets this message (with its owner) first.
	A refused new Lead leaves nothing behind (see `drop_contact_after_rollback`) but, when it was a
	salesperson's lead for a customer someone else owns, an Ownership Conflict (`conflicts`).
	"""
	try:
		check_new_owner(doc)
		check_party(doc)
	except (frappe.ValidationError, frappe.PermissionError):
		drop_contact_after_rollback(doc)
		if doc.flags.crm_pool_duplicate:  # 撞单: a salesperson reached a customer someone else owns
			from crm_pool.pool import conflicts

			conflicts.after_refused_duplicate(doc, doc.flags.crm_pool_duplicate)
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
	if ownership.is_manager(user):
		return
	if doc.doctype == "Customer" and doc.get("lead_name") and lead_owner(doc.lead_name) != user:
		frappe.throw(
			_("Only the owner of lead {0} or a manager may convert it into a customer").format(doc.lead_name),
			ownership.AuditedPathError,
			title=_("Not Your Lead"),
		)
	owner = doc.get(OWNER_FIELD[doc.doctype])
	if owner and owner != user and owner not in NOT_AN_OWNER:
		frappe.throw(
			_(
				"You cannot make {0} the owner of a new {1}: what you bring in is yours (or goes to the "
				"pool); a manager assigns customers to others"
			).format(get_fullname(owner), _(doc.doctype)),
			ownership.AuditedPathError,
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
		doc.uscc = rules.validate_uscc(doc.uscc)
	# A Customer's mobile_no follows its primary contact: checked when entered with a new Customer.
	if (
		doc.get("mobile_no")
		and _changed(doc, before, "mobile_no")
		and (doc.doctype == "Lead" or doc.is_new())
	):
		rules.normalize_mobile(doc.mobile_no)
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


# --- one intake per dedupe key at a time ----------------------------------------------------------


def lock_dedupe_keys(keys: dict) -> None:
	"""Serialize the intake of parties sharing a dedupe key (USCC, company name, mobile, email) until
	this transaction ends, so that of two simultaneous inserts of the same customer one gets the
	customer and the other the duplicate refusal.

	A named lock (MariaDB GET_LOCK) per key, taken in one order (no deadlock between two intakes
	sharing several keys) and released after the commit or rollback. The keys are those `dedupe_keys`
	computed; a lock name is a digest of the site's database and the key, so sites sharing a server
	do not wait for each other. The dedupe check that follows must be a locking read (it then sees a
	customer committed while this one waited)."""
	held = _held_dedupe_locks()
	wanted = sorted({_dedupe_lock_name(field, value) for field, value in keys.items() if value} - held)
	if not wanted:
		return
	if not held:  # the first lock of this transaction: release them all when it ends
		frappe.db.after_commit.add(release_dedupe_locks)
		frappe.db.after_rollback.add(release_dedupe_locks)
	for name in wanted:
		if frappe.db.sql("SELECT GET_LOCK(%s, %s)", (name, DEDUPE_LOCK_TIMEOUT))[0][0] != 1:
			frappe.throw(
				_(
					"Someone else is entering a customer with the same details right now. Please try again in a moment."
				),
				IntakeBusyError,
				title=_("Please Try Again"),
			)
		held.add(name)


def _held_dedupe_locks() -> set[str]:
	held = getattr(frappe.local, "crm_pool_dedupe_locks", None)
	if held is None:
		held = frappe.local.crm_pool_dedupe_locks = set()
	return held


def _dedupe_lock_name(field: str, value: str) -> str:
	digest = hashlib.sha1(f"{frappe.conf.db_name}|{field}|{value}".encode()).hexdigest()
	return f"crm_pool_dedupe_{digest}"  # 56 characters: MariaDB allows 64


def release_dedupe_locks() -> None:
	"""after_commit / after_rollback: release the intake's named locks (the connection would too)."""
	held = _held_dedupe_locks()
	for name in sorted(held):
		try:
			frappe.db.sql("SELECT RELEASE_LOCK(%s)", name)
		except Exception:
			frappe.log_error(title="crm_pool: dedupe lock not released")
	held.clear()


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
	if owner in NOT_AN_OWNER:
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
		owner = None if owner in NOT_AN_OWNER else owner
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
	log_change(
		pc.name,
		INTAKE,
		to_user=owner,
		reason=profile.get("source"),
		pool=pool,
		customer_name=pc.customer_name,
	)
	if owner:
		mirror_owner(pc, None)
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
		pool=pc.pool,
		customer_name=update.get("customer_name") or pc.customer_name,
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


# --- Pool Customer and Customer Pool controllers -------------------------------------------------


def validate_pool_customer(pc: Document) -> None:
	"""Pool Customer validate: a pool, one Pool Customer per party, a valid USCC, party links, owner
	name; a review decision moves the status (approved: in pool or owned; rejected: invalid)."""
	if not pc.pool:
		frappe.throw(_("Choose the pool of this customer"), frappe.MandatoryError)
	if pc.is_new() and not frappe.db.get_value("Customer Pool", pc.pool, "enabled"):
		frappe.throw(_("Customer pool {0} is disabled or does not exist").format(pc.pool))
	guard_owner_fields(pc)
	if pc.party_type and pc.party:
		other = frappe.db.get_value(
			"Pool Customer",
			{"party_type": pc.party_type, "party": pc.party, "name": ("!=", pc.name or "")},
		)
		if other:
			frappe.throw(
				_("{0} {1} is already the pool customer {2}").format(_(pc.party_type), pc.party, other),
				frappe.DuplicateEntryError,
			)
		if pc.party_type == "Lead":
			pc.lead = pc.party
		elif pc.party_type == "Customer":
			pc.customer = pc.party
	if pc.uscc:
		pc.uscc = rules.validate_uscc(pc.uscc)
	pc.owner_name = frappe.db.get_value("User", pc.owned_by, "full_name") if pc.owned_by else None
	apply_review_decision(pc)


# Pool Customer fields that only crm_pool's actions change (claim, assign, release, lock, transfer,
# recycle, allocation, review), each with its Pool Log entry; never a form, REST or set_value.
OWNER_FIELDS = (
	"pool",
	"status",
	"owned_by",
	"previous_owner",
	"claimed_at",
	"released_at",
	"pool_entered_at",
	"recycle_due_at",
	"reminder_sent_at",
	"last_followup_at",
	"last_deal_at",
	"lock_reason",
	"party_type",
	"party",
	"lead",
	"customer",
)


def guard_owner_fields(pc: Document) -> None:
	"""Pool Customer validate: its owner, status, pool, dates and collaborators change through the
	actions only (crm_pool.api, each logged): a save through the form, REST (PUT / POST),
	frappe.client.save / set_value or an import that changes them is refused, a manager's too; other
	fields (grade, profile) stay editable. A new pool customer made outside intake has no owner and
	starts pending review or in the pool. The app's own writes are database writes or carry
	ignore_permissions; the review Workflow changes review_status, from which `apply_review_decision`
	(after this check) moves the status."""
	if pc.flags.ignore_permissions:
		return
	if pc.is_new():
		if pc.owned_by or pc.status not in (PENDING_REVIEW, IN_POOL, None, "") or pc.get("collaborators"):
			frappe.throw(
				_("A new pool customer has no owner: it is claimed or assigned afterwards"),
				ownership.AuditedPathError,
			)
		return
	before = pc.get_doc_before_save()
	if not before:
		return
	changed = [field for field in OWNER_FIELDS if _field_changed(pc, before, field)]
	if _collaborators(pc) != _collaborators(before):
		changed.append("collaborators")
	if changed:
		frappe.throw(
			_(
				"{0} of a pool customer change only through its actions (claim, assign, release, lock, "
				"transfer, collaborators), which keep its history"
			).format(", ".join(_(pc.meta.get_label(field)) for field in changed)),
			ownership.AuditedPathError,
			title=_("Not Allowed"),
		)


def _field_changed(pc: Document, before: Document, field: str) -> bool:
	old, new = before.get(field) or None, pc.get(field) or None
	if old and new and pc.meta.get_field(field).fieldtype == "Datetime":
		return get_datetime(old) != get_datetime(new)
	return old != new


def _collaborators(pc: Document) -> list[tuple[str, str]]:
	return sorted((row.user or "", row.access or "") for row in pc.get("collaborators") or [])


def apply_review_decision(pc: Document) -> None:
	"""When review_status changed (the Workflow), move a pending customer into the pool (or to its
	owner) or mark it invalid; the REVIEW log entry is written on update."""
	before = pc.get_doc_before_save()
	if not before or before.review_status == pc.review_status:
		return
	pc.flags.review_decision = (before.review_status, pc.review_status)
	if pc.status != PENDING_REVIEW:
		return
	if pc.review_status == REVIEW_APPROVED:
		pc.status = OWNED if pc.owned_by else IN_POOL
		if not pc.owned_by:
			pc.pool_entered_at = now_datetime()
	elif pc.review_status == REVIEW_REJECTED:
		pc.status = INVALID


def after_insert_pool_customer(pc: Document) -> None:
	if pc.flags.review_not_needed and pc.review_status == REVIEW_PENDING:
		# inserted in the workflow's first state (the Workflow requires it), then marked reviewed
		pc.db_set("review_status", REVIEW_APPROVED, update_modified=False)


def log_review(pc: Document) -> None:
	"""Pool Customer on_update: the REVIEW log entry of a review decision."""
	if pc.flags.review_decision:
		previous, decision = pc.flags.review_decision
		pc.flags.review_decision = None
		log_change(
			pc.name,
			REVIEW,
			to_user=pc.owned_by,
			reason=f"{previous} -> {decision}",
			pool=pc.pool,
			customer_name=pc.customer_name,
		)


POOL_COUNTS = (
	"max_owned",
	"max_daily_claims",
	"cooldown_days",
	"no_followup_days",
	"no_deal_days",
	"reminder_days",
)


def validate_customer_pool(pool: Document) -> None:
	"""Customer Pool validate: the default pool is enabled; counts are not negative; a territory is
	covered by one enabled pool; members are listed once (with their full names); one rule per grade."""
	if pool.is_default and not pool.enabled:
		frappe.throw(_("The default pool must be enabled"))
	for field in POOL_COUNTS:
		if (pool.get(field) or 0) < 0:
			frappe.throw(_("{0} cannot be negative").format(_(pool.meta.get_label(field))))
	if pool.territory and pool.enabled:
		other = frappe.db.get_value(
			"Customer Pool",
			{"territory": pool.territory, "enabled": 1, "name": ("!=", pool.name or "")},
		)
		if other:
			frappe.throw(_("Territory {0} is already covered by the pool {1}").format(pool.territory, other))
	seen = set()
	for member in pool.get("members"):
		if member.user in seen:
			frappe.throw(_("Row {0}: {1} is already a member of this pool").format(member.idx, member.user))
		seen.add(member.user)
		member.full_name = frappe.db.get_value("User", member.user, "full_name") if member.user else None
	grades = set()
	for rule in pool.get("grade_rules"):
		if rule.grade in grades:
			frappe.throw(_("Row {0}: grade {1} already has a rule").format(rule.idx, rule.grade))
		grades.add(rule.grade)
		for field in ("no_followup_days", "no_deal_days"):
			if (rule.get(field) or 0) < 0:
				frappe.throw(
					_("Row {0}: {1} cannot be negative").format(rule.idx, _(rule.meta.get_label(field)))
				)


def make_only_default(pool: Document) -> None:
	"""Customer Pool on_update: a pool made the default pool takes that over from any other."""
	if pool.is_default:
		others = frappe.get_all(
			"Customer Pool", filters={"is_default": 1, "name": ("!=", pool.name)}, pluck="name"
		)
		if others:
			frappe.db.sql(
				"UPDATE `tabCustomer Pool` SET is_default = 0 WHERE is_default = 1 AND name != %s",
				pool.name,
			)
			frappe.msgprint(
				_("{0} is now the default pool instead of {1}").format(pool.name, ", ".join(others)),
				alert=True,
			)
