"""The leak matrix (issue 8, SPEC §7): for each role that may not read a customer, each path that
returns records, and each doctype holding a copy of the customer's contact data, no full mobile,
phone or email of that customer appears anywhere in the response. The owner, through the same
paths, does see them (the positive control: the test can fail).

Roles (none of them may read salesperson A's customers):
- stranger: a sales user in A's pool who owns nothing of it (sees the in-pool customers masked);
- reader: a sales user with Read access as collaborator on another customer of the pool (B's);
- manager: the Sales Manager of another pool;
- staff: a colleague of another department, a desk user without any sales role (every desk user has
  ERPNext's "Desk User" role, which reads every Lead).

The data is committed (a real `frappe serve` answers the REST cells) and removed afterwards.
"""

from __future__ import annotations

import http.cookiejar
import json
import random
import urllib.error
import urllib.parse
import urllib.request
import uuid

import frappe
import pytest

from crm_pool.transfer import conflicts
from tests.conftest import real_commit
from tests.factories import (
	call_whitelisted,
	make_lead,
	make_opportunity,
	make_pool,
	make_quotation,
	make_reward,
	make_sales_order,
	make_share,
	new_user,
	share_fields,
)

ROLES = ("stranger", "reader", "manager", "staff")
DOCTYPES = (
	"Lead",
	"Customer",
	"Prospect",
	"Contact",
	"Address",
	"Opportunity",
	"Quotation",
	"Sales Order",
	"Pool Customer",
	"Pool Log",
	"Ownership Conflict",
	"Return Visit",
	"Issue",
	"Customer Grade Log",
	"Customer Grade Override",
	"Referral Reward",
	"Customer Share",
)
# Doctypes that hold full values (the owner sees them there); the others hold masked copies only.
FULL_VALUES = (
	"Lead",
	"Customer",
	"Prospect",
	"Contact",
	"Address",
	"Opportunity",
	"Quotation",
	"Sales Order",
	"Return Visit",
	"Issue",
)
PASSWORD = f"Leak-{uuid.uuid4().hex[:12]}!"


def _mobile() -> str:
	return "139" + "".join(random.choice("0123456789") for _ in range(8))


def _phone() -> str:
	return "021-" + "".join(random.choice("123456789") for _ in range(8))


