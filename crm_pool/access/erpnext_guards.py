"""Guards on ERPNext's and Frappe's whitelisted methods that read or copy a Lead's, Prospect's or
Customer's data (SPEC §7: "every ERPNext whitelisted method that reads a party").

Many of them take a party (or a document naming one) from the client and answer without asking
whether the caller may read it (`get_lead_details`, `get_party_details` with `ignore_permissions`,
`get_customer_primary_contact`, ...). hooks.py points each of them, through
`override_whitelisted_methods`, to a guard made here by `guard()`: the guard has the original's
signature, checks the caller's permission on the party (the record-level rules of
`crm_pool.pool.permissions` decide), then calls the original with the same arguments.

Frappe applies `override_whitelisted_methods` to `/api/method/...` (`frappe.handler.execute_cmd`)
and to the desk's mappers (`frappe.model.mapper.make_mapped_doc`), but two routes call a whitelisted
method by its name without looking at the hook: `frappe.model.mapper.map_docs` and the `query` of
`frappe.desk.search.search_link` / `search_widget`. Those are guarded as well, by routing the method
they are given through the same hook (`route()`).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
from collections.abc import Callable

import frappe
from frappe import _

from crm_pool.access.permissions import OWN, scope

PARTY_DOCTYPES = ("Lead", "Prospect", "Customer")


# --- the checks ----------------------------------------------------------------------------------


def check_doc(doctype: str, name, ptype: str = "read") -> None:
	"""Refuse unless the caller may `ptype` the record `doctype` `name`. Empty names and unknown
	records are left to the original method, which answers for them."""
	if not name:
		return
	if not isinstance(name, str):
		frappe.throw(_("Please give the name of the {0}").format(_(doctype)), frappe.ValidationError)
	if not frappe.db.exists(doctype, name):
		return
	if not frappe.has_permission(doctype, ptype, name):
		if ptype in ("read", "select"):
			message = _("You are not permitted to read {0} {1}")
		else:
			message = _("You are not permitted to change {0} {1}")
		frappe.throw(message.format(_(doctype), name), frappe.PermissionError, title=_("Not Permitted"))


def check_party(doctype: str | None, name, ptype: str = "read") -> None:
	"""check_doc for a Lead, Prospect or Customer; other doctypes (Supplier, ...) keep ERPNext's rules."""
	if doctype in PARTY_DOCTYPES:
		check_doc(doctype, name, ptype)


def check_conversion(lead) -> None:
	"""Converting a Lead into a Customer: the caller reads the Lead and owns it, or manages it
	(SPEC §3: ownership changes only through the audited paths)."""
	check_doc("Lead", lead)
	if not lead or not frappe.db.exists("Lead", lead):
		return
	user = frappe.session.user
	if scope(user, "Lead") == OWN and frappe.db.get_value("Lead", lead, "lead_owner") != user:
		frappe.throw(
			_("Only the owner of Lead {0} or a manager may convert it into a customer").format(lead),
			frappe.PermissionError,
			title=_("Not Permitted"),
		)


def check_linked(doctype: str, name) -> None:
	"""A Contact or Address: the caller must be able to read it, which for one linked to Leads,
	Prospects or Customers means reading every one of them (crm_pool.pool.contact_access)."""
	if not name or not isinstance(name, str) or not frappe.db.exists(doctype, name):
		return
	if not frappe.has_permission(doctype, "read", name):
		frappe.throw(
			_("You are not permitted to read {0} {1}: it belongs to a customer you may not read").format(
				_(doctype), name
			),
			frappe.PermissionError,
			title=_("Not Permitted"),
		)


def check_named_party(doctype: str, name, party_fields: tuple[str, str], convert: bool = False) -> None:
	"""A document naming a party (Opportunity, Quotation: `opportunity_from`/`quotation_to` and
	`party_name`): the caller reads the document and its party; for `convert`, a Lead with no Customer
	yet is converted, so the conversion rule applies too."""
	check_doc(doctype, name)
	if not name or not isinstance(name, str):
		return
	row = frappe.db.get_value(doctype, name, list(party_fields), as_dict=True)
	if not row:
		return
	party_type, party = row[party_fields[0]], row[party_fields[1]]
	check_party(party_type, party)
	if convert and party_type == "Lead" and not frappe.db.exists("Customer", {"lead_name": party}):
		check_conversion(party)


def _filters(filters) -> dict:
	"""A search query's filters: a dict, or its JSON when the method is called directly."""
	if isinstance(filters, str):
		try:
			filters = json.loads(filters)
		except ValueError:
			return {}
	return filters if isinstance(filters, dict) else {}


# --- the guard factory ---------------------------------------------------------------------------


