"""ERPNext's copies of a customer's contact data follow the party they belong to (SPEC §7).

Contact and Address (with their child rows Contact Phone, Contact Email and Dynamic Link) linked to a
Lead, Prospect or Customer, and the documents that copy contact data from a party (Opportunity,
Quotation, Prospect with its Prospect Lead rows), are narrowed for sales users (scope OWN or TEAM of
`crm_pool.access.permissions`) to the parties they may read there (`party_condition`). Other users, and
contacts linked to no such party (suppliers' contacts, unlinked contacts), keep ERPNext's rules.

The rules, decided here:
- Contact / Address: readable when *every* Lead, Prospect and Customer it links to is readable; a
  contact linked to someone else's party stays closed even if it also links to one of yours (linking a
  party to a contact needs write access on the contact, below). Writable (and deletable) when the user
  may change every such party: a Read collaborator reads it, and nobody edits a Contact to rewrite
  another salesperson's Lead (ERPNext copies a Lead's Contact phone numbers back into the Lead:
  `erpnext.crm.utils.update_lead_phone_numbers`). New links are checked when the Contact/Address is
  saved (`guard_links`), the stored ones by `has_permission`.
- Opportunity / Quotation: readable when the party it is for (`opportunity_from`/`quotation_to` +
  `party_name`) is readable, or when it is for no Lead/Customer/Prospect. Owning or being assigned the
  document does not open it by itself: it holds a copy of the party's contact data, and access to a
  customer ends with its ownership.
- Sales Order / Delivery Note / Installation Note (they copy the Customer's contact_mobile,
  contact_email and address): readable when their Customer is.
- Prospect: readable when every Lead in its Prospect Lead rows is readable (the rows copy the Lead's
  email and mobile) and the user either may read one of them or created it / is its prospect_owner.
- Global search (`frappe.utils.global_search.search`) reads `__global_search`, which holds the
  searchable fields of Lead, Customer, Opportunity, Quotation, ... in clear text, without any
  permission_query_conditions in Frappe v15. It is overridden (`override_whitelisted_methods`) by
  `global_search`, which drops every result the user may not read (`frappe.has_permission`).
  `web_search` returns published web pages only (no party is published).
- Prints and exports: Frappe v15 checks permissions on all of them (`check_permission("print")`,
  `can_export` + the same list query) and logs to Access Log the report-view export, the data
  exporter and the /printview page; it does not log `download_pdf`, `download_multi_pdf` and
  `get_html_and_style`, so their overrides here log first, then call Frappe.
"""

from __future__ import annotations

import frappe
from frappe import _

from crm_pool.access.permissions import (
	CHANGE_PTYPES,
	OWN,
	TEAM,
	_visible,
	party_change_condition,
	party_condition,
	scope,
)

PARTIES = ("Lead", "Customer", "Prospect")
CONTACT_DOCTYPES = ("Contact", "Address")
# The doctypes whose prints and exports carry customer contact data: logged in Access Log.
LOGGED_DOCTYPES = (
	"Lead",
	"Customer",
	"Prospect",
	"Contact",
	"Address",
	"Opportunity",
	"Quotation",
	"Pool Customer",
)


def _restricted(user: str, doctype: str) -> bool:
	return scope(user, doctype) in (OWN, TEAM)


# --- which parties a user may read / change, as sub-queries of names -------------------------------


def _party_names(doctype: str, user: str, change: bool = False) -> str:
	"""`SELECT name` of the Leads, Customers or Prospects `user` may read (or change)."""
	table = f"`tab{doctype}`"
	if doctype == "Prospect":
		condition = prospect_condition(user)
	elif change and scope(user, doctype) == OWN:
		condition = party_change_condition(doctype, user, "write")
	else:
		condition = party_condition(doctype, user)
	return f"SELECT {table}.name FROM {table} WHERE {condition or '1=1'}"


def prospect_condition(user: str) -> str:
	"""The Prospects `user` may see, as SQL on `tabProspect`."""
	if not _restricted(user, "Prospect"):
		return ""
	u = frappe.db.escape(user)
	leads = _party_names("Lead", user)
	rows = "SELECT 1 FROM `tabProspect Lead` pl WHERE pl.parenttype = 'Prospect' AND pl.parent = `tabProspect`.name"
	return (
		f"(NOT EXISTS ({rows} AND pl.lead NOT IN ({leads})) AND ("
		f"`tabProspect`.owner = {u} OR `tabProspect`.prospect_owner = {u} "
		f"OR EXISTS ({rows} AND pl.lead IN ({leads}))))"
	)


def linked_condition(doctype: str, user: str, change: bool = False) -> str:
	"""The Contacts or Addresses `user` may see (or change), as SQL on `tabContact` / `tabAddress`:
	those with no link to a Lead, Customer or Prospect the user may not see (change)."""
	if not _restricted(user, doctype):
		return ""
	table = f"`tab{doctype}`"
	unreadable = " OR ".join(
		f"(dl.link_doctype = '{party}' AND dl.link_name NOT IN ({_party_names(party, user, change)}))"
		for party in PARTIES
	)
	return (
		f"NOT EXISTS (SELECT 1 FROM `tabDynamic Link` dl WHERE dl.parenttype = '{doctype}' "
		f"AND dl.parent = {table}.name AND ({unreadable}))"
	)