@pytest.fixture(scope="module")
def world(site):
	"""A's Lead (and its Contact), A's Customer (its Contact and an Address), a Prospect, an
	Opportunity and a Quotation of them, an in-pool Lead, B's Lead shared Read with `reader`; an
	Ownership Conflict over A's Lead. Committed; purged afterwards."""
	frappe.set_user("Administrator")
	tag = uuid.uuid4().hex[:8]
	w = frappe._dict(
		secrets={
			"lead mobile": _mobile(),
			"lead phone": _phone(),
			"lead email": f"lead-{tag}@leak.example.cn",
			"customer mobile": _mobile(),
			"customer email": f"customer-{tag}@leak.example.cn",
			"address phone": _phone(),
			"address email": f"address-{tag}@leak.example.cn",
			"pool mobile": _mobile(),
			"pool email": f"pool-{tag}@leak.example.cn",
			"visit feedback": f"回访反馈-{tag}",
			"complaint email": f"complaint-{tag}@leak.example.cn",
		}
	)
	s = w.secrets
	w.users = {r: new_user("Sales User", password=PASSWORD) for r in ("a", "b", "stranger", "reader")}
	w.users["manager"] = new_user("Sales User", "Sales Manager", password=PASSWORD)
	w.users["pool_manager"] = new_user("Pool Manager", password=PASSWORD)
	w.users["staff"] = new_user("Employee", password=PASSWORD)
	assert frappe.db.get_value("User", w.users["staff"], "user_type") == "System User"
	u = w.users
	w.pool = make_pool(members=[u["a"], u["b"], u["stranger"], u["reader"]])
	w.other_pool = make_pool(admins=[u["manager"]])
	lead = make_lead(
		w.pool, owner=u["a"], mobile_no=s["lead mobile"], phone=s["lead phone"], email_id=s["lead email"]
	)
	w.lead = lead.name
	w.pool_lead = make_lead(w.pool, mobile_no=s["pool mobile"], email_id=s["pool email"]).name
	w.b_lead = make_lead(w.pool, owner=u["b"]).name
	b_pc = frappe.get_doc("Pool Customer", {"lead": w.b_lead})
	b_pc.append("collaborators", {"user": u["reader"], "access": "Read"})
	b_pc.save(ignore_permissions=True)

	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": f"泄漏测试客户{tag}有限公司",
			"customer_type": "Company",
			"customer_group": frappe.db.get_value("Customer Group", {"is_group": 0}),
			"territory": frappe.db.get_value("Territory", {"is_group": 0}),
			"account_manager": u["a"],
			"mobile_no": s["customer mobile"],
			"email_id": s["customer email"],
		}
	)
	customer.flags.pool = w.pool
	customer.insert(ignore_permissions=True)
	w.customer = customer.name
	w.address = (
		frappe.get_doc(
			{
				"doctype": "Address",
				"address_title": customer.customer_name,
				"address_type": "Office",
				"address_line1": f"测试路{tag}号",
				"city": "上海",
				"country": frappe.db.get_value("Country", {"name": "China"}) or "China",
				"phone": s["address phone"],
				"email_id": s["address email"],
				"links": [{"link_doctype": "Customer", "link_name": customer.name}],
			}
		)
		.insert(ignore_permissions=True)
		.name
	)
	w.contact = frappe.db.get_value(
		"Dynamic Link", {"parenttype": "Contact", "link_doctype": "Lead", "link_name": w.lead}, "parent"
	)
	w.customer_contact = frappe.db.get_value(
		"Dynamic Link",
		{"parenttype": "Contact", "link_doctype": "Customer", "link_name": w.customer},
		"parent",
	)
	assert w.contact and w.customer_contact, "ERPNext made no Contact for the Lead or the Customer"
	w.prospect = (
		frappe.get_doc(
			{
				"doctype": "Prospect",
				"company_name": f"泄漏测试意向{tag}",
				"prospect_owner": u["a"],
				"leads": [{"lead": w.lead}],
			}
		)
		.insert(ignore_permissions=True)
		.name
	)
	w.opportunity = make_opportunity("Lead", w.lead)
	frappe.db.set_value(
		"Opportunity",
		w.opportunity,
		{"contact_mobile": s["lead mobile"], "contact_email": s["lead email"], "phone": s["lead phone"]},
	)
	w.quotation = make_quotation("Customer", w.customer)
	frappe.db.set_value(
		"Quotation",
		w.quotation,
		{"contact_mobile": s["customer mobile"], "contact_email": s["customer email"]},
	)
	w.sales_order = make_sales_order(w.customer).name
	frappe.db.set_value(
		"Sales Order",
		w.sales_order,
		{"contact_mobile": s["customer mobile"], "contact_email": s["customer email"]},
	)
	w.pool_customer = frappe.db.get_value("Pool Customer", {"lead": w.lead})
	w.pool_log = frappe.get_all("Pool Log", filters={"pool_customer": w.pool_customer}, pluck="name")[0]
	w.conflict = conflicts.record_conflict(
		w.pool_customer, u["stranger"], "Intake Duplicate", source_doctype="Lead", source_name=w.pool_lead
	)
	# grading's service: a done return visit with the customer's feedback, a complaint (Issue) raised
	# from the customer's address
	customer_pc = frappe.db.get_value("Pool Customer", {"customer": w.customer})
	w.visit = (
		frappe.get_doc(
			{
				"doctype": "Return Visit",
				"pool_customer": customer_pc,
				"planned_date": frappe.utils.nowdate(),
				"status": "Done",
				"satisfaction": 4,
				"feedback": s["visit feedback"],
			}
		)
		.insert(ignore_permissions=True)
		.name
	)
	w.issue = (
		frappe.get_doc(
			{
				"doctype": "Issue",
				"subject": f"泄漏测试投诉{tag}",
				"customer": w.customer,
				"raised_by": s["complaint email"],
			}
		)
		.insert(ignore_permissions=True)
		.name
	)
	w.grade_log = (
		frappe.get_doc(
			{
				"doctype": "Customer Grade Log",
				"pool_customer": w.pool_customer,
				"to_grade": "A",
				"why": "Score",
				"run": "leak-matrix",
				"at": frappe.utils.now_datetime(),
			}
		)
		.insert(ignore_permissions=True)
		.name
	)
	w.grade_override = (
		frappe.get_doc(
			{
				"doctype": "Customer Grade Override",
				"pool_customer": frappe.db.get_value("Pool Customer", {"customer": w.customer}),
				"grade": "A",
				"expiry_date": frappe.utils.add_days(frappe.utils.nowdate(), 30),
				"reason": "泄漏测试",
			}
		)
		.insert(ignore_permissions=True)
		.name
	)
	# sharing: A's referral reward, its evidence line naming A's customer and Sales Order
	w.reward = make_reward(
		u["a"],
		1000,
		lines=[
			{
				"kind": "Contract",
				"reference_doctype": "Sales Order",
				"reference_name": w.sales_order,
				"customer": w.customer,
				"amount": 5000,
				"contract_key": f"Contract:Sales Order:{w.sales_order}:{tag}",
			}
		],
	).name
	# sharing: the stranger shares A's customer (same mobile): not rewardable, masked copies only
	w.share = make_share(
		u["stranger"],
		**share_fields(
			frappe.db.get_value("Territory", {"is_group": 0}),
			frappe.db.get_value("Item Group", {"is_group": 1}),
			mobile_no=s["lead mobile"],
		),
	).name
	w.names = {
		"Lead": w.lead,
		"Customer": w.customer,
		"Prospect": w.prospect,
		"Contact": w.contact,
		"Address": w.address,
		"Opportunity": w.opportunity,
		"Quotation": w.quotation,
		"Sales Order": w.sales_order,
		"Pool Customer": w.pool_customer,
		"Pool Log": w.pool_log,
		"Ownership Conflict": w.conflict,
		"Return Visit": w.visit,
		"Issue": w.issue,
		"Customer Grade Log": w.grade_log,
		"Customer Grade Override": w.grade_override,
		"Referral Reward": w.reward,
		"Customer Share": w.share,
	}
	# global search finds contacts by email only when Contact is searchable: make it so
	settings = frappe.get_single("Global Search Settings")
	w.added_contact_to_search = "Contact" not in [d.document_type for d in settings.allowed_in_global_search]
	if w.added_contact_to_search:
		settings.append("allowed_in_global_search", {"document_type": "Contact"})
		settings.save(ignore_permissions=True)
	frappe.cache.hdel("global_search", "search_priorities")
	from frappe.utils.global_search import sync_global_search

	sync_global_search()
	real_commit()
	w.sessions = {}
	yield w

	frappe.db.rollback()
	frappe.set_user("Administrator")
	if w.added_contact_to_search:
		settings = frappe.get_single("Global Search Settings")
		settings.allowed_in_global_search = [
			d for d in settings.allowed_in_global_search if d.document_type != "Contact"
		]
		settings.save(ignore_permissions=True)
		frappe.cache.hdel("global_search", "search_priorities")
	for doctype in ("Sales Order", "Quotation", "Opportunity", "Prospect", "Address"):
		name = w.names[doctype]
		if frappe.db.exists(doctype, name):
			frappe.delete_doc(doctype, name, force=True, ignore_permissions=True)
	frappe.db.delete("Ownership Conflict", {"name": w.conflict})
	frappe.db.delete("Customer Grade Log", {"name": w.grade_log})
	frappe.db.delete("Customer Grade Override", {"name": w.grade_override})
	frappe.db.delete("Referral Reward Line", {"parent": w.reward})
	frappe.db.delete("Referral Reward", {"name": w.reward})
	frappe.db.delete("Customer Share", {"name": w.share})
	frappe.delete_doc("Issue", w.issue, force=True, ignore_permissions=True)
	frappe.db.delete(
		"Return Visit",
		{"pool_customer": ("in", frappe.get_all("Pool Customer", {"pool": w.pool}, pluck="name") or [""])},
	)
	frappe.db.delete("Access Log", {"user": ("in", list(u.values()))})
	pcs = frappe.get_all("Pool Customer", filters={"pool": w.pool}, pluck="name")
	frappe.db.delete("Pool Log", {"pool_customer": ("in", pcs or [""])})
	frappe.db.delete("Pool Customer", {"name": ("in", pcs or [""])})
	for contact in (w.contact, w.customer_contact):
		if frappe.db.exists("Contact", contact):
			frappe.delete_doc("Contact", contact, force=True, ignore_permissions=True)
	frappe.delete_doc("Customer", w.customer, force=True, ignore_permissions=True)
	for lead in (w.lead, w.pool_lead, w.b_lead):
		frappe.delete_doc("Lead", lead, force=True, ignore_permissions=True)
	for pool in (w.pool, w.other_pool):
		frappe.delete_doc("Customer Pool", pool, force=True, ignore_permissions=True)
	for user in u.values():
		frappe.delete_doc("User", user, force=True, ignore_permissions=True)
	real_commit()


