"""Races (issue 8): simultaneous intakes of one customer, stale forms, and the lock order of bulk
actions across pools. Threads have their own database connections and commit (see
test_concurrency.py); what they need is committed first and purged afterwards."""

from __future__ import annotations

import json
import random
import uuid
from datetime import timedelta

import frappe
import pytest
from frappe.utils import now_datetime

from crm_pool.api import pool as pool_api
from crm_pool.core import normalize
from crm_pool.core.errors import DuplicateCustomerError
from crm_pool.core.status import CLAIM, IN_POOL, OWNED
from crm_pool.pool import ownership, recycle
from tests.conftest import at_once, real_commit
from tests.factories import make_lead, make_pool, make_pool_customer, new_user


def purge_pools(pools: list[str], users: list[str]) -> None:
	"""Delete the pools, their pool customers with their parties and logs, and the users."""
	for pool in pools:
		pcs = frappe.get_all("Pool Customer", filters={"pool": pool}, fields=["name", "lead", "customer"])
		names = [p.name for p in pcs] or [""]
		frappe.db.sql("DELETE FROM `tabPool Log` WHERE pool_customer IN %s", (names,))
		frappe.db.sql("DELETE FROM `tabOwnership Conflict` WHERE pool_customer IN %s", (names,))
		for doctype, field in (("Customer", "customer"), ("Lead", "lead")):
			parties = [p[field] for p in pcs if p[field]] or [""]
			frappe.db.sql(
				"DELETE FROM `tabToDo` WHERE reference_type = %s AND reference_name IN %s", (doctype, parties)
			)
		frappe.db.sql("DELETE FROM `tabPool Customer` WHERE name IN %s", (names,))
		frappe.db.sql("DELETE FROM `tabPool Claim Counter` WHERE pool = %s", pool)
		for pc in pcs:
			for doctype, party in (("Customer", pc.customer), ("Lead", pc.lead)):
				if party and frappe.db.exists(doctype, party):
					frappe.delete_doc(doctype, party, force=True, ignore_permissions=True)
		frappe.delete_doc("Customer Pool", pool, force=True, ignore_permissions=True)
	for user in users:
		frappe.delete_doc("User", user, force=True, ignore_permissions=True)


@pytest.fixture
def shared():
	"""Committed pools and users for threads (register them), purged afterwards."""
	made = frappe._dict(pools=[], users=[])
	yield made
	frappe.db.rollback()
	frappe.set_user("Administrator")
	purge_pools(made.pools, made.users)
	real_commit()


# --- simultaneous intake of one customer -----------------------------------------------------------


def random_uscc() -> str:
	first17 = (
		"91"
		+ "".join(random.choices("0123456789", k=6))
		+ "".join(random.choices(normalize.USCC_CHARSET, k=9))
	)
	return first17 + normalize.uscc_check_character(first17)


def random_mobile() -> str:
	return "139" + "".join(random.choices("0123456789", k=8))


def same_customer_three_ways(key: str) -> list[dict]:
	"""Three new Customers that are one customer by `key` and differ in every other key."""
	tags = [uuid.uuid4().hex[:8] for _ in range(3)]
	docs = [{"customer_name": f"竞速测试{tag}有限公司", "email_id": f"race-{tag}@example.cn"} for tag in tags]
	if key == "mobile":
		mobile = random_mobile()
		spellings = [mobile, f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}", f"0086{mobile}"]
		for doc, spelling in zip(docs, spellings, strict=True):
			doc["mobile_no"] = spelling
	elif key == "uscc":
		code = random_uscc()
		for doc, spelling in zip(docs, [code, code.lower(), f" {code} "], strict=True):
			doc["uscc"] = spelling
	elif key == "email":
		email = f"race-{tags[0]}@example.cn"
		for doc, spelling in zip(docs, [email, email.upper(), email.capitalize()], strict=True):
			doc["email_id"] = spelling
	elif key == "company":
		base = f"竞速同名{tags[0]}"
		for doc, spelling in zip(
			docs,
			[f"{base}（中国）有限公司", f"{base}(中国)有限责任公司", f"{base} 中国 股份有限公司"],
			strict=True,
		):
			doc["customer_name"] = spelling
	return docs


@pytest.mark.parametrize("key", ["mobile", "uscc", "email", "company"])
def test_simultaneous_inserts_of_one_customer_give_one_customer_and_refusals(shared, key):
	pool = make_pool()
	shared.pools.append(pool)
	real_commit()

	def insert(fields: dict):
		def run():
			doc = frappe.get_doc({"doctype": "Customer", "customer_type": "Company", **fields})
			doc.flags.pool = pool
			doc.insert(ignore_permissions=True)

		return run

	docs = same_customer_three_ways(key)
	results = at_once([("Administrator", insert(fields)) for fields in docs])

	assert results.count("ok") == 1, results
	refusals = [r for r in results if r != "ok"]
	assert all(r.startswith(DuplicateCustomerError.__name__) and "already exists" in r for r in refusals), (
		results
	)
	frappe.db.rollback()
	assert frappe.db.count("Pool Customer", {"pool": pool}) == 1
	assert frappe.db.count("Customer", {"customer_name": ("in", [d["customer_name"] for d in docs])}) == 1


# --- stale forms -----------------------------------------------------------------------------------


@pytest.fixture
def team(make_user):
	a = make_user("Sales User")
	manager = make_user("Sales User", "Sales Manager", "Pool Manager")
	return frappe._dict(a=a, manager=manager, pool=make_pool(members=[a], no_followup_days=30))


