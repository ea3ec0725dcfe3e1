"""ERPNext's (and Frappe's contacts) whitelisted methods that read or copy a Lead's, Prospect's or
Customer's data check the caller's permission on that party first (issue 8, SPEC §7).

Each method is called the way the desk calls it — through `frappe.handler.execute_cmd` (where
`override_whitelisted_methods` applies), the mappers through `frappe.model.mapper.make_mapped_doc`,
search queries through `frappe.desk.search.search_link` — and once over HTTP against a real server.
For each, a salesperson who may not read the party is refused with nothing returned, and its owner
gets ERPNext's answer.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import frappe
import frappe.handler
import pytest
from werkzeug.test import EnvironBuilder

from crm_pool.core.status import READ
from crm_pool.pool import collaborators
from tests.conftest import real_commit
from tests.factories import (
	company,
	make_lead,
	make_opportunity,
	make_pool,
	make_quotation,
	new_user,
	submit_sales_order,
)

MOBILE, EMAIL = "13711112222", "owner.lead@example.cn"
MOBILE2, EMAIL2 = "13633334444", "owner.customer@example.cn"
STREET = "人民路 88 号"
SECRETS = (MOBILE, EMAIL, MOBILE2, EMAIL2, STREET)


def leaks(data) -> list[str]:
	text = json.dumps(data, default=str, ensure_ascii=False)
	return [s for s in SECRETS if s in text]


@pytest.fixture
def desk(monkeypatch):
	"""call(cmd, **form): a desk request to `/api/method/<cmd>` handled by Frappe's handler."""
	monkeypatch.setattr(frappe.local, "request", EnvironBuilder(method="POST").get_request(), raising=False)

	def call(cmd: str, **form):
		frappe.local.form_dict = frappe._dict(cmd=cmd, **form)
		frappe.local.response = frappe._dict(docs=[])
		return frappe.handler.execute_cmd(cmd)

	return call


def submitted(quotation: str) -> str:
	frappe.get_doc("Quotation", quotation).submit()
	return quotation