# --- the paths: each returns everything the caller got back, as text -------------------------------


def _call(cmd: str, **kwargs) -> str:
	"""A whitelisted method as a request runs it (overrides from hooks apply): its return value, the
	response body and the messages."""
	frappe.local.response = frappe._dict()
	frappe.local.message_log = []
	try:
		result = call_whitelisted(cmd, **kwargs)
	except (frappe.PermissionError, frappe.ValidationError) as e:  # a refusal: the caller sees its message
		result = f"refused: {e}"
	out = {"result": result, "response": dict(frappe.local.response), "messages": frappe.local.message_log}
	return json.dumps(out, default=str, ensure_ascii=False)


def _fields(doctype: str) -> list[str]:
	if doctype == "Contact":  # "*" does not mix with child fields
		return [
			"name",
			"first_name",
			"email_id",
			"mobile_no",
			"phone",
			"phone_nos.phone",
			"email_ids.email_id",
		]
	return ["*"]


def rest_list(w, user, doctype):
	fields = urllib.parse.quote(json.dumps(["*"]))
	return _http(w, user, f"/api/resource/{urllib.parse.quote(doctype)}?fields={fields}&limit_page_length=0")


def rest_get(w, user, doctype):
	return _http(
		w, user, f"/api/resource/{urllib.parse.quote(doctype)}/{urllib.parse.quote(w.names[doctype])}"
	)