def guard(method: str, check: Callable[[dict], None]):
	"""A whitelisted function with `method`'s signature that runs `check(arguments)` (the call's
	arguments by name, defaults filled in), then `method` with the same arguments."""
	module, _sep, name = method.rpartition(".")
	original = getattr(importlib.import_module(module), name)
	signature = inspect.signature(original)

	@functools.wraps(original)
	def guarded(*args, **kwargs):
		bound = signature.bind(*args, **kwargs)
		bound.apply_defaults()
		check(bound.arguments)
		return original(*bound.args, **bound.kwargs)

	guarded.__module__ = __name__
	http_methods = frappe.allowed_http_methods_for_whitelisted_func.get(original)
	return frappe.whitelist(methods=http_methods)(guarded)


def overridden(method):
	"""The method Frappe runs for `method` under `override_whitelisted_methods` (the last hook wins)."""
	if not isinstance(method, str):
		return method
	return (frappe.get_hooks("override_whitelisted_methods") or {}).get(method, [method])[-1]


def route(argument: str) -> Callable[[dict], None]:
	"""A check that routes the method named by `argument` through `override_whitelisted_methods`."""

	def check(arguments: dict) -> None:
		arguments[argument] = overridden(arguments.get(argument))

	return check


# --- the guards (hooks.py: override_whitelisted_methods) -----------------------------------------

_LEAD = "erpnext.crm.doctype.lead.lead."
_PROSPECT = "erpnext.crm.doctype.prospect.prospect."
_OPPORTUNITY = "erpnext.crm.doctype.opportunity.opportunity."
_CUSTOMER = "erpnext.selling.doctype.customer.customer."
_QUOTATION = "erpnext.selling.doctype.quotation.quotation."
_SALES_ORDER = "erpnext.selling.doctype.sales_order.sales_order."
_CONTACT = "frappe.contacts.doctype.contact.contact."
_ADDRESS = "frappe.contacts.doctype.address.address."

_OPPORTUNITY_PARTY = ("opportunity_from", "party_name")
_QUOTATION_PARTY = ("quotation_to", "party_name")


def _opportunity_of(name) -> None:
	if name and isinstance(name, str):
		check_named_party("Opportunity", name, _OPPORTUNITY_PARTY)


# Lead (erpnext.crm.doctype.lead.lead)
get_lead_details = guard(_LEAD + "get_lead_details", lambda a: check_party("Lead", a["lead"]))
lead_make_customer = guard(_LEAD + "make_customer", lambda a: check_conversion(a["source_name"]))
lead_make_opportunity = guard(_LEAD + "make_opportunity", lambda a: check_party("Lead", a["source_name"]))
lead_make_quotation = guard(_LEAD + "make_quotation", lambda a: check_party("Lead", a["source_name"]))


def _add_lead_to_prospect(a: dict) -> None:
	check_party("Lead", a["lead"])
	check_party("Prospect", a["prospect"])


add_lead_to_prospect = guard(_LEAD + "add_lead_to_prospect", _add_lead_to_prospect)


def check_communication(communication, by_reference: bool = False) -> None:
	"""make_*_from_communication: the caller reads the Communication, the party it refers to, and the
	Lead ERPNext will use — for an Opportunity the Lead it refers to, else (as for a new Lead) the
	existing Lead with the sender's email or mobile, which ERPNext links the email to."""
	check_doc("Communication", communication)
	if not communication or not frappe.db.exists("Communication", communication):
		return
	row = frappe.db.get_value(
		"Communication",
		communication,
		["reference_doctype", "reference_name", "sender", "phone_no"],
		as_dict=True,
	)
	check_party(row.reference_doctype, row.reference_name)
	if by_reference and row.reference_doctype == "Lead":
		return
	lead = row.sender and frappe.db.get_value("Lead", {"email_id": row.sender})
	if not lead and row.phone_no:
		lead = frappe.db.get_value("Lead", {"mobile_no": row.phone_no})
	check_party("Lead", lead)


make_lead_from_communication = guard(
	_LEAD + "make_lead_from_communication", lambda a: check_communication(a["communication"])
)

# Prospect (erpnext.crm.doctype.prospect.prospect)
prospect_make_customer = guard(
	_PROSPECT + "make_customer", lambda a: check_party("Prospect", a["source_name"])
)
prospect_make_opportunity = guard(
	_PROSPECT + "make_opportunity", lambda a: check_party("Prospect", a["source_name"])
)
get_opportunities = guard(_PROSPECT + "get_opportunities", lambda a: check_party("Prospect", a["prospect"]))