class World:
	"""a owns a Lead (mobile, email, an Address) and a Customer converted from another Lead (with
	its Contact); b is a salesperson of the same pool. Made when a test first asks for them (as
	Administrator): reader, a Read collaborator on a's Lead; clerk (Accounts User), who may not read
	Prospects; the pool's manager and a manager of another team; an Opportunity and a Quotation for
	a's Lead, a Quotation and a submitted Sales Order for a's Customer, a Prospect with an
	Opportunity, an open ToDo of a's on the Lead."""

	def __init__(self):
		self.a, self.b = new_user("Sales User"), new_user("Sales User")
		self.pool = make_pool(members=[self.a, self.b])
		self.lead = make_lead(self.pool, owner=self.a, mobile_no=MOBILE, email_id=EMAIL).name

	def __getitem__(self, user: str) -> str:
		return getattr(self, user)

	def _member(self, user: str, **row) -> str:
		pool = frappe.get_doc("Customer Pool", self.pool)
		pool.append("members", {"user": user, **row})
		pool.save(ignore_permissions=True)
		return user

	@cached_property
	def reader(self) -> str:
		reader = self._member(new_user("Sales User"))
		pc = frappe.db.get_value("Pool Customer", {"lead": self.lead})
		collaborators.add_collaborator(pc, reader, READ)
		return reader

	@cached_property
	def clerk(self) -> str:
		return new_user("Accounts User")

	@cached_property
	def manager(self) -> str:
		return self._member(new_user("Sales User", "Sales Manager"), is_admin=1)

	@cached_property
	def other_manager(self) -> str:
		return new_user("Sales User", "Sales Manager")

	@cached_property
	def customer(self) -> str:
		lead = make_lead(self.pool, owner=self.a, mobile_no=MOBILE2, email_id=EMAIL2).name
		customer = frappe.get_doc(
			{
				"doctype": "Customer",
				"customer_name": frappe.db.get_value("Lead", lead, "company_name"),
				"customer_type": "Company",
				"lead_name": lead,
			}
		).insert(ignore_permissions=True)
		assert customer.account_manager == self.a
		return customer.name

	@cached_property
	def contact(self) -> str:
		"""The Contact ERPNext made for the customer's Lead, linked to the Customer at conversion."""
		contact = frappe.db.get_value(
			"Dynamic Link",
			{"parenttype": "Contact", "link_doctype": "Customer", "link_name": self.customer},
			"parent",
		)
		assert contact and frappe.db.get_value("Contact", contact, "email_id") == EMAIL2
		return contact

	@cached_property
	def address(self) -> str:
		return (
			frappe.get_doc(
				{
					"doctype": "Address",
					"address_title": f"地址{uuid.uuid4().hex[:6]}",
					"address_type": "Billing",
					"address_line1": STREET,
					"city": "上海",
					"country": frappe.db.get_value("Country", {"code": "cn"}) or "China",
					"is_primary_address": 1,
					"links": [{"link_doctype": "Lead", "link_name": self.lead}],
				}
			)
			.insert(ignore_permissions=True)
			.name
		)

	@cached_property
	def prospect(self) -> str:
		prospect = (
			frappe.get_doc(
				{
					"doctype": "Prospect",
					"company_name": f"意向客户{uuid.uuid4().hex[:6]}有限公司",
					"prospect_owner": self.a,  # a Prospect with no Lead is its owner's (contact_access)
				}
			)
			.insert(ignore_permissions=True)
			.name
		)
		opportunity = make_opportunity("Prospect", prospect)
		frappe.db.set_value("Opportunity", opportunity, "contact_email", EMAIL2)
		return prospect

	@cached_property
	def opportunity(self) -> str:
		return make_opportunity("Lead", self.lead)

	@cached_property
	def lead_quotation(self) -> str:
		return submitted(make_quotation("Lead", self.lead))

	@cached_property
	def quotation(self) -> str:
		return submitted(make_quotation("Customer", self.customer))

	@cached_property
	def sales_order(self) -> str:
		return submit_sales_order(self.customer)

	@cached_property
	def todo(self) -> str:
		return (
			frappe.get_doc(
				{
					"doctype": "ToDo",
					"allocated_to": self.a,
					"description": "回访",
					"reference_type": "Lead",
					"reference_name": self.lead,
				}
			)
			.insert(ignore_permissions=True)
			.name
		)


@pytest.fixture
def world() -> World:
	return World()


# --- the methods, as the desk calls them ----------------------------------------------------------

LEAD = "erpnext.crm.doctype.lead.lead."
PROSPECT = "erpnext.crm.doctype.prospect.prospect."
OPPORTUNITY = "erpnext.crm.doctype.opportunity.opportunity."
CUSTOMER = "erpnext.selling.doctype.customer.customer."
QUOTATION = "erpnext.selling.doctype.quotation.quotation."
MAPPER = "frappe.model.mapper.make_mapped_doc"
SEARCH = "frappe.desk.search.search_link"

NOT_PERMITTED = "You are not permitted to read"
NOT_OWNER = "Only the owner of Lead"


def mapped(method: str, source: str) -> tuple[str, dict]:
	"""The desk's Create › ... buttons (frappe.model.open_mapped_doc)."""
	return MAPPER, {"method": method, "source_name": source}


def search(query: str, doctype: str, filters: dict) -> tuple[str, dict]:
	"""A Link field's drop-down with a custom query."""
	return SEARCH, {"doctype": doctype, "txt": "", "query": query, "filters": json.dumps(filters)}


def value(doctype: str, name: str, field: str) -> Callable:
	return lambda result, w: frappe.db.get_value(doctype, name, field)


def open_activities(w: World) -> tuple[str, dict]:
	assert w.todo  # a's open ToDo on the Lead, shown on its form
	return "erpnext.crm.utils.get_open_activities", {"ref_doctype": "Lead", "ref_docname": w.lead}


