"""What a Lead or Customer looks like to the pool (SPEC §1, §7): the Pool Customer's profile, its copies
of the party's contact data (masked unless the pool says otherwise) and its dedupe keys."""

from __future__ import annotations

import frappe
from frappe.model.document import Document

from crm_pool.core import normalize
from crm_pool.core.settings import MASK_SETTINGS, mask_settings
from crm_pool.pool import followup

# Dedupe keys of a Pool Customer, in the order a match is reported. name_key, mobile_key and
# email_key are keyed hashes (`normalize.dedupe_key`), readable by managers only (permlevel 1).
DEDUPE_FIELDS = ("uscc", "name_key", "mobile_key", "email_key")
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
# Party fields a profile is made from (read set-based by adoption and mask refreshes).
LEAD_FIELDS = (
	"name", "company_name", "lead_name", "first_name", "lead_owner", "territory", "industry", "source",
	"mobile_no", "phone", "email_id", "uscc", "state", "city",
)  # fmt: skip
CUSTOMER_FIELDS = (
	"name", "customer_name", "customer_type", "account_manager", "territory", "industry", "customer_group",
	"mobile_no", "email_id", "uscc", "customer_primary_contact", "primary_address", "lead_name",
)  # fmt: skip


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
			normalize.mask_address(None, doc.get("state"), doc.get("city"))
			if masks["mask_address"]
			else normalize.full_address(None, doc.get("state"), doc.get("city"))
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
		address_of = normalize.mask_address if masks["mask_address"] else normalize.full_address
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
		mobile_masked=_copy(contact.mobile, normalize.mask_mobile, masks["mask_mobile"]),
		phone_masked=_copy(contact.phone, normalize.mask_mobile, masks["mask_mobile"]),
		email_masked=_copy(contact.email, normalize.mask_email, masks["mask_email"]),
		address_masked=address[:COPY_LENGTH] if address else None,
		name_key=normalize.dedupe_key(normalize.normalize_company_name(company)),
		mobile_key=normalize.mobile_key(contact.mobile),
		email_key=normalize.email_key(contact.email),
	)
	return profile


COPY_LENGTH = 140  # the Pool Customer's Data fields


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
	followup.apply_to_pool("crm_pool.pool.profile.refresh_contact_copies", pool.name, in_background=large)


def refresh_contact_copies(pool: str, chunk: int = 1000) -> int:
	"""Copy the contact data of the pool's customers again from their parties, masked or in full as
	the pool says (parties read in chunks, as adoption does). Returns how many rows changed."""
	masks, changed = mask_settings(pool), 0
	for doctype, fields in (("Lead", LEAD_FIELDS), ("Customer", CUSTOMER_FIELDS)):
		columns = ", ".join(f"p.`{f}`" for f in fields if frappe.db.has_column(doctype, f))
		after = ""
		while True:
			rows = frappe.db.sql(  # set-based: a chunk of pool customers with their parties
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


def dedupe_keys(profile: dict) -> dict:
	return {field: profile.get(field) for field in DEDUPE_FIELDS}