# Opportunity (erpnext.crm.doctype.opportunity.opportunity): the Opportunity and its party
opportunity_make_quotation = guard(
	_OPPORTUNITY + "make_quotation", lambda a: _opportunity_of(a["source_name"])
)
opportunity_make_customer = guard(
	_OPPORTUNITY + "make_customer",
	lambda a: check_named_party("Opportunity", a["source_name"], _OPPORTUNITY_PARTY, convert=True),
)
make_request_for_quotation = guard(
	_OPPORTUNITY + "make_request_for_quotation", lambda a: _opportunity_of(a["source_name"])
)
make_supplier_quotation = guard(
	_OPPORTUNITY + "make_supplier_quotation", lambda a: _opportunity_of(a["source_name"])
)


make_opportunity_from_communication = guard(
	_OPPORTUNITY + "make_opportunity_from_communication",
	lambda a: check_communication(a["communication"], by_reference=True),
)

# Activities and interactions shown on the CRM forms
get_last_interaction = guard(
	"erpnext.crm.doctype.utils.get_last_interaction",
	lambda a: (check_linked("Contact", a["contact"]), check_party("Lead", a["lead"])),
)


def _open_activities(a: dict) -> None:
	if isinstance(a["ref_doctype"], str) and frappe.db.exists("DocType", a["ref_doctype"]):
		check_doc(a["ref_doctype"], a["ref_docname"])


get_open_activities = guard("erpnext.crm.utils.get_open_activities", _open_activities)

# Customer (erpnext.selling.doctype.customer.customer)
customer_make_quotation = guard(
	_CUSTOMER + "make_quotation", lambda a: check_party("Customer", a["source_name"])
)
customer_make_opportunity = guard(
	_CUSTOMER + "make_opportunity", lambda a: check_party("Customer", a["source_name"])
)
get_customer_primary_contact = guard(
	_CUSTOMER + "get_customer_primary_contact",
	lambda a: check_party("Customer", _filters(a["filters"]).get("customer")),
)
set_customer_info = guard(
	"erpnext.selling.page.point_of_sale.point_of_sale.set_customer_info",
	lambda a: check_party("Customer", a["customer"], "write"),
)

# Quotation → Sales Order / Sales Invoice (a quotation to a Lead converts the Lead into a Customer)
quotation_make_sales_order = guard(
	_QUOTATION + "make_sales_order",
	lambda a: check_named_party("Quotation", a["source_name"], _QUOTATION_PARTY, convert=True),
)
quotation_make_sales_invoice = guard(
	_QUOTATION + "make_sales_invoice",
	lambda a: check_named_party("Quotation", a["source_name"], _QUOTATION_PARTY, convert=True),
)


def _sales_order(a: dict) -> None:
	"""`ignore_permissions` comes from the client too: the Sales Order and its Customer are checked."""
	check_doc("Sales Order", a["source_name"])
	if isinstance(a["source_name"], str):
		check_party("Customer", frappe.db.get_value("Sales Order", a["source_name"], "customer"))


sales_order_make_sales_invoice = guard(_SALES_ORDER + "make_sales_invoice", _sales_order)


# Party details (erpnext.accounts.party): `ignore_permissions` is an argument the client may set
def _party_details(a: dict) -> None:
	party_type = a["party_type"]
	if party_type in PARTY_DOCTYPES:
		check_party(party_type, a["party"], "select" if frappe.only_has_select_perm(party_type) else "read")


get_party_details = guard("erpnext.accounts.party.get_party_details", _party_details)

# Contacts and addresses (frappe.contacts): the parties they are linked to
get_contact_details = guard(_CONTACT + "get_contact_details", lambda a: check_linked("Contact", a["contact"]))
get_address_display = guard(
	_ADDRESS + "get_address_display", lambda a: check_linked("Address", a["address_dict"])
)
get_default_address = guard(_ADDRESS + "get_default_address", lambda a: check_party(a["doctype"], a["name"]))


def _link_filters(a: dict) -> None:
	filters = _filters(a["filters"])
	check_party(filters.get("link_doctype"), filters.get("link_name"))


contact_query = guard(_CONTACT + "contact_query", _link_filters)
address_query = guard(_ADDRESS + "address_query", _link_filters)

# Routes that call a whitelisted method by name: through the same overrides
map_docs = guard("frappe.model.mapper.map_docs", route("method"))
search_link = guard("frappe.desk.search.search_link", route("query"))
search_widget = guard("frappe.desk.search.search_widget", route("query"))


# --- Lead → Prospect through a saved Prospect (the Lead form's Create › Prospect) ------------------


def check_prospect_leads(doc, method: str | None = None) -> None:
	"""Prospect validate: a Lead row added to a Prospect links the Lead's contacts and addresses to
	it (Prospect.on_update), so only a Lead the caller may read can be added (as add_lead_to_prospect)."""
	before = doc.get_doc_before_save()
	known = {row.lead for row in before.get("leads")} if before else set()
	for row in doc.get("leads"):
		if row.lead and row.lead not in known:
			check_party("Lead", row.lead)