def rest_global_search(w, user, doctype):
	return " ".join(
		_http(w, user, f"/api/method/frappe.utils.global_search.search?text={urllib.parse.quote(secret)}")
		for secret in w.secrets.values()
	)


def client_get_list(w, user, doctype):
	return _call("frappe.client.get_list", doctype=doctype, fields=_fields(doctype), limit_page_length=0)


def client_get_value(w, user, doctype):
	return _call(
		"frappe.client.get_value",
		doctype=doctype,
		fieldname=json.dumps(["*"]),
		filters=json.dumps({"name": w.names[doctype]}),
	)


def client_get(w, user, doctype):
	return _call("frappe.client.get", doctype=doctype, name=w.names[doctype])


def child_rows(w, user, doctype):
	"""Child tables read on their own (Contact Phone, Contact Email, Dynamic Link, Prospect Lead)."""
	children = {
		"Contact": ("Contact Phone", "Contact Email", "Dynamic Link"),
		"Address": ("Dynamic Link",),
		"Prospect": ("Prospect Lead",),
		"Referral Reward": ("Referral Reward Line",),
	}.get(doctype, ())
	return " ".join(
		_call("frappe.client.get_list", doctype=child, parent=doctype, fields=["*"], limit_page_length=0)
		for child in children
	)


def report_view(w, user, doctype):
	return _call(
		"frappe.desk.reportview.get",
		doctype=doctype,
		fields=json.dumps(_fields(doctype)),
		page_length=0,
	)


def report_export(w, user, doctype):
	return _call(
		"frappe.desk.reportview.export_query",
		doctype=doctype,
		file_format_type="CSV",
		fields=json.dumps(_fields(doctype)),
		title=doctype,
	)


def search_link(w, user, doctype):
	return " ".join(
		_call("frappe.desk.search.search_link", doctype=doctype, txt=txt, page_length=100)
		for txt in ("", w.names[doctype], *w.secrets.values())
	)


def search_widget(w, user, doctype):
	return " ".join(
		_call("frappe.desk.search.search_widget", doctype=doctype, txt=txt, page_length=100)
		for txt in ("", w.names[doctype], *w.secrets.values())
	)


def global_search(w, user, doctype):
	return " ".join(
		_call("frappe.utils.global_search.search", text=text, doctype=doctype)
		+ _call("frappe.utils.global_search.search", text=text)
		for text in (w.names[doctype], *w.secrets.values())
	)


def print_html(w, user, doctype):
	return _call("frappe.www.printview.get_html_and_style", doc=doctype, name=w.names[doctype])


IN_PROCESS = (
	client_get_list,
	client_get_value,
	client_get,
	child_rows,
	report_view,
	report_export,
	search_link,
	search_widget,
	global_search,
	print_html,
)
OVER_HTTP = (rest_list, rest_get)


# --- a real web server, logged in with a password --------------------------------------------------