@dataclass
class Case:
	id: str
	request: Callable[[frappe._dict], tuple[str, dict]]  # world -> (cmd, form)
	expect: Callable[[object, frappe._dict], bool]  # the owner's answer is ERPNext's
	refused: str = "b"  # who may not read the party
	message: str = NOT_PERMITTED
	owner: str = "a"


CASES = [
	Case(
		"lead.get_lead_details",
		lambda w: (LEAD + "get_lead_details", {"lead": w.lead}),
		lambda r, w: r["contact_mobile"] == MOBILE and r["contact_email"] == EMAIL,
	),
	Case(
		"lead.make_customer (Read collaborator)",
		lambda w: mapped(LEAD + "make_customer", w.lead),
		lambda r, w: r.doctype == "Customer" and r.lead_name == w.lead,
		refused="reader",
		message=NOT_OWNER,
	),
	Case(
		"lead.make_customer",
		lambda w: mapped(LEAD + "make_customer", w.lead),
		lambda r, w: r.lead_name == w.lead,
	),
	Case(
		"lead.make_opportunity",
		lambda w: mapped(LEAD + "make_opportunity", w.lead),
		lambda r, w: r.doctype == "Opportunity" and r.party_name == w.lead and r.contact_mobile == MOBILE,
	),
	Case(
		"lead.make_quotation",
		lambda w: mapped(LEAD + "make_quotation", w.lead),
		lambda r, w: r.doctype == "Quotation" and r.party_name == w.lead,
	),
	Case(
		"lead.add_lead_to_prospect",
		lambda w: (LEAD + "add_lead_to_prospect", {"lead": w.lead, "prospect": w.prospect}),
		lambda r, w: frappe.db.exists("Prospect Lead", {"parent": w.prospect, "lead": w.lead}),
	),
	Case(
		"prospect.make_customer",
		lambda w: mapped(PROSPECT + "make_customer", w.prospect),
		lambda r, w: r.doctype == "Customer" and r.customer_name == w.prospect,
		refused="clerk",
	),
	Case(
		"prospect.make_opportunity",
		lambda w: mapped(PROSPECT + "make_opportunity", w.prospect),
		lambda r, w: r.doctype == "Opportunity" and r.party_name == w.prospect,
		refused="clerk",
	),
	Case(
		"prospect.get_opportunities",
		lambda w: (PROSPECT + "get_opportunities", {"prospect": w.prospect}),
		lambda r, w: [o["contact_email"] for o in r] == [EMAIL2],
		refused="clerk",
	),
	Case(
		"opportunity.make_quotation",
		lambda w: mapped(OPPORTUNITY + "make_quotation", w.opportunity),
		lambda r, w: r.doctype == "Quotation" and r.party_name == w.lead,
	),
	Case(
		"opportunity.make_customer (Read collaborator)",
		lambda w: mapped(OPPORTUNITY + "make_customer", w.opportunity),
		lambda r, w: r.doctype == "Customer" and r.lead_name == w.lead,
		refused="reader",
		message=NOT_OWNER,
	),
	Case(
		"opportunity.make_request_for_quotation",
		lambda w: mapped(OPPORTUNITY + "make_request_for_quotation", w.opportunity),
		lambda r, w: r.doctype == "Request for Quotation",
		owner="Administrator",  # a buying document: no salesperson creates it
	),
	Case(
		"opportunity.make_supplier_quotation",
		lambda w: mapped(OPPORTUNITY + "make_supplier_quotation", w.opportunity),
		lambda r, w: r.doctype == "Supplier Quotation" and r.opportunity == w.opportunity,
		owner="Administrator",
	),
	Case(
		"crm.get_last_interaction (lead)",
		lambda w: ("erpnext.crm.doctype.utils.get_last_interaction", {"lead": w.lead}),
		lambda r, w: set(r) == {"last_communication", "last_issue"},
	),
	Case(
		"crm.get_last_interaction (contact)",
		lambda w: ("erpnext.crm.doctype.utils.get_last_interaction", {"contact": w.contact}),
		lambda r, w: set(r) == {"last_communication", "last_issue"},
	),
	Case(
		"crm.get_open_activities",
		open_activities,
		lambda r, w: w.todo in {t["name"] for t in r["tasks"]},
	),
	Case(
		"customer.make_quotation",
		lambda w: mapped(CUSTOMER + "make_quotation", w.customer),
		lambda r, w: r.doctype == "Quotation" and r.party_name == w.customer,
	),
	Case(
		"customer.make_opportunity",
		lambda w: mapped(CUSTOMER + "make_opportunity", w.customer),
		lambda r, w: r.doctype == "Opportunity" and r.party_name == w.customer,
	),
	Case(
		"customer.get_customer_primary_contact",
		lambda w: (
			CUSTOMER + "get_customer_primary_contact",
			{
				"doctype": "Contact",
				"txt": "",
				"searchfield": "name",
				"start": 0,
				"page_len": 10,
				"filters": {"customer": w.customer},
			},
		),
		lambda r, w: [tuple(row) for row in r] == [(w.contact, EMAIL2)],
	),
	Case(
		"point_of_sale.set_customer_info",
		lambda w: (
			"erpnext.selling.page.point_of_sale.point_of_sale.set_customer_info",
			{
				"fieldname": "email_id",
				"customer": w.customer,
				"value": "new.mail@example.cn",
			},
		),
		lambda r, w: frappe.db.get_value("Customer", w.customer, "email_id") == "new.mail@example.cn",
		message="You are not permitted to change",
	),
	Case(
		"quotation.make_sales_order",
		lambda w: mapped(QUOTATION + "make_sales_order", w.quotation),
		lambda r, w: r.doctype == "Sales Order" and r.customer == w.customer,
	),
	Case(
		"quotation.make_sales_order (to a Lead, Read collaborator)",
		lambda w: mapped(QUOTATION + "make_sales_order", w.lead_quotation),
		lambda r, w: r.customer and frappe.db.get_value("Customer", r.customer, "lead_name") == w.lead,
		refused="reader",
		message=NOT_OWNER,
	),
	Case(
		"quotation.make_sales_invoice",
		lambda w: mapped(QUOTATION + "make_sales_invoice", w.quotation),
		lambda r, w: r.doctype == "Sales Invoice" and r.customer == w.customer,
		owner="Administrator",  # salespeople do not invoice
	),
	Case(
		"sales_order.make_sales_invoice (ignore_permissions from the client)",
		lambda w: (
			"erpnext.selling.doctype.sales_order.sales_order.make_sales_invoice",
			{
				"source_name": w.sales_order,
				"ignore_permissions": 1,
			},
		),
		lambda r, w: r.doctype == "Sales Invoice" and r.customer == w.customer,
		owner="Administrator",  # salespeople do not invoice
	),
	Case(
		"party.get_party_details (ignore_permissions from the client)",
		lambda w: (
			"erpnext.accounts.party.get_party_details",
			{
				"party": w.customer,
				"party_type": "Customer",
				"company": company(),
				"ignore_permissions": 1,
			},
		),
		lambda r, w: r["customer"] == w.customer and r["currency"],
	),
	Case(
		"contact.get_contact_details",
		lambda w: ("frappe.contacts.doctype.contact.contact.get_contact_details", {"contact": w.contact}),
		lambda r, w: r["contact_email"] == EMAIL2,
	),
	Case(
		"address.get_address_display",
		lambda w: (
			"frappe.contacts.doctype.address.address.get_address_display",
			{"address_dict": w.address},
		),
		lambda r, w: STREET in r,
	),
	Case(
		"address.get_default_address",
		lambda w: (
			"frappe.contacts.doctype.address.address.get_default_address",
			{
				"doctype": "Lead",
				"name": w.address and w.lead,
			},
		),
		lambda r, w: r == w.address,
	),
	Case(
		"mapper.map_docs (get_lead_details by name)",
		lambda w: (
			"frappe.model.mapper.map_docs",
			{
				"method": LEAD + "get_lead_details",
				"source_names": json.dumps([w.lead]),
				"target_doc": frappe.utils.nowdate(),
			},
		),
		lambda r, w: r["contact_mobile"] == MOBILE,
	),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_salesperson_who_may_not_read_the_party_is_refused(case, world, desk):
	cmd, form = case.request(world)
	frappe.set_user(world[case.refused])
	result = "nothing"
	with pytest.raises(frappe.PermissionError, match=case.message):
		result = desk(cmd, **form)
	assert result == "nothing" and not leaks(frappe.local.response)
	frappe.set_user(world[case.owner] if case.owner != "Administrator" else "Administrator")
	assert case.expect(desk(cmd, **form), world)


# Search queries: the Link drop-downs of Quotation/Opportunity/Sales Order ask Frappe's search_link
# with ERPNext's (or Frappe's) query by name; that route goes through the same guards.
SEARCHES = [
	(
		"get_customer_primary_contact",
		lambda w: search(CUSTOMER + "get_customer_primary_contact", "Contact", {"customer": w.customer}),
		lambda w: w.contact,
	),
	(
		"contact_query",
		lambda w: search(
			"frappe.contacts.doctype.contact.contact.contact_query",
			"Contact",
			{"link_doctype": "Customer", "link_name": w.customer},
		),
		lambda w: w.contact,
	),
	(
		"address_query",
		lambda w: search(
			"frappe.contacts.doctype.address.address.address_query",
			"Address",
			{"link_doctype": "Lead", "link_name": w.lead},
		),
		lambda w: w.address,
	),
]


@pytest.mark.parametrize("query, request_of, found", SEARCHES, ids=[s[0] for s in SEARCHES])
def test_search_queries_name_nothing_of_a_party_the_user_may_not_read(query, request_of, found, world, desk):
	cmd, form = request_of(world)
	frappe.set_user(world.b)
	try:
		result = desk(cmd, **form)
	except frappe.PermissionError:  # search_widget re-raises in developer mode
		result = []
	assert found(world) not in json.dumps(result) and not leaks(result)
	frappe.set_user(world.a)
	assert found(world) in {row["value"] for row in desk(cmd, **form)}


def test_a_prospect_takes_only_leads_the_user_may_read(world):
	"""The Lead form's Create › Prospect saves a Prospect with the Lead in its table (ERPNext then
	links the Lead's contacts and addresses to the Prospect). Sales Managers create Prospects: the
	pool's manager may add a's Lead, a manager of another team may not."""

	def prospect_with_lead():
		return frappe.get_doc(
			{
				"doctype": "Prospect",
				"company_name": f"意向客户{uuid.uuid4().hex[:6]}有限公司",
				"leads": [{"lead": world.lead}],
			}
		).insert()

	frappe.set_user(world.other_manager)
	with pytest.raises(frappe.PermissionError, match=NOT_PERMITTED):
		prospect_with_lead()
	frappe.set_user(world.manager)
	assert prospect_with_lead().leads[0].lead == world.lead


def received_by(user: str, sender: str) -> str:
	"""An email from `sender` in `user`'s inbox (a Communication of theirs, linked to nothing)."""
	frappe.set_user(user)
	try:
		return (
			frappe.get_doc(
				{
					"doctype": "Communication",
					"communication_type": "Communication",
					"communication_medium": "Email",
					"sent_or_received": "Received",
					"sender": sender,
					"subject": "询价",
					"content": "请报价",
				}
			)
			.insert(ignore_permissions=True)
			.name
		)
	finally:
		frappe.set_user("Administrator")


@pytest.mark.parametrize(
	"cmd, lead_of",
	[
		(LEAD + "make_lead_from_communication", lambda result: result),
		(
			OPPORTUNITY + "make_opportunity_from_communication",
			lambda result: frappe.db.get_value("Opportunity", result, "party_name"),
		),
	],
	ids=["make_lead_from_communication", "make_opportunity_from_communication"],
)
def test_an_email_does_not_give_away_the_lead_of_its_sender(cmd, lead_of, world, desk):
	"""ERPNext finds the Lead by the sender's email and links the email (or a new Opportunity) to it:
	b, who got an email from a's Lead, is refused; a gets the Lead."""
	email_to_b, email_to_a = received_by(world.b, EMAIL), received_by(world.a, EMAIL)
	frappe.set_user(world.b)
	with pytest.raises(frappe.PermissionError, match=NOT_PERMITTED):
		desk(cmd, communication=email_to_b, company=company())
	frappe.set_user(world.a)
	assert lead_of(desk(cmd, communication=email_to_a, company=company())) == world.lead


def test_every_override_points_to_a_whitelisted_guard_with_the_same_signature():
	import inspect

	overrides = frappe.get_hooks("override_whitelisted_methods")
	ours = {m: hooks[-1] for m, hooks in overrides.items() if hooks[-1].startswith("crm_pool.")}
	assert len(ours) >= 30
	for method, guard in ours.items():
		original, replacement = frappe.get_attr(method), frappe.get_attr(guard)
		assert replacement in frappe.whitelisted, guard
		ours_sig, theirs = inspect.signature(replacement), inspect.signature(original)
		assert [(p.name, p.default, p.kind) for p in ours_sig.parameters.values()] == [
			(p.name, p.default, p.kind) for p in theirs.parameters.values()
		], guard


# --- over HTTP, against a real server ---------------------------------------------------------------


@pytest.fixture
def http_world():
	"""a owns a Lead with a mobile; b is in the same pool. Committed for the web server, purged after."""
	users = [new_user("Sales User") for _ in range(2)]
	a, b = users
	pool = make_pool(members=users)
	lead = make_lead(pool, owner=a, mobile_no=MOBILE, email_id=EMAIL).name
	contacts = frappe.get_all(
		"Dynamic Link",
		filters={"parenttype": "Contact", "link_doctype": "Lead", "link_name": lead},
		pluck="parent",
	)
	auth = {}
	from frappe.core.doctype.user.user import generate_keys

	for user in users:
		secret = generate_keys(user)["api_secret"]
		auth[user] = f"token {frappe.db.get_value('User', user, 'api_key')}:{secret}"
	real_commit()
	yield frappe._dict(a=a, b=b, lead=lead, auth=auth)
	frappe.db.rollback()
	from tests.factories import purge

	purge(pool, users)
	for contact in contacts:
		if frappe.db.exists("Contact", contact):
			frappe.delete_doc("Contact", contact, force=True, ignore_permissions=True)
	real_commit()


def post(url: str, auth: str, form: dict) -> tuple[int, str]:
	request = urllib.request.Request(
		url,
		data=urllib.parse.urlencode(form).encode(),
		headers={"Authorization": auth, "Accept": "application/json"},
	)
	try:
		with urllib.request.urlopen(request, timeout=60) as response:
			return response.status, response.read().decode()
	except urllib.error.HTTPError as e:
		return e.code, e.read().decode()


def test_the_guards_answer_on_a_real_server(http_world, web_server):
	w = http_world
	calls = [
		(LEAD + "get_lead_details", {"lead": w.lead}),
		(MAPPER, {"method": LEAD + "make_opportunity", "source_name": w.lead}),
		(
			"frappe.model.mapper.map_docs",
			{
				"method": LEAD + "get_lead_details",
				"source_names": json.dumps([w.lead]),
				"target_doc": frappe.utils.nowdate(),
			},
		),
	]
	for cmd, form in calls:
		status, body = post(f"{web_server}/api/method/{cmd}", w.auth[w.b], form)
		assert status == 403, (cmd, status, body)
		assert NOT_PERMITTED in body and MOBILE not in body and EMAIL not in body, cmd
		status, body = post(f"{web_server}/api/method/{cmd}", w.auth[w.a], form)
		assert status == 200 and MOBILE in body, (cmd, status, body)
