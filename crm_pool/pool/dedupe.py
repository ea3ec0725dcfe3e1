"""Dedupe (查重, SPEC §1): one pool customer per company, whatever the spelling. A party is a
duplicate when it shares the USCC, the normalized company name, a mobile number or an email address
with a pool customer; the refusal names that customer and its owner (masked to whoever may not see
it), and intakes sharing a key are serialized (`lock_dedupe_keys`)."""

from __future__ import annotations

import hashlib

import frappe
from frappe import _
from frappe.model.document import Document

from crm_pool.core.errors import IntakeBusyError
from crm_pool.core.normalize import mask_person_name
from crm_pool.core.roles import is_manager
from crm_pool.core.status import INVALID
from crm_pool.pool.profile import DEDUPE_FIELDS

# Keys of contact data: a refusal does not name them to a user who may not see the customer.
CONTACT_KEYS = ("mobile_key", "email_key")
# How long (seconds) an intake waits for another one entering a customer with the same key.
DEDUPE_LOCK_TIMEOUT = 20


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
	matches = frappe.db.sql(  # a locking read under the intake's named locks
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
	if is_manager(user):
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
	return name if visible or user == frappe.session.user else mask_person_name(name)


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
			owner = mask_person_name(owner)
		return _("This customer already exists: {0} has the same {1}. Its owner is {2}.").format(
			customer, what, owner
		)
	return _(
		"This customer already exists: {0} has the same {1}. It has no owner and is in the pool {2}."
	).format(customer, what, pc.get("pool"))


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
