"""Customer Share (共享客户, SPEC §5; seed 000 客户资源共享管理办法): any employee shares a customer a
business line needs; the customer enters the pool of its region through the pool's own rules, and the
share follows it until it is rewarded.

- Create (`prepare`, the share's before_insert): the sharer is the session user, always; every field
  the system writes (status, reason, links, dates, masked copies) is cleared, whatever the client
  sent; required fields, USCC and mobile are checked with translated messages.
- Intake (`intake`, the share's validate on insert, in the same transaction): dedupe with the pool's
  keys under the pool's dedupe locks. A customer that exists already (owned or in the pool) makes the
  share NOT_REWARDABLE, its reason the pool's duplicate message (owner masked for the sharer), its
  pool customer linked, no Lead made. A new customer becomes a Lead nobody owns (not the sharer:
  首问负责 would make them its owner) that enters the pool of its territory; its Pool Customer gets the
  sharer as `referrer`, the share and the business line. A race lost on the Lead's own dedupe is a
  NOT_REWARDABLE share too. Then the share hands the contact data over: it keeps masked copies only.
- Follow (`follow`, on the hook `crm_pool_owners_changed` that `pool.ownership.write_owners` and
  `pool.intake.convert_to_customer` raise): SHARED → ACCEPTED when its customer gets an owner (claim,
  allocation, assignment), → CONVERTED when its Lead becomes a Customer. A customer released later
  keeps its share ACCEPTED: it was accepted once (the reward looks at contracts, not at the owner).
  REWARDED is written by the payout; REJECTED by a manager (`reject`).
- Read: the sharer, managers, and the current owner of its customer (who may see who referred it).
  A share is a record of what was shared: nobody edits it after it is saved (the system moves its
  status; a manager rejects it with a reason); managers delete.
- Quotation guard (`guard_quotation`): a sharer not on the business line does not quote the shared
  customer on that line (seed 2.1.3): the line's staff quote it.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import flt, get_fullname, now_datetime

from crm_pool.core import normalize
from crm_pool.core.errors import DuplicateCustomerError, InvalidArgument, PoolRuleError
from crm_pool.core.notify import notify
from crm_pool.core.roles import is_manager
from crm_pool.core.setbased import chunks
from crm_pool.core.status import HAS_OWNER
from crm_pool.pool.dedupe import dedupe_keys, duplicate_message, find_duplicate, lock_dedupe_keys
from crm_pool.pool.profile import party_profile
from crm_pool.sharing.model import (
	ACCEPTED,
	CONVERTED,
	CUSTOMER_SHARE,
	NOT_REWARDABLE,
	REJECTED,
	REVENUE_UNIT,
	SETTINGS,
	SHARED,
)

# What the system writes on a share: never taken from the client.
SYSTEM_FIELDS = (
	"status",
	"reason",
	"sharer",
	"sharer_name",
	"pool",
	"lead",
	"pool_customer",
	"customer",
	"accepted_on",
	"converted_on",
	"contact_masked",
	"mobile_masked",
	"address_masked",
)
# The customer's contact data: handed over to the Lead, then emptied on the share.
CONTACT_FIELDS = ("contact_person", "mobile_no", "address")
# Shares that still follow their customer.
OPEN = (SHARED, ACCEPTED)
# Shares a manager may reject (a rewarded one is paid; a not rewardable one earns nothing anyway).
REJECTABLE = (SHARED, ACCEPTED, CONVERTED)
# The Lead Source of a shared customer, the first that exists on the site.
REFERRAL_SOURCES = ("员工推荐", "Employee Referral", "Reference")
MAX_TEXT = 1000


# --- create ----------------------------------------------------------------------------------------


def prepare(doc: Document) -> None:
	"""before_insert: the sharer is the session user; system fields are the system's; the input is
	checked (required fields, territory, business line, USCC, mobile, revenue) and cleaned."""
	for field in SYSTEM_FIELDS:
		doc.set(field, None)
	doc.status = SHARED
	doc.sharer = frappe.session.user
	doc.sharer_name = get_fullname(doc.sharer)
	for field in ("company_name", "contact_person", "address", "business_needed"):
		value = doc.get(field)
		doc.set(field, normalize.clean_text(value.strip()) if isinstance(value, str) else value)
	for field, label in (
		("company_name", "Company Name"),
		("territory", "Territory"),
		("business_line", "Business Line"),
		("business_needed", "Business Needed"),
	):
		if not doc.get(field):
			frappe.throw(_("Please give {0}").format(_(label)), InvalidArgument, title=_("Missing Value"))
	for field, label, limit in (
		("company_name", "Company Name", 140),
		("contact_person", "Contact Person", 140),
		("address", "Address", MAX_TEXT),
		("business_needed", "Business Needed", MAX_TEXT),
	):
		if len(doc.get(field) or "") > limit:
			frappe.throw(
				_("{0} is too long: at most {1} characters").format(_(label), limit), InvalidArgument
			)
	for field, doctype, label in (
		("territory", "Territory", "Territory"),
		("business_line", "Item Group", "Business Line"),
	):
		if not frappe.db.exists(doctype, doc.get(field)):
			frappe.throw(_("{0} {1} does not exist").format(_(label), doc.get(field)), InvalidArgument)
	if doc.get("uscc"):
		doc.uscc = normalize.validate_uscc(doc.uscc)
	if doc.get("mobile_no"):
		doc.mobile_no = normalize.normalize_mobile(doc.mobile_no)
	if flt(doc.get("estimated_revenue")) < 0:
		frappe.throw(_("The estimated revenue cannot be negative"), InvalidArgument)


def intake(doc: Document) -> None:
	"""validate of a new share: the customer through the pool's intake (see the module docstring),
	then the hand-over of its contact data. Same transaction as the share: a failure leaves neither."""
	lead = new_lead(doc)
	keys = dedupe_keys(party_profile(lead))
	lock_dedupe_keys(keys)  # as intake does: one intake per key at a time, to the end of the transaction
	duplicate = find_duplicate(keys, locking=True)
	if duplicate:
		not_rewardable(doc, duplicate)
	else:
		try:
			insert_lead(lead)
		except DuplicateCustomerError:
			# the race: another intake of this customer committed between our check and the Lead's
			duplicate = lead.flags.crm_pool_duplicate
			drop_refused_contact(lead)
			if not duplicate:
				raise
			not_rewardable(doc, duplicate)
		else:
			shared(doc, lead)
	hand_over(doc)


def new_lead(doc: Document) -> Document:
	"""The Lead of a shared customer, not inserted: nobody owns it (lead_owner empty: the pool decides)."""
	lead = frappe.get_doc(
		{
			"doctype": "Lead",
			"company_name": doc.company_name,
			"first_name": doc.get("contact_person") or None,
			"mobile_no": doc.get("mobile_no") or None,
			"uscc": doc.get("uscc") or None,
			"territory": doc.territory,
			"source": referral_source(),
			"annual_revenue": flt(doc.get("estimated_revenue")) * REVENUE_UNIT,
			"lead_owner": "",
		}
	)
	lead.flags.ignore_permissions = True
	return lead


def referral_source() -> str | None:
	for source in REFERRAL_SOURCES:
		if frappe.db.exists("Lead Source", source):
			return source
	return None


def insert_lead(lead: Document) -> None:
	"""Insert the shared customer's Lead (trusted: the share's rules apply, not the sharer's rights on
	Leads). Frappe makes the session user its creator (`owner`), and the creator reads a Lead nobody
	owns while it waits for review: the creator is set to Administrator, so the sharer never reads it."""
	lead.insert(ignore_permissions=True)
	frappe.db.set_value("Lead", lead.name, "owner", "Administrator", update_modified=False)
	lead.owner = "Administrator"


def drop_refused_contact(lead: Document) -> None:
	"""ERPNext made the refused Lead's Contact before intake refused it (and its telephony hook may
	have committed it): the caller carries on, so it is deleted now."""
	contact = lead.get("contact_doc")
	if contact and contact.get("name") and frappe.db.exists("Contact", contact.name):
		frappe.delete_doc("Contact", contact.name, ignore_permissions=True, force=True)


def shared(doc: Document, lead: Document) -> None:
	"""A new customer: the share links its Lead and Pool Customer; the Pool Customer the sharer as its
	referrer, the share, and the business line (when it has none). The need goes to the Lead as a note."""
	doc.status = SHARED
	doc.lead = lead.name
	pc = lead.get("pool_customer") or frappe.db.get_value("Pool Customer", {"lead": lead.name})
	if pc:
		doc.pool_customer = pc
		doc.pool, product_line = frappe.db.get_value("Pool Customer", pc, ["pool", "product_line"])
		update = {"referrer": doc.sharer, "customer_share": doc.name}
		if not product_line:
			update["product_line"] = doc.business_line
		frappe.db.set_value("Pool Customer", pc, update, update_modified=False)
	add_need_note(doc, lead.name)


def add_need_note(doc: Document, lead: str) -> None:
	"""The business needed, the address and the estimate, as a CRM Note of the Lead (for its future
	owner). Inserted as a row: a note made by intake is not a follow-up of anyone."""
	lines = [
		_("Shared by {0} ({1}) for {2}").format(doc.sharer_name or doc.sharer, doc.name, doc.business_line),
		_("Business Needed") + ": " + (doc.business_needed or ""),
	]
	if doc.get("address"):
		lines.append(_("Address") + ": " + doc.address)
	if flt(doc.get("estimated_revenue")):
		lines.append(_("Estimated Revenue (10k CNY)") + f": {flt(doc.estimated_revenue):g}")
	note = frappe.get_doc(
		{
			"doctype": "CRM Note",
			"parenttype": "Lead",
			"parent": lead,
			"parentfield": "notes",
			"idx": 1,
			"note": "<br>".join(frappe.utils.escape_html(line) for line in lines),
			"added_by": doc.sharer,
			"added_on": now_datetime(),
		}
	)
	note.db_insert()


def not_rewardable(doc: Document, duplicate: frappe._dict) -> None:
	"""The customer exists already: not rewardable, with the pool's message naming it (its owner
	masked unless the sharer may see it), linked to its pool customer."""
	doc.status = NOT_REWARDABLE
	doc.reason = duplicate_message(duplicate)
	doc.pool_customer = duplicate.name
	doc.pool = duplicate.get("pool")


def hand_over(doc: Document) -> None:
	"""The share keeps masked copies of the contact data only; the full values are on the Lead (or, for
	an existing customer, nowhere new: no side channel to confirm its phone)."""
	doc.contact_masked = normalize.mask_person_name(doc.get("contact_person")) or None
	doc.mobile_masked = normalize.mask_mobile(doc.get("mobile_no")) or None
	doc.address_masked = normalize.mask_address(doc.get("address"))[:140] or None
	for field in CONTACT_FIELDS:
		doc.set(field, None)


def check_unchanged(doc: Document) -> None:
	"""validate of a saved share: nobody edits it (the system writes its status without saving it)."""
	before = doc.get_doc_before_save()
	if not before:
		return
	layout = frappe.model.no_value_fields  # section and column breaks hold nothing
	changed = [
		field.fieldname
		for field in doc.meta.fields
		if field.fieldtype not in layout
		and (doc.get(field.fieldname) or None) != (before.get(field.fieldname) or None)
	]
	if changed:
		frappe.throw(
			_("A customer share is not edited after it is saved; a manager may reject it with a reason"),
			PoolRuleError,
			title=_("Not Allowed"),
		)


# --- follow the customer ---------------------------------------------------------------------------


def follow(
	where_sql: str | None = None, scope: dict | None = None, known: frappe._dict | None = None
) -> None:
	"""The open shares follow their pool customers (hook `crm_pool_owners_changed`): ACCEPTED once the
	customer has an owner (accepted_on: when it was claimed), CONVERTED once its Lead became a Customer
	(`customer`, converted_on: the Customer's creation). The shares of the pool customers `pc` that
	changed (`where_sql` over `pc`, input in `scope`; None: every open share). Set-based: one UPDATE
	over the shares that change, picked by a plain read first so that the UPDATE locks those rows only
	(concurrent claims of other customers do not wait for each other on the open shares).

	`known`: a claim's read under its customer's lock, with `open_shares` (`open_shares_sql`); none
	means nothing to follow (a claim of a customer nobody shared, nearly every claim). A share opens
	only with its customer's Lead, in the transaction that makes the pool customer, so none can open
	between that read and this."""
	if known is not None and not known.get("open_shares"):
		return
	owned = f"pc.owned_by IS NOT NULL AND pc.status IN {sql_tuple(HAS_OWNER)}"
	values = {"shared": SHARED, "accepted": ACCEPTED, "converted": CONVERTED, "open": OPEN}
	names = frappe.db.sql_list(  # set-based: the open shares whose customer moved on
		f"""SELECT cs.name FROM `tabCustomer Share` cs JOIN `tabPool Customer` pc ON pc.name = cs.pool_customer
		WHERE ({where_sql or "1 = 1"}) AND cs.status IN %(open)s
			AND ((cs.status = %(shared)s AND {owned}) OR pc.customer IS NOT NULL)""",
		{**(scope or {}), **values},
	)
	now = now_datetime()
	for chunk in chunks(names):
		# set-based: each assignment reads its own column and the pool customer only (multi-table
		# UPDATE does not promise an order of assignments)
		frappe.db.sql(
			f"""UPDATE `tabCustomer Share` cs JOIN `tabPool Customer` pc ON pc.name = cs.pool_customer
			LEFT JOIN `tabCustomer` c ON c.name = pc.customer
			SET cs.accepted_on = IF({owned}, COALESCE(cs.accepted_on, pc.claimed_at, %(now)s), cs.accepted_on),
				cs.customer = COALESCE(pc.customer, cs.customer),
				cs.converted_on = IF(pc.customer IS NOT NULL,
					COALESCE(cs.converted_on, c.creation, %(now)s), cs.converted_on),
				cs.status = IF(pc.customer IS NOT NULL, %(converted)s, IF({owned}, %(accepted)s, cs.status)),
				cs.modified = %(now)s
			WHERE cs.name IN %(names)s AND cs.status IN %(open)s""",
			{**values, "names": tuple(chunk), "now": now},
		)


def open_shares_sql() -> str:
	"""Has the claimed pool customer `pc` an open share (hook `crm_pool_claim_reads`: `follow`'s
	`known.open_shares`)? SQL over `pc`."""
	return f"""EXISTS (SELECT 1 FROM `tabCustomer Share` cs
		WHERE cs.pool_customer = pc.name AND cs.status IN {sql_tuple(OPEN)})"""


def sql_tuple(values: tuple[str, ...]) -> str:
	return "(" + ", ".join(frappe.db.escape(v) for v in values) + ")"


# --- reject ----------------------------------------------------------------------------------------


def reject(share: str, reason: str) -> frappe._dict:
	"""A manager rejects a share (not rewarded yet) with a reason: REJECTED, the referral ends (the
	pool customer's referrer is cleared), the sharer is told."""
	if not is_manager():
		frappe.throw(_("Only a manager may reject a customer share"), frappe.PermissionError)
	row = frappe.db.get_value(
		CUSTOMER_SHARE,
		share,
		["name", "status", "sharer", "pool_customer", "company_name"],
		as_dict=True,
		for_update=True,
	)
	if not row:
		frappe.throw(_("Customer Share {0} does not exist").format(share), frappe.DoesNotExistError)
	if row.status not in REJECTABLE:
		frappe.throw(
			_("Customer share {0} is {1}: it cannot be rejected").format(share, _(row.status)), PoolRuleError
		)
	frappe.db.set_value(CUSTOMER_SHARE, share, {"status": REJECTED, "reason": reason})
	if row.pool_customer:
		frappe.db.sql(  # the referral ends with the share (only if it is this share's)
			"""UPDATE `tabPool Customer` SET referrer = NULL, customer_share = NULL
			WHERE name = %s AND customer_share = %s""",
			(row.pool_customer, share),
		)
	notify(
		row.sharer,
		_("Your customer share {0} was rejected").format(row.company_name),
		_("Reason: {0}").format(reason),
		document_type=CUSTOMER_SHARE,
		document_name=share,
	)
	return frappe._dict(share=share, status=REJECTED, reason=reason)


# --- who reads a share -----------------------------------------------------------------------------


def share_query(user: str | None = None) -> str:
	"""permission_query_conditions of Customer Share: managers all; others the shares they made and
	those of the customers they own now."""
	user = user or frappe.session.user
	if is_manager(user):
		return ""
	u = frappe.db.escape(user)
	return (
		f"(`tabCustomer Share`.sharer = {u} OR `tabCustomer Share`.pool_customer IN "
		f"(SELECT pc.name FROM `tabPool Customer` pc WHERE pc.owned_by = {u}))"
	)


def has_share_permission(doc, ptype: str | None = None, user: str | None = None, debug=False):
	"""has_permission of Customer Share: read as `share_query`; nobody but a manager changes one
	(and then only the system's way: see `check_unchanged`)."""
	user = user or frappe.session.user
	if doc.is_new() or is_manager(user):
		return None
	if ptype not in (None, "read", "select", "print", "report", "export", "email"):
		return False
	if doc.get("sharer") == user:
		return None
	owner = (
		frappe.db.get_value("Pool Customer", doc.get("pool_customer"), "owned_by")
		if doc.get("pool_customer")
		else None
	)
	return None if owner == user else False


# --- the quotation guard ---------------------------------------------------------------------------


def guard_quotation(doc: Document, method: str | None = None) -> None:
	"""Quotation validate: the sharer of a (not rejected) share of this Lead/Customer does not quote it
	on the share's business line unless they are its staff (Sharing Settings → Business Line Staff, for
	the line or a line above it)."""
	user = frappe.session.user
	if (
		user == "Administrator"
		or doc.get("quotation_to") not in ("Lead", "Customer")
		or not doc.get("party_name")
	):
		return
	link = "lead" if doc.quotation_to == "Lead" else "customer"
	pcs = frappe.get_all("Pool Customer", filters={link: doc.party_name}, pluck="name")
	if not pcs:
		return
	lines = frappe.get_all(
		CUSTOMER_SHARE,
		filters={"sharer": user, "status": ("!=", REJECTED), "pool_customer": ("in", pcs)},
		pluck="business_line",
		distinct=True,
	)
	if not lines:
		return
	rows = doc.get("items") or []
	codes = [row.item_code for row in rows if row.get("item_code")] or [""]
	# the items' own groups (a row's item_group is a copy), and any group a row names
	groups = set(frappe.get_all("Item", filters={"name": ("in", codes)}, pluck="item_group"))
	groups |= {row.item_group for row in rows if row.get("item_group")}
	groups = [group for group in groups if group]
	for line in lines:
		if quotes_on_line(groups, line) and not is_line_staff(user, line):
			frappe.throw(
				_("You shared this customer with {0}: its staff quote it").format(line),
				PoolRuleError,
				title=_("Shared Customer"),
			)


def _bounds(item_groups: list[str]) -> list[tuple[int, int]]:
	if not item_groups:
		return []
	return frappe.get_all(
		"Item Group", filters={"name": ("in", item_groups)}, fields=["lft", "rgt"], as_list=True
	)


def quotes_on_line(item_groups: list[str], line: str) -> bool:
	"""Is any of the item groups within the business line's subtree (nested set)?"""
	line_bounds = frappe.db.get_value("Item Group", line, ["lft", "rgt"])
	if not line_bounds:
		return False
	lft, rgt = line_bounds
	return any(lft <= group_lft and group_rgt <= rgt for group_lft, group_rgt in _bounds(item_groups))


def is_line_staff(user: str, line: str) -> bool:
	"""Is `user` staff of the business line, or of a line above it (Sharing Settings)?"""
	staff_lines = frappe.get_all(
		"Business Line Staff",
		filters={"parenttype": SETTINGS, "parent": SETTINGS, "user": user},
		pluck="business_line",
	)
	line_bounds = frappe.db.get_value("Item Group", line, ["lft", "rgt"])
	if not staff_lines or not line_bounds:
		return False
	lft, rgt = line_bounds
	return any(staff_lft <= lft and rgt <= staff_rgt for staff_lft, staff_rgt in _bounds(staff_lines))