def _http(w, user: str, path: str) -> str:
	opener = w.sessions.get(user)
	if opener is None:
		opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
		data = urllib.parse.urlencode({"usr": user, "pwd": PASSWORD}).encode()
		with opener.open(w.url + "/api/method/login", data=data, timeout=30) as response:
			assert response.status == 200
		w.sessions[user] = opener
	request = urllib.request.Request(w.url + path, headers={"Accept": "application/json"})
	try:
		with opener.open(request, timeout=60) as response:
			return f"{response.status} " + response.read().decode()
	except urllib.error.HTTPError as e:
		return f"{e.code} " + e.read().decode(errors="replace")


@pytest.fixture(scope="module")
def served(world, web_server):
	world.url = web_server
	return world


def leaked(w, text: str) -> list[str]:
	return [label for label, secret in w.secrets.items() if secret in text]


# --- the matrix --------------------------------------------------------------------------------------


@pytest.mark.parametrize("doctype", DOCTYPES)
@pytest.mark.parametrize("path", IN_PROCESS, ids=lambda p: p.__name__)
@pytest.mark.parametrize("role", ROLES)
def test_no_full_contact_leaks(world, role, path, doctype):
	user = world.users[role]
	frappe.set_user(user)
	response = path(world, user, doctype)
	assert not leaked(world, response), f"{role} got {leaked(world, response)} through {path.__name__}"


@pytest.mark.parametrize("doctype", DOCTYPES)
@pytest.mark.parametrize("path", OVER_HTTP, ids=lambda p: p.__name__)
@pytest.mark.parametrize("role", ROLES)
def test_no_full_contact_leaks_over_http(served, role, path, doctype):
	response = path(served, served.users[role], doctype)
	assert not leaked(served, response), f"{role} got {leaked(served, response)} through {path.__name__}"


@pytest.mark.parametrize("role", ROLES)
def test_no_full_contact_leaks_through_global_search_over_http(served, role):
	"""Global search spans every doctype: one cell per role."""
	response = rest_global_search(served, served.users[role], DOCTYPES[0])
	assert not leaked(served, response), f"{role} got {leaked(served, response)} through global search"


# the positive control: the owner sees the full values through the same paths (Prospect keeps them in
# its Prospect Lead rows only; Pool Customer, Pool Log and Ownership Conflict hold masked copies only)
OWNER_SEES = [
	(path, doctype)
	for path in (client_get, client_get_list, client_get_value, report_view, print_html)
	for doctype in FULL_VALUES
	if not (doctype == "Prospect" and path in (client_get_list, client_get_value, report_view))
] + [(child_rows, "Contact"), (child_rows, "Prospect"), (search_link, "Customer")]


@pytest.mark.parametrize("path,doctype", OWNER_SEES, ids=[f"{p.__name__}-{d}" for p, d in OWNER_SEES])
def test_the_owner_sees_the_full_values(world, path, doctype):
	frappe.set_user(world.users["a"])
	assert leaked(world, path(world, world.users["a"], doctype)), f"A sees no full value of her {doctype}"


@pytest.mark.parametrize("doctype", ("Lead", "Contact", "Address"))
def test_the_owner_sees_the_full_values_over_http(served, doctype):
	assert leaked(served, rest_get(served, served.users["a"], doctype))


def test_the_owner_finds_her_contact_in_global_search(world):
	frappe.set_user(world.users["a"])
	assert world.contact in global_search(world, world.users["a"], "Contact")


# --- ERPNext's (and Frappe's contact) whitelisted methods that take a party -------------------------
# TODO(issue 8, helper `methods`): ERPNext's methods get `override_whitelisted_methods` guards on branch
# i8-methods. On this branch alone (i8-contacts) the get_lead_details cells fail, for all three roles
# (erpnext.crm.doctype.lead.lead.get_lead_details reads the Lead with no permission check); the
# other methods here already refuse (mappers check the source document, get_party_details the party,
# the Contact/Address readers the record, which now follows its party). Green after the merge.
ERPNEXT_METHODS = {
	"get_lead_details": ("erpnext.crm.doctype.lead.lead.get_lead_details", "Lead", "lead"),
	"lead.make_customer": ("erpnext.crm.doctype.lead.lead.make_customer", "Lead", "source_name"),
	"lead.make_opportunity": ("erpnext.crm.doctype.lead.lead.make_opportunity", "Lead", "source_name"),
	"lead.make_quotation": ("erpnext.crm.doctype.lead.lead.make_quotation", "Lead", "source_name"),
	"opportunity.make_quotation": (
		"erpnext.crm.doctype.opportunity.opportunity.make_quotation",
		"Opportunity",
		"source_name",
	),
	"opportunity.make_customer": (
		"erpnext.crm.doctype.opportunity.opportunity.make_customer",
		"Opportunity",
		"source_name",
	),
	"prospect.make_customer": (
		"erpnext.crm.doctype.prospect.prospect.make_customer",
		"Prospect",
		"source_name",
	),
	"prospect.make_opportunity": (
		"erpnext.crm.doctype.prospect.prospect.make_opportunity",
		"Prospect",
		"source_name",
	),
	"get_party_details": ("erpnext.accounts.party.get_party_details", "Customer", "party"),
	"get_contact_details": (
		"frappe.contacts.doctype.contact.contact.get_contact_details",
		"Contact",
		"contact",
	),
	"get_address_display": (
		"frappe.contacts.doctype.address.address.get_address_display",
		"Address",
		"address_dict",
	),
}