def party_document_condition(doctype: str, user: str) -> str:
	"""Opportunities or Quotations `user` may see, as SQL: those for a party the user may see, or for
	no Lead/Customer/Prospect at all."""
	if not _restricted(user, doctype):
		return ""
	table = f"`tab{doctype}`"
	party_type = f"{table}.{'opportunity_from' if doctype == 'Opportunity' else 'quotation_to'}"
	readable = " OR ".join(
		f"({party_type} = '{party}' AND {table}.party_name IN ({_party_names(party, user)}))"
		for party in PARTIES
	)
	return (
		f"(IFNULL({table}.party_name, '') = '' OR IFNULL({party_type}, '') NOT IN "
		f"('Lead', 'Customer', 'Prospect') OR {readable})"
	)


# Selling documents a Sales User reads that copy their Customer's contact and address
# (contact_mobile, contact_email, address_display): readable when the Customer is.
CUSTOMER_DOCUMENTS = ("Sales Order", "Delivery Note", "Installation Note")


def customer_document_condition(doctype: str, user: str) -> str:
	"""Sales Orders, Delivery Notes or Installation Notes `user` may see, as SQL: those of a Customer
	the user may see."""
	if not _restricted(user, doctype):
		return ""
	table = f"`tab{doctype}`"
	return f"(IFNULL({table}.customer, '') = '' OR {table}.customer IN ({_party_names('Customer', user)}))"


def child_condition(child: str, parents: tuple[str, ...], user: str) -> str:
	"""Child rows (Contact Phone, Dynamic Link, ...) of the parents `user` may see."""
	conditions = {parent: QUERIES[parent](user) for parent in parents}
	if not any(conditions.values()):
		return ""
	table = f"`tab{child}`"
	visible = " OR ".join(
		f"({table}.parenttype = '{parent}' AND {table}.parent IN "
		f"(SELECT `tab{parent}`.name FROM `tab{parent}` WHERE {condition or '1=1'}))"
		for parent, condition in conditions.items()
	)
	return f"(IFNULL({table}.parenttype, '') NOT IN ({', '.join(repr(p) for p in parents)}) OR {visible})"


QUERIES = {
	"Contact": lambda user: linked_condition("Contact", user),
	"Address": lambda user: linked_condition("Address", user),
	"Prospect": prospect_condition,
	"Opportunity": lambda user: party_document_condition("Opportunity", user),
	"Quotation": lambda user: party_document_condition("Quotation", user),
	**{dt: (lambda user, dt=dt: customer_document_condition(dt, user)) for dt in CUSTOMER_DOCUMENTS},
}


# --- permission_query_conditions -----------------------------------------------------------------


def contact_query(user: str | None = None) -> str:
	return linked_condition("Contact", user or frappe.session.user)


def address_query(user: str | None = None) -> str:
	return linked_condition("Address", user or frappe.session.user)


def prospect_query(user: str | None = None) -> str:
	return prospect_condition(user or frappe.session.user)


def opportunity_query(user: str | None = None) -> str:
	return party_document_condition("Opportunity", user or frappe.session.user)


def quotation_query(user: str | None = None) -> str:
	return party_document_condition("Quotation", user or frappe.session.user)


def sales_order_query(user: str | None = None) -> str:
	return customer_document_condition("Sales Order", user or frappe.session.user)


def delivery_note_query(user: str | None = None) -> str:
	return customer_document_condition("Delivery Note", user or frappe.session.user)


def installation_note_query(user: str | None = None) -> str:
	return customer_document_condition("Installation Note", user or frappe.session.user)


def contact_phone_query(user: str | None = None) -> str:
	return child_condition("Contact Phone", ("Contact",), user or frappe.session.user)


def contact_email_query(user: str | None = None) -> str:
	return child_condition("Contact Email", ("Contact",), user or frappe.session.user)


def dynamic_link_query(user: str | None = None) -> str:
	return child_condition("Dynamic Link", CONTACT_DOCTYPES, user or frappe.session.user)


def prospect_lead_query(user: str | None = None) -> str:
	return child_condition("Prospect Lead", ("Prospect",), user or frappe.session.user)


# --- has_permission -------------------------------------------------------------------------------


def has_contact_permission(doc, ptype: str | None = None, user: str | None = None, debug=False):
	"""Contact / Address: read as its parties; change only when every party may be changed."""
	user = user or frappe.session.user
	if doc.is_new() or not _restricted(user, doc.doctype):
		return None
	if not _visible(doc.doctype, doc.name, linked_condition(doc.doctype, user)):
		return False
	if ptype in CHANGE_PTYPES and not _visible(
		doc.doctype, doc.name, linked_condition(doc.doctype, user, change=True)
	):
		return False
	return None


