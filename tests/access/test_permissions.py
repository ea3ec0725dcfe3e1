"""Record-level access and masking (SPEC §7): the same answer through the form API, lists, reports,
search and the REST API of a running server."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import frappe
import frappe.client
import pytest
from frappe.desk import reportview
from frappe.desk.search import search_link

from crm_pool.core.status import IN_POOL
from tests.conftest import real_commit
from tests.factories import make_lead, make_pool, new_user, pc_of

OWNED_MOBILE, POOL_MOBILE = "13812345678", "13987654321"
POOL_EMAIL = "buyer.pool@example.cn"


@pytest.fixture
def world(make_user):
	"""Sales users a and b in one pool (manager m is its admin), an outsider; a's customer with a
	mobile, and an in-pool customer with a mobile and an email."""
	a, b, outsider = make_user("Sales User"), make_user("Sales User"), make_user("Sales User")
	m = make_user("Sales User", "Sales Manager")
	pool = make_pool(members=[a, b], admins=[m])
	owned_lead = make_lead(pool, owner=a, mobile_no=OWNED_MOBILE)
	pool_lead = make_lead(pool, mobile_no=POOL_MOBILE, email_id=POOL_EMAIL)
	return frappe._dict(
		a=a,
		b=b,
		m=m,
		outsider=outsider,
		pool=pool,
		owned_lead=owned_lead.name,
		pool_lead=pool_lead.name,
		owned=pc_of(owned_lead.name),
		in_pool=pc_of(pool_lead.name),
	)


def no_full_contact(data) -> bool:
	text = json.dumps(data, default=str)
	return OWNED_MOBILE not in text and POOL_MOBILE not in text and POOL_EMAIL not in text


def test_intake_stores_masked_copies_only(world):
	row = frappe.db.get_value(
		"Pool Customer", world.in_pool, ["status", "mobile_masked", "email_masked"], as_dict=True
	)
	assert row.status == IN_POOL
	assert row.mobile_masked == "139****4321"
	assert row.email_masked and row.email_masked != POOL_EMAIL and row.email_masked.endswith("@example.cn")
	assert no_full_contact(frappe.get_doc("Pool Customer", world.in_pool).as_dict())


def test_sales_user_sees_own_and_in_pool_customers_masked(world):
	frappe.set_user(world.b)
	names = frappe.get_list("Pool Customer", pluck="name", filters={"pool": world.pool})
	assert names == [world.in_pool]
	doc = frappe.client.get("Pool Customer", world.in_pool)
	assert doc["mobile_masked"] == "139****4321" and no_full_contact(doc)
	with pytest.raises(frappe.PermissionError):
		frappe.client.get("Pool Customer", world.owned)
	rows = frappe.client.get_list("Pool Customer", fields=["*"], filters={"pool": world.pool})
	assert [r["name"] for r in rows] == [world.in_pool] and no_full_contact(rows)
	frappe.local.form_dict = frappe._dict(  # the report view's request
		doctype="Pool Customer",
		fields=json.dumps(["name", "customer_name", "status", "mobile_masked", "email_masked", "owned_by"]),
		filters=json.dumps({"pool": world.pool}),
	)
	report = reportview.get()
	assert no_full_contact(report) and world.owned not in json.dumps(report)


def test_the_party_behind_an_in_pool_customer_is_closed_until_claimed(world):
	frappe.set_user(world.b)
	visible_leads = frappe.get_list(
		"Lead", pluck="name", filters={"name": ("in", [world.owned_lead, world.pool_lead])}
	)
	assert visible_leads == []
	with pytest.raises(frappe.PermissionError):
		frappe.client.get("Lead", world.pool_lead)
	found = search_link("Lead", "", page_length=1000)
	assert world.pool_lead not in {r["value"] for r in found}
	frappe.set_user(world.a)  # the owner sees the full contact on the Lead
	lead = frappe.client.get("Lead", world.owned_lead)
	assert lead["mobile_no"] == OWNED_MOBILE


def test_outsiders_see_nothing_and_managers_see_their_team(world):
	frappe.set_user(world.outsider)
	assert frappe.get_list("Pool Customer", pluck="name", filters={"pool": world.pool}) == []
	frappe.set_user(world.m)
	assert set(frappe.get_list("Pool Customer", pluck="name", filters={"pool": world.pool})) == {
		world.owned,
		world.in_pool,
	}
	assert frappe.client.get("Lead", world.owned_lead)["mobile_no"] == OWNED_MOBILE


def test_collaborators_see_the_customer(world):
	pc = frappe.get_doc("Pool Customer", world.owned)
	pc.append("collaborators", {"user": world.outsider, "access": "Read"})
	pc.save(ignore_permissions=True)
	frappe.set_user(world.outsider)
	assert frappe.get_list("Pool Customer", pluck="name", filters={"pool": world.pool}) == [world.owned]
	assert frappe.client.get("Lead", world.owned_lead)["mobile_no"] == OWNED_MOBILE


def test_pool_log_cannot_be_changed_or_deleted_by_anyone(world):
	entry = frappe.get_all("Pool Log", filters={"pool_customer": world.owned}, pluck="name")[0]
	for user in (world.a, world.m, "Administrator"):
		frappe.set_user(user)
		with pytest.raises((frappe.PermissionError, frappe.ValidationError)):
			frappe.client.set_value("Pool Log", entry, "reason", "rewritten")
		with pytest.raises((frappe.PermissionError, frappe.ValidationError)):
			frappe.client.delete("Pool Log", entry)
	frappe.set_user("Administrator")
	assert frappe.db.exists("Pool Log", entry)


@pytest.fixture
def rest_world():
	"""The same world, committed for a real web server; purged afterwards."""
	made = frappe._dict(users=[new_user("Sales User") for _ in range(2)])
	a, b = made.users
	made.pool = make_pool(members=[a, b])
	made.owned_lead = make_lead(made.pool, owner=a, mobile_no=OWNED_MOBILE).name
	made.pool_lead = make_lead(made.pool, mobile_no=POOL_MOBILE, email_id=POOL_EMAIL).name
	made.auth = {}
	for user in (a, b):
		from frappe.core.doctype.user.user import generate_keys

		secret = generate_keys(user)["api_secret"]
		made.auth[user] = f"token {frappe.db.get_value('User', user, 'api_key')}:{secret}"
	real_commit()
	yield made
	frappe.db.rollback()
	from tests.factories import purge

	purge(made.pool, made.users)
	real_commit()


def rest(url: str, auth: str) -> tuple[int, dict]:
	request = urllib.request.Request(url, headers={"Authorization": auth, "Accept": "application/json"})
	try:
		with urllib.request.urlopen(request, timeout=30) as response:
			return response.status, json.loads(response.read())
	except urllib.error.HTTPError as e:
		return e.code, {}


def test_rest_api_masks_and_closes_the_same_way(rest_world, web_server):
	a, b = rest_world.users
	fields = urllib.parse.quote('["*"]')
	status, body = rest(
		f"{web_server}/api/resource/Pool Customer?fields={fields}&limit=1000".replace(" ", "%20"),
		rest_world.auth[b],
	)
	assert status == 200
	names = {row["name"] for row in body["data"]}
	assert pc_of(rest_world.pool_lead) in names
	assert pc_of(rest_world.owned_lead) not in names
	assert no_full_contact(body) and "139****4321" in json.dumps(body)
	status, _ = rest(f"{web_server}/api/resource/Lead/{rest_world.pool_lead}", rest_world.auth[b])
	assert status == 403
	status, body = rest(f"{web_server}/api/resource/Lead/{rest_world.owned_lead}", rest_world.auth[a])
	assert status == 200 and body["data"]["mobile_no"] == OWNED_MOBILE