@pytest.mark.parametrize("method", ERPNEXT_METHODS)
@pytest.mark.parametrize("role", ROLES)
def test_erpnext_methods_do_not_leak(world, role, method):
	cmd, doctype, argument = ERPNEXT_METHODS[method]
	frappe.set_user(world.users[role])
	extra = {"party_type": "Customer"} if method == "get_party_details" else {}
	response = _call(cmd, **{argument: world.names[doctype]}, **extra)
	assert not leaked(world, response), f"{role} got {leaked(world, response)} through {cmd}"


# --- reports: ERPNext's Script Reports read the tables themselves (crm_pool.pool.report_guard) -------


def _report_filters(w) -> dict[str, dict]:
	company = frappe.db.get_value("Lead", w.lead, "company") or frappe.db.get_single_value(
		"Global Defaults", "default_company"
	)
	today = frappe.utils.today()
	return {
		"Lead Details": {"company": company, "from_date": frappe.utils.add_days(today, -1), "to_date": today},
		"Prospects Engaged But Not Converted": {"lead_age": 1, "no_of_interaction": 0},
		"Address And Contacts": {"party_type": "Customer"},
		"Addresses And Contacts": {"reference_doctype": "Customer"},
		"My Shares and Rewards": {},  # sharing: the user's own shares (customer names, no contacts)
		"Salesperson Performance": {},  # insight: counts per person, no customer
		"Ownership History": {"pool_customer": w.names["Pool Customer"]},  # insight: the Pool Log rows
		# insight: counts and the due customers' names, never contact data
		"Pool Ageing": {"by_owner": 1},
		"Recycle Forecast": {"detail": 1},
		"Grade Movement": {},
	}


REPORTS = (
	"Lead Details",
	"Prospects Engaged But Not Converted",
	"Address And Contacts",
	"Addresses And Contacts",
	"My Shares and Rewards",
	"Salesperson Performance",
	"Ownership History",
	"Pool Ageing",
	"Recycle Forecast",
	"Grade Movement",
)


def run_report(w, report: str) -> str:
	return _call(
		"frappe.desk.query_report.run",
		report_name=report,
		filters=json.dumps(_report_filters(w)[report]),
		ignore_prepared_report=1,
		are_default_filters=0,
	)


@pytest.mark.parametrize("report", REPORTS)
@pytest.mark.parametrize("role", ROLES)
def test_no_full_contact_leaks_through_reports(world, role, report):
	frappe.set_user(world.users[role])
	response = run_report(world, report)
	assert not leaked(world, response), f"{role} got {leaked(world, response)} through report {report}"


@pytest.mark.parametrize("report", ("Lead Details", "Address And Contacts"))
def test_the_owner_sees_her_customers_in_reports(world, report):
	frappe.set_user(world.users["a"])
	assert leaked(world, run_report(world, report)), f"A sees none of her customers in {report}"


def test_the_share_of_as_customer_is_not_rewardable_and_masked(world):
	"""The share in the matrix is what it should be: A's customer found, its mobile masked (so the
	cells above prove the masked copy never turns into the full one)."""
	from crm_pool.core.normalize import mask_mobile

	row = frappe.db.get_value(
		"Customer Share", world.share, ["status", "mobile_no", "mobile_masked"], as_dict=True
	)
	assert row.status == "Not Rewardable" and not row.mobile_no
	assert row.mobile_masked == mask_mobile(world.secrets["lead mobile"])