def has_party_document_permission(doc, ptype: str | None = None, user: str | None = None, debug=False):
	"""Opportunity, Quotation, Prospect, Sales Order, Delivery Note, Installation Note: readable when
	the party behind it is."""
	user = user or frappe.session.user
	if doc.is_new() or not _restricted(user, doc.doctype):
		return None
	return None if _visible(doc.doctype, doc.name, QUERIES[doc.doctype](user)) else False


# --- saving a Contact / Address: every linked party must be the user's to change ------------------


def guard_links(doc, method=None) -> None:
	"""before_validate of Contact and Address: a sales user links (and keeps linked) only parties they
	may change. Runs before ERPNext's validate copies the Contact's phone numbers into the Lead."""
	user = frappe.session.user
	if (
		frappe.flags.in_install
		or frappe.flags.in_migrate
		or doc.flags.ignore_permissions  # server code (ERPNext's own updates of a party's contact)
		or not _restricted(user, doc.doctype)
	):
		return
	for link in doc.get("links") or []:
		if link.link_doctype not in PARTIES or not link.link_name:
			continue
		condition = (
			prospect_condition(user)
			if link.link_doctype == "Prospect"
			else (
				party_change_condition(link.link_doctype, user, "write")
				if scope(user, link.link_doctype) == OWN
				else party_condition(link.link_doctype, user)
			)
		)
		if not _visible(link.link_doctype, link.link_name, condition):
			frappe.throw(
				_("You may not change the contact details of {0} {1}: it is not yours to change.").format(
					_(link.link_doctype), link.link_name
				),
				frappe.PermissionError,
			)


# --- global search ----------------------------------------------------------------------------------


@frappe.whitelist()
def global_search(text: str, start: int = 0, limit: int = 20, doctype: str = ""):
	"""`frappe.utils.global_search.search`, without the results the user may not read."""
	from frappe.utils.global_search import search

	return [
		row
		for row in search(text, start=start, limit=limit, doctype=doctype)
		if frappe.has_permission(row.doctype, "read", doc=row.name)
	]


# --- prints and exports Frappe v15 does not log -----------------------------------------------------


def _log(doctype: str | None, names, method: str, file_type: str) -> None:
	from frappe.core.doctype.access_log.access_log import make_access_log

	if doctype not in LOGGED_DOCTYPES:
		return
	for name in names:
		make_access_log(doctype=doctype, document=name, method=method, file_type=file_type)


@frappe.whitelist(allow_guest=True)
def download_pdf(doctype, name, format=None, doc=None, no_letterhead=0, language=None, letterhead=None):
	"""`frappe.utils.print_format.download_pdf` (which checks the print permission), logged."""
	from frappe.utils import print_format

	result = print_format.download_pdf(
		doctype, name, format=format, no_letterhead=no_letterhead, language=language, letterhead=letterhead
	)
	_log(doctype, [name], "PDF", "PDF")
	return result


@frappe.whitelist()
def download_multi_pdf(doctype, name, format=None, no_letterhead=False, letterhead=None, options=None):
	"""`frappe.utils.print_format.download_multi_pdf` (each document checked as it is printed), logged."""
	from frappe.utils import print_format

	result = print_format.download_multi_pdf(
		doctype, name, format=format, no_letterhead=no_letterhead, letterhead=letterhead, options=options
	)
	printed = frappe.parse_json(doctype) if isinstance(doctype, str) and doctype.startswith("{") else doctype
	if not isinstance(printed, dict):
		names = frappe.parse_json(name) if isinstance(name, str) and name.startswith("[") else name
		printed = {doctype: names if isinstance(names, list) else [names]}
	for dt, names in printed.items():
		_log(dt, names, "PDF", "PDF")
	return result


@frappe.whitelist()
def get_html_and_style(
	doc: str,
	name: str | None = None,
	print_format: str | None = None,
	no_letterhead: bool | None = None,
	letterhead: str | None = None,
	trigger_print: bool = False,
	style: str | None = None,
	settings: str | None = None,
):
	from frappe.www import printview

	result = printview.get_html_and_style(
		doc,
		name=name,
		print_format=print_format,
		no_letterhead=no_letterhead,
		letterhead=letterhead,
		trigger_print=trigger_print,
		style=style,
		settings=settings,
	)
	if isinstance(name, str):  # permission checked by Frappe above
		_log(doc, [name], "Print", "HTML")
	return result


# --- Access Log: managers review who printed and exported what ---------------------------------------


def allow_managers_to_read_access_log() -> None:
	"""after_install / after_migrate: Pool Manager reads Access Log (System Manager already does)."""
	from frappe.permissions import add_permission, update_permission_property

	from crm_pool.core.roles import POOL_MANAGER

	if not frappe.db.exists("Role", POOL_MANAGER):
		return
	if not frappe.db.exists("Custom DocPerm", {"parent": "Access Log", "role": POOL_MANAGER, "permlevel": 0}):
		add_permission("Access Log", POOL_MANAGER, 0)
	for ptype in ("read", "report"):
		update_permission_property("Access Log", POOL_MANAGER, 0, ptype, 1, validate=False)
