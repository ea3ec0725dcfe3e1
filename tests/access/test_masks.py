"""Masks cannot be reversed, and hold everywhere a name or contact shows (issue 8).

- Dedupe keys are keyed hashes (HMAC-SHA256 under a per-site secret): a salesperson cannot confirm
  a guessed number by hashing it; adoption, bulk data and the re-keying patch make the same keys.
- Nobody without access to the hidden (permlevel) fields filters, sorts or groups on them, through
  frappe.get_list, report view or REST.
- A duplicate refusal names the customer and its masked owner, not which contact matched.
- The claimant's Ownership Conflict, previous_owner and the form's history show names masked.
- The pool's mask_mobile / mask_email / mask_address settings decide what the Pool Customer copies.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request

import frappe
import frappe.client
import pytest
from frappe.desk import reportview

from crm_pool import bulk_demo
from crm_pool.api import pool as pool_api
from crm_pool.core import normalize
from crm_pool.core.errors import DuplicateCustomerError, HiddenFieldQueryError
from crm_pool.patches import rekey_dedupe_keys
from crm_pool.pool import adopt, dedupe, ownership, profile
from crm_pool.transfer import conflicts
from tests.conftest import real_commit
from tests.factories import as_user, make_lead, make_pool, new_user, pc_of, purge

MOBILE, EMAIL = "13812340001", "owner.masks@example.cn"


def sha(value: str) -> str:
	return hashlib.sha256(value.encode("utf-8")).hexdigest()


def whitelisted(method: str):
	"""The function a REST call of `method` runs (after override_whitelisted_methods)."""
	overrides = frappe.get_hooks("override_whitelisted_methods", {}).get(method, [])
	return frappe.get_attr(overrides[-1] if overrides else method)


def full_name(user: str) -> str:
	return frappe.db.get_value("User", user, "full_name")


@pytest.fixture
def world(make_user):
	"""a owns a customer with MOBILE/EMAIL; b is another salesperson of the pool; m its admin
	(Sales Manager); p a Pool Manager."""
	a, b = make_user("Sales User"), make_user("Sales User")
	m, p = make_user("Sales User", "Sales Manager"), make_user("Pool Manager")
	pool = make_pool(members=[a, b], admins=[m])
	lead = make_lead(pool, owner=a, mobile_no=MOBILE, email_id=EMAIL, company_name="杭州掩码化工有限公司")
	return frappe._dict(a=a, b=b, m=m, p=p, pool=pool, lead=lead.name, pc=pc_of(lead.name))


# --- keyed hashes ----------------------------------------------------------------------------------


def test_dedupe_keys_are_keyed_by_the_site_secret(world, monkeypatch):
	key = normalize.dedupe_key(MOBILE)
	assert key and len(key) == 64
	assert key != sha(MOBILE), "a plain SHA-256 of the number must not be the key"
	assert normalize.dedupe_key(MOBILE) == key  # stable for one site
	stored = frappe.db.get_value(
		"Pool Customer", world.pc, ["mobile_key", "email_key", "name_key"], as_dict=True
	)
	assert stored.mobile_key == key and stored.mobile_key != sha(MOBILE)
	assert stored.email_key == normalize.dedupe_key(EMAIL) and stored.email_key != sha(EMAIL)
	assert stored.name_key == normalize.dedupe_key("杭州掩码化工有限公司")
	assert "杭州" not in stored.name_key and stored.name_key != sha("杭州掩码化工有限公司")

	# another site (another encryption_key) gets other keys for the same number
	monkeypatch.setitem(frappe.local.conf, "encryption_key", frappe.generate_hash(length=44))
	assert normalize.dedupe_key(MOBILE) != key
	monkeypatch.undo()
	assert normalize.dedupe_key(MOBILE) == key


def test_set_based_writers_make_the_same_keys_as_intake(world):
	# SQL form of the keyed hash (bulk data, patches)
	for value in (MOBILE, EMAIL, "华为技术中国有限公司"):
		sql, values = normalize.dedupe_key_sql("SHA2(%(v)s, 256)")
		assert frappe.db.sql(f"SELECT {sql}", {**values, "v": value})[0][0] == normalize.dedupe_key(value)

	# bulk demo rows (INSERT ... SELECT) carry the keys intake computes for their Leads
	bulk_demo._insert_rows(1, 3)
	for n in (1, 2, 3):
		lead = frappe.get_doc("Lead", f"{bulk_demo.LEAD_PREFIX}{n:07d}")
		expected = dedupe.dedupe_keys(profile.party_profile(lead))
		row = frappe.db.get_value(
			"Pool Customer", f"{bulk_demo.PC_PREFIX}{n:07d}", list(profile.DEDUPE_FIELDS), as_dict=True
		)
		assert dict(row) == expected and expected["mobile_key"] and expected["name_key"]

	# adoption: a Lead that predates the app gets the intake keys
	frappe.db.sql("DELETE FROM `tabPool Customer` WHERE name = %s", world.pc)
	frappe.db.set_value("Lead", world.lead, "pool_customer", None)
	adopt.adopt("Lead", commit=False)
	adopted = frappe.db.get_value(
		"Pool Customer", {"lead": world.lead}, ["mobile_key", "email_key"], as_dict=True
	)
	assert adopted.mobile_key == normalize.dedupe_key(MOBILE) and adopted.email_key == normalize.dedupe_key(
		EMAIL
	)


def test_the_patch_rekeys_old_plain_keys_in_place(world):
	# as an earlier version stored them: plain SHA-256 and the normalized name itself
	frappe.db.set_value(
		"Pool Customer",
		world.pc,
		{"mobile_key": sha(MOBILE), "email_key": sha(EMAIL), "name_key": "杭州掩码化工有限公司"},
		update_modified=False,
	)
	rekey_dedupe_keys.execute()
	row = frappe.db.get_value("Pool Customer", world.pc, list(profile.DEDUPE_FIELDS), as_dict=True)
	lead = frappe.get_doc("Lead", world.lead)
	assert dict(row) == dedupe.dedupe_keys(profile.party_profile(lead))
	# and dedupe still finds the customer by its mobile
	with pytest.raises(DuplicateCustomerError):
		make_lead(world.pool, mobile_no="+86 138-1234-0001")


# --- filters and sort on hidden fields --------------------------------------------------------------


def test_a_sales_user_cannot_filter_or_sort_on_hidden_fields(world):
	key = normalize.dedupe_key(MOBILE)
	frappe.set_user(world.a)  # the owner reads the row, but not its keys
	assert frappe.get_list("Pool Customer", filters={"name": world.pc}, pluck="name") == [world.pc]
	probes = [
		lambda: frappe.get_list("Pool Customer", filters=[["mobile_key", "=", key]]),
		lambda: frappe.get_list("Pool Customer", filters={"email_key": normalize.dedupe_key(EMAIL)}),
		lambda: frappe.get_list("Pool Customer", or_filters=[["name_key", "like", "%"]]),
		lambda: frappe.get_list("Pool Customer", filters=[["Pool Customer", "mobile_key", "is", "set"]]),
		lambda: frappe.get_list("Pool Customer", order_by="mobile_key asc"),
		lambda: frappe.get_list("Pool Customer", fields=["count(name) as n"], group_by="email_key"),
		lambda: frappe.get_list("Pool Customer", filters=[["previous_owner", "=", world.b]]),
		lambda: whitelisted("frappe.client.get_count")("Pool Customer", filters=[["mobile_key", "=", key]]),
		lambda: frappe.client.get_value("Pool Customer", "name", filters={"mobile_key": key}),
	]
	for probe in probes:
		with pytest.raises(HiddenFieldQueryError):
			probe()
	frappe.local.form_dict = frappe._dict(
		doctype="Pool Customer", fields=json.dumps(["name"]), filters=json.dumps([["mobile_key", "=", key]])
	)
	with pytest.raises(frappe.PermissionError):
		reportview.get()
	frappe.local.form_dict = frappe._dict(
		doctype="Pool Customer", fields=json.dumps(["name"]), order_by="name_key desc"
	)
	with pytest.raises(frappe.PermissionError):
		reportview.get()

	# a manager may read the keys, so may filter on them
	frappe.set_user(world.p)
	assert frappe.get_list("Pool Customer", filters=[["mobile_key", "=", key]], pluck="name") == [world.pc]


@pytest.fixture
def rest_world():
	"""A sales user owning a customer and a Pool Manager, committed for a real web server."""
	made = frappe._dict(sales=new_user("Sales User"), manager=new_user("Pool Manager"))
	made.pool = make_pool(members=[made.sales])
	made.lead = make_lead(made.pool, owner=made.sales, mobile_no=MOBILE).name
	made.pc = pc_of(made.lead)
	made.auth = {}
	for user in (made.sales, made.manager):
		from frappe.core.doctype.user.user import generate_keys

		secret = generate_keys(user)["api_secret"]
		made.auth[user] = f"token {frappe.db.get_value('User', user, 'api_key')}:{secret}"
	real_commit()
	yield made
	frappe.db.rollback()
	purge(made.pool, [made.sales, made.manager])
	real_commit()


def get(url: str, auth: str) -> tuple[int, dict]:
	request = urllib.request.Request(url, headers={"Authorization": auth, "Accept": "application/json"})
	try:
		with urllib.request.urlopen(request, timeout=30) as response:
			return response.status, json.loads(response.read())
	except urllib.error.HTTPError as e:
		return e.code, json.loads(e.read() or b"{}")


def test_rest_refuses_filters_and_sort_on_hidden_fields(rest_world, web_server):
	key = normalize.dedupe_key(MOBILE)
	base = f"{web_server}/api/resource/Pool%20Customer?"
	by_key = urllib.parse.urlencode({"filters": json.dumps([["mobile_key", "=", key]])})
	sales, manager = rest_world.auth[rest_world.sales], rest_world.auth[rest_world.manager]

	status, body = get(
		base + urllib.parse.urlencode({"filters": json.dumps([["name", "=", rest_world.pc]])}), sales
	)
	assert status == 200 and [r["name"] for r in body["data"]] == [rest_world.pc]
	status, body = get(base + by_key, sales)
	assert status == 403, body
	assert rest_world.pc not in json.dumps(body.get("data") or "")
	status, body = get(base + urllib.parse.urlencode({"order_by": "mobile_key desc"}), sales)
	assert status == 403, body
	status, body = get(
		f"{web_server}/api/method/frappe.client.get_list?"
		+ urllib.parse.urlencode({"doctype": "Pool Customer", "filters": json.dumps({"mobile_key": key})}),
		sales,
	)
	assert status == 403, body

	status, body = get(
		f"{web_server}/api/method/frappe.client.get_count?"
		+ urllib.parse.urlencode({"doctype": "Pool Customer", "filters": json.dumps({"mobile_key": key})}),
		sales,
	)
	assert status == 403, body

	status, body = get(base + by_key, manager)
	assert status == 200 and [r["name"] for r in body["data"]] == [rest_world.pc]


# --- the duplicate refusal ------------------------------------------------------------------------


def test_a_duplicate_refusal_names_the_customer_and_masked_owner_not_the_contact_matched(world):
	frappe.set_user(world.b)
	with pytest.raises(DuplicateCustomerError) as refused:
		make_lead(world.pool, owner=world.b, mobile_no=MOBILE, company_name="随便写的公司")
	message = str(refused.value)
	masked_owner = normalize.mask_person_name(full_name(world.a))
	assert world.pc in message and "杭州掩码化工有限公司" in message and masked_owner in message
	assert full_name(world.a) not in message and world.a not in message
	assert "mobile" not in message.lower() and MOBILE not in message and "138****" not in message
	assert "contact details" in message
	with pytest.raises(DuplicateCustomerError) as refused:
		make_lead(world.pool, owner=world.b, email_id=EMAIL.upper(), company_name="另一家公司")
	assert "email" not in str(refused.value).lower() and "contact details" in str(refused.value)
	# the company name is what the user typed: that match is named
	with pytest.raises(DuplicateCustomerError) as refused:
		make_lead(world.pool, owner=world.b, company_name="杭州掩码化工有限责任公司")
	assert "company name" in str(refused.value)

	# the owner (who may see the customer) is told which key matched
	frappe.set_user(world.a)
	with pytest.raises(DuplicateCustomerError) as refused:
		make_lead(world.pool, owner=world.a, mobile_no=MOBILE, company_name="随便写的公司二")
	assert "mobile number" in str(refused.value) and full_name(world.a) in str(refused.value)


# --- names masked: conflicts, previous owner, history ------------------------------------------------


def test_the_claimant_reads_their_conflict_with_the_owner_masked(world):
	name = as_user(world.b, conflicts.record_conflict, world.pc, world.b, conflicts.FOLLOWUP, details="x")
	owner_name = full_name(world.a)
	frappe.set_user(world.b)
	doc = frappe.client.get("Ownership Conflict", name)
	assert doc["current_owner_masked"] == normalize.mask_person_name(owner_name)
	for hidden in ("current_owner", "current_owner_name", "details"):
		assert not doc.get(hidden), hidden
	listed = frappe.get_list("Ownership Conflict", fields=["*"], filters={"name": name})
	assert listed and world.a not in json.dumps(listed, default=str)
	assert owner_name not in json.dumps(listed, default=str, ensure_ascii=False)
	with pytest.raises(HiddenFieldQueryError):
		frappe.get_list("Ownership Conflict", filters={"current_owner": world.a})

	frappe.set_user(world.m)  # the manager sees who owns it
	doc = frappe.client.get("Ownership Conflict", name)
	assert doc["current_owner"] == world.a and doc["current_owner_name"] == owner_name


def test_previous_owner_and_history_are_masked_for_who_may_not_see_the_customer(world):
	as_user(world.a, ownership.release, world.pc, "不再跟进")
	owner_name = full_name(world.a)
	masked = normalize.mask_person_name(owner_name)

	frappe.set_user(world.b)  # a pool member looking at the in-pool customer
	doc = frappe.client.get("Pool Customer", world.pc)
	assert not doc.get("previous_owner")
	assert doc["previous_owner_name"] == masked
	status = pool_api.pool_status(world.pc)
	text = json.dumps(status["history"], default=str, ensure_ascii=False)
	assert world.a not in text and owner_name not in text and masked in text
	listed = frappe.get_list("Pool Customer", fields=["*"], filters={"name": world.pc})
	assert listed and "previous_owner" not in listed[0]
	assert frappe.get_list("Pool Customer", fields=["previous_owner"], filters={"name": world.pc}) == []

	frappe.set_user(world.m)  # a manager sees it in full
	doc = frappe.client.get("Pool Customer", world.pc)
	assert doc["previous_owner"] == world.a and doc["previous_owner_name"] == owner_name
	status = pool_api.pool_status(world.pc)
	assert owner_name in json.dumps(status["history"], default=str, ensure_ascii=False)

	# once b owns it, b sees the previous owner in full
	as_user(world.b, ownership.claim, world.pc)
	frappe.set_user(world.b)
	assert frappe.client.get("Pool Customer", world.pc)["previous_owner_name"] == owner_name


# --- the pool's mask settings ---------------------------------------------------------------------


def test_a_pool_that_does_not_mask_copies_contacts_in_full(make_user):
	pool = make_pool(mask_mobile=0, mask_email=0, mask_address=0)
	lead = make_lead(
		pool, mobile_no="139 1234 0002", email_id="full.copy@example.cn", state="浙江", city="杭州"
	)
	row = frappe.db.get_value(
		"Pool Customer", pc_of(lead.name), ["mobile_masked", "email_masked", "address_masked"], as_dict=True
	)
	assert row.mobile_masked == "139 1234 0002" and row.email_masked == "full.copy@example.cn"
	assert row.address_masked == "浙江杭州"

	# one mask on, the others off
	pool2 = make_pool(mask_mobile=1, mask_email=0)
	lead2 = make_lead(pool2, mobile_no="13912340003", email_id="half@example.cn")
	row = frappe.db.get_value(
		"Pool Customer", pc_of(lead2.name), ["mobile_masked", "email_masked"], as_dict=True
	)
	assert row.mobile_masked == "139****0003" and row.email_masked == "half@example.cn"

	# a later edit of the Lead follows the pool's settings too
	lead2.reload()
	lead2.email_id = "changed@example.cn"
	lead2.save(ignore_permissions=True)
	assert frappe.db.get_value("Pool Customer", pc_of(lead2.name), "email_masked") == "changed@example.cn"


def test_changing_a_pools_masks_applies_to_its_customers(make_user):
	pool = make_pool()
	lead = make_lead(pool, mobile_no="13912340004", email_id="toggle@example.cn")
	pc = pc_of(lead.name)
	assert frappe.db.get_value("Pool Customer", pc, "mobile_masked") == "139****0004"
	doc = frappe.get_doc("Customer Pool", pool)
	doc.mask_mobile = 0
	doc.save(ignore_permissions=True)
	row = frappe.db.get_value("Pool Customer", pc, ["mobile_masked", "email_masked"], as_dict=True)
	assert row.mobile_masked == "13912340004" and row.email_masked != "toggle@example.cn"
	doc.reload()
	doc.mask_mobile = 1
	doc.save(ignore_permissions=True)
	assert frappe.db.get_value("Pool Customer", pc, "mobile_masked") == "139****0004"