def test_a_managers_form_opened_before_a_release_cannot_give_the_customer_back(team):
	pc = make_pool_customer(team.pool, owner=team.a)
	lead = frappe.db.get_value("Pool Customer", pc, "lead")
	frappe.set_user(team.manager)
	form = frappe.get_doc("Lead", lead)  # opened while a owns it: lead_owner = a
	assert form.lead_owner == team.a

	frappe.set_user(team.a)
	ownership.release(pc, "客户暂无需求")

	frappe.set_user(team.manager)
	form.website = "https://stale.example.cn"  # the manager edits something else and saves
	with pytest.raises(frappe.TimestampMismatchError):
		form.save()
	frappe.set_user("Administrator")
	row = frappe.db.get_value("Pool Customer", pc, ["status", "owned_by"], as_dict=True)
	assert row.status == IN_POOL and row.owned_by is None
	assert frappe.db.get_value("Lead", lead, "lead_owner") is None

	frappe.set_user(team.manager)  # a fresh form saves, and leaves the customer in the pool
	form = frappe.get_doc("Lead", lead)
	form.website = "https://fresh.example.cn"
	form.save()
	assert frappe.db.get_value("Pool Customer", pc, "status") == IN_POOL


def test_a_form_opened_before_recycling_cannot_give_the_customer_back(team):
	pc = make_pool_customer(team.pool, owner=team.a)
	lead = frappe.db.get_value("Pool Customer", pc, "lead")
	long_ago = now_datetime() - timedelta(days=45)
	frappe.db.set_value(
		"Pool Customer", pc, {"claimed_at": long_ago, "last_followup_at": None}, update_modified=False
	)
	from crm_pool.pool import followup

	followup.recompute_due([pc])
	frappe.set_user(team.manager)
	form = frappe.get_doc("Lead", lead)

	frappe.set_user("Administrator")
	assert recycle.recycle_due()["recycled"] >= 1
	assert frappe.db.get_value("Pool Customer", pc, "status") == IN_POOL

	frappe.set_user(team.manager)
	form.website = "https://stale.example.cn"
	with pytest.raises(frappe.TimestampMismatchError):
		form.save()
	assert frappe.db.get_value("Pool Customer", pc, "owned_by") is None


def test_a_customer_form_opened_before_a_transfer_cannot_take_the_customer_back(team, make_user):
	b = make_user("Sales User")
	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": f"陈旧表单测试{uuid.uuid4().hex[:8]}有限公司",
			"customer_type": "Company",
			"account_manager": team.a,
		}
	)
	customer.flags.pool = team.pool
	customer.insert(ignore_permissions=True)
	pc = frappe.db.get_value("Pool Customer", {"customer": customer.name})
	assert frappe.db.get_value("Pool Customer", pc, "owned_by") == team.a
	frappe.set_user(team.manager)
	form = frappe.get_doc("Customer", customer.name)

	ownership.assign(pc, b, "调整负责人")  # the manager moves it to b in another tab

	form.website = "https://stale.example.cn"
	with pytest.raises(frappe.TimestampMismatchError):
		form.save()
	assert frappe.db.get_value("Pool Customer", pc, "owned_by") == b
	assert frappe.db.get_value("Customer", customer.name, "account_manager") == b


# --- the lock order of bulk actions ---------------------------------------------------------------


def test_two_bulk_claims_over_two_pools_in_opposite_orders_do_not_deadlock(shared):
	a, b = new_user("Sales User"), new_user("Sales User")
	shared.users += [a, b]
	first, second = make_pool(members=[a, b]), make_pool(members=[a, b])
	shared.pools += [first, second]
	in_first = [make_pool_customer(first) for _ in range(6)]
	in_second = [make_pool_customer(second) for _ in range(6)]
	real_commit()

	def claim_many(names: list[str]):
		return lambda: pool_api.claim_many(json.dumps(names))

	results = at_once(
		[
			(a, claim_many(in_first[:3] + in_second[:3])),  # first pool, then second
			(b, claim_many(in_second[3:] + in_first[3:])),  # second pool, then first
		]
	)

	assert results == ["ok", "ok"], results
	frappe.db.rollback()
	owners = dict(
		frappe.get_all(
			"Pool Customer",
			filters={"name": ("in", in_first + in_second)},
			fields=["name", "owned_by"],
			as_list=True,
		)
	)
	assert [owners[n] for n in in_first[:3] + in_second[:3]] == [a] * 6
	assert [owners[n] for n in in_second[3:] + in_first[3:]] == [b] * 6
	assert frappe.db.count("Pool Log", {"pool_customer": ("in", in_first + in_second), "action": CLAIM}) == 12


def test_claim_many_claims_in_pool_then_name_order(make_user):
	"""The global order, seen from one call: pools in name order, customers by name within them."""
	user = make_user("Sales User")
	first, second = sorted([make_pool(members=[user]), make_pool(members=[user])])
	names = [make_pool_customer(second), make_pool_customer(first), make_pool_customer(second)]
	frappe.set_user(user)
	result = pool_api.claim_many(json.dumps(names))
	frappe.set_user("Administrator")
	assert result["claimed"] == [names[1], *sorted([names[0], names[2]])]
	assert all(frappe.db.get_value("Pool Customer", n, "status") == OWNED for n in names)


def test_the_intakes_named_locks_end_with_its_transaction():
	"""The intake's named locks end with the transaction (here: its rollback)."""
	pool = make_pool()
	lead = make_lead(pool, mobile_no=random_mobile())
	from crm_pool.pool import dedupe

	assert frappe.local.crm_pool_dedupe_locks
	frappe.db.rollback()
	assert not dedupe._held_dedupe_locks()
	assert not frappe.db.exists("Lead", lead.name)
