"""Claim, release, assign, lock (SPEC §2): the rules, the log, ERPNext's mirrored fields, and the
desk's whitelisted methods."""

from __future__ import annotations

import frappe
import pytest
from frappe.utils import add_days, now_datetime

from crm_pool.api import pool as pool_api
from crm_pool.core import errors
from crm_pool.core.status import ASSIGN, CLAIM, IN_POOL, LOCK, LOCKED, OWNED, RELEASE
from crm_pool.pool import ownership
from tests.factories import make_lead, make_pool, make_pool_customer


def logs(pc: str) -> list[frappe._dict]:
	return frappe.get_all(
		"Pool Log",
		filters={"pool_customer": pc},
		fields=["action", "from_user", "to_user", "by_user", "reason", "rule"],
		order_by="creation asc",
	)


def lead_of(pc: str) -> str:
	return frappe.db.get_value("Pool Customer", pc, "lead")


def open_assignees(pc: str) -> list[str]:
	return frappe.get_all(
		"ToDo",
		filters={"reference_type": "Lead", "reference_name": lead_of(pc), "status": "Open"},
		pluck="allocated_to",
	)


@pytest.fixture
def sales(make_user):
	"""Two sales users and a manager, all members of one direct-claim pool."""
	a, b = make_user("Sales User"), make_user("Sales User")
	manager = make_user("Sales User", "Sales Manager")
	pool = make_pool(members=[a, b], admins=[manager])
	return frappe._dict(a=a, b=b, manager=manager, pool=pool)


def test_claim_makes_the_user_the_one_owner_everywhere(sales):
	pc = make_pool_customer(sales.pool)
	frappe.set_user(sales.a)
	result = pool_api.claim(pc)
	assert result["status"] == OWNED and result["owned_by"] == sales.a
	frappe.set_user("Administrator")
	row = frappe.db.get_value("Pool Customer", pc, ["status", "owned_by", "claimed_at"], as_dict=True)
	assert row.status == OWNED and row.owned_by == sales.a and row.claimed_at
	assert frappe.db.get_value("Lead", lead_of(pc), "lead_owner") == sales.a
	assert open_assignees(pc) == [sales.a]
	assert [(entry.action, entry.to_user, entry.by_user) for entry in logs(pc) if entry.action == CLAIM] == [
		(CLAIM, sales.a, sales.a)
	]


def test_a_claimed_customer_cannot_be_claimed_again_and_the_owner_is_masked(sales):
	pc = make_pool_customer(sales.pool)
	frappe.set_user(sales.a)
	ownership.claim(pc)
	frappe.set_user(sales.b)
	with pytest.raises(errors.PoolRuleError) as refused:
		pool_api.claim(pc)
	message = str(refused.value)
	assert "already been claimed" in message
	full_name = frappe.utils.get_fullname(sales.a)
	assert full_name not in message and full_name[:1] + "*" in message
	assert frappe.db.get_value("Pool Customer", pc, "owned_by") == sales.a


def test_only_members_claim_and_apply_mode_pools_refuse_direct_claims(sales, make_user):
	outsider = make_user("Sales User")
	pc = make_pool_customer(sales.pool)
	frappe.set_user(outsider)
	with pytest.raises(frappe.PermissionError):  # not even readable: not a member of the pool
		pool_api.claim(pc)
	frappe.set_user("Administrator")
	apply_pool = make_pool(members=[sales.a], claim_mode="Apply and Approve")
	pc2 = make_pool_customer(apply_pool)
	frappe.set_user(sales.a)
	with pytest.raises(errors.PoolRuleError, match="allocation request"):
		ownership.claim(pc2)
	assert frappe.db.get_value("Pool Customer", pc2, "status") == IN_POOL


def test_cap_counts_owned_customers_and_optionally_not_converted_ones(sales):
	pool = make_pool(members=[sales.a], max_owned=2)
	pcs = [make_pool_customer(pool) for _ in range(3)]
	frappe.set_user(sales.a)
	ownership.claim(pcs[0])
	ownership.claim(pcs[1])
	with pytest.raises(errors.PoolRuleError, match="the most allowed"):
		ownership.claim(pcs[2])
	frappe.set_user("Administrator")
	frappe.db.set_value("Pool Customer", pcs[0], "status", "Converted")
	frappe.db.set_value("Customer Pool", pool, "converted_not_counted", 1)
	frappe.set_user(sales.a)
	ownership.claim(pcs[2])
	assert frappe.db.get_value("Pool Customer", pcs[2], "owned_by") == sales.a


def test_daily_cap_counts_claims_even_when_released(sales):
	pool = make_pool(members=[sales.a], max_daily_claims=1)
	first, second = make_pool_customer(pool), make_pool_customer(pool)
	frappe.set_user(sales.a)
	ownership.claim(first)
	ownership.release(first, "客户无需求")
	with pytest.raises(errors.PoolRuleError, match="claims today"):
		ownership.claim(second)


def test_previous_owner_cooldown(sales):
	pool = make_pool(members=[sales.a, sales.b], cooldown_days=7)
	pc = make_pool_customer(pool)
	frappe.set_user(sales.a)
	ownership.claim(pc)
	ownership.release(pc, "暂不跟进")
	with pytest.raises(errors.PoolRuleError, match="after 7 days"):
		ownership.claim(pc)
	frappe.set_user(sales.b)
	ownership.claim(pc)  # someone else may
	frappe.set_user("Administrator")
	# a release older than the cooldown no longer counts
	frappe.db.sql(
		"UPDATE `tabPool Log` SET at = %s WHERE pool_customer = %s AND action = %s",
		(add_days(now_datetime(), -8), pc, RELEASE),
	)
	frappe.set_user(sales.b)
	ownership.release(pc, "转给同事")
	frappe.set_user(sales.a)
	ownership.claim(pc)


def test_release_needs_a_reason_and_the_owner_or_a_manager(sales):
	pc = make_pool_customer(sales.pool, owner=sales.a)
	frappe.set_user(sales.a)
	with pytest.raises(errors.PoolRuleError, match="reason"):
		pool_api.release(pc, "  ")
	frappe.set_user(sales.b)
	with pytest.raises(frappe.PermissionError):  # b cannot even read a's customer
		pool_api.release(pc, "不是我的")
	frappe.set_user(sales.a)
	result = pool_api.release(pc, "客户已找到其他供应商")
	assert result["status"] == IN_POOL and result["owned_by"] is None
	frappe.set_user("Administrator")
	row = frappe.db.get_value(
		"Pool Customer", pc, ["owned_by", "previous_owner", "pool_entered_at"], as_dict=True
	)
	assert row.owned_by is None and row.previous_owner == sales.a and row.pool_entered_at
	assert not frappe.db.get_value("Lead", lead_of(pc), "lead_owner")
	assert open_assignees(pc) == []
	entry = logs(pc)[-1]
	assert (entry.action, entry.from_user, entry.reason) == (RELEASE, sales.a, "客户已找到其他供应商")


def test_lock_and_unlock_are_for_managers_and_a_locked_customer_stays(sales):
	pc = make_pool_customer(sales.pool, owner=sales.a)
	frappe.set_user(sales.a)
	with pytest.raises(frappe.PermissionError):
		pool_api.lock(pc, "重点客户")
	frappe.set_user(sales.manager)
	pool_api.lock(pc, "重点客户")
	row = frappe.db.get_value("Pool Customer", pc, ["status", "lock_reason", "recycle_due_at"], as_dict=True)
	assert (row.status, row.lock_reason, row.recycle_due_at) == (LOCKED, "重点客户", None)
	frappe.set_user(sales.a)
	with pytest.raises(errors.PoolRuleError, match="locked"):
		pool_api.release(pc, "想放弃")
	frappe.set_user(sales.manager)
	pool_api.unlock(pc, "合作稳定")
	assert frappe.db.get_value("Pool Customer", pc, "status") == OWNED
	assert [e.action for e in logs(pc)][-2:] == [LOCK, "Unlock"]


def test_manager_assigns_within_the_cap_and_sales_users_cannot(sales):
	pool = make_pool(members=[sales.a, sales.b], admins=[sales.manager], max_owned=1)
	pc, other = make_pool_customer(pool), make_pool_customer(pool)
	frappe.set_user(sales.a)
	with pytest.raises(frappe.PermissionError):
		pool_api.assign(pc, sales.b, "帮同事领")
	frappe.set_user(sales.manager)
	pool_api.assign(pc, sales.b, "华东区域客户")
	with pytest.raises(errors.PoolRuleError, match="the most allowed"):
		pool_api.assign(other, sales.b, "再给一个")
	pool_api.assign(pc, sales.a, "调整负责人")  # reassignment moves the assignment too
	frappe.set_user("Administrator")
	assert open_assignees(pc) == [sales.a]
	entry = logs(pc)[-1]
	assert (entry.action, entry.from_user, entry.to_user, entry.reason) == (
		ASSIGN,
		sales.b,
		sales.a,
		"调整负责人",
	)


def test_editing_lead_owner_goes_through_the_rules(sales):
	frappe.set_user(sales.a)  # a brought the lead in, without an owner: it went to the pool
	lead = make_lead(sales.pool).name
	frappe.set_user("Administrator")
	pc = frappe.db.get_value("Pool Customer", {"lead": lead})
	assert frappe.db.get_value("Pool Customer", pc, "status") == IN_POOL
	# in the pool, its creator is nobody special: no access to the Lead
	assert not frappe.has_permission("Lead", "read", doc=frappe.get_doc("Lead", lead), user=sales.a)
	frappe.set_user(sales.manager)  # taking it for oneself is a claim
	doc = frappe.get_doc("Lead", lead)
	doc.lead_owner = sales.manager
	doc.save()
	assert frappe.db.get_value("Pool Customer", pc, "owned_by") == sales.manager
	assert logs(pc)[-1].action == CLAIM
	ownership.release(pc, "交给销售")  # back to the pool, where a claims it
	frappe.set_user(sales.a)
	pool_api.claim(pc)
	doc = frappe.get_doc("Lead", lead)
	doc.lead_owner = sales.b  # a sales user cannot hand it to someone else
	with pytest.raises(errors.PoolRuleError, match="manager"):
		doc.save()
	doc = frappe.get_doc("Lead", lead)
	doc.lead_owner = None  # nor drop it without the release action's reason
	with pytest.raises(errors.PoolRuleError, match="Release"):
		doc.save()
	frappe.set_user(sales.manager)  # a manager's edit is an assignment
	doc = frappe.get_doc("Lead", lead)
	doc.lead_owner = sales.b
	doc.save()
	assert frappe.db.get_value("Pool Customer", pc, "owned_by") == sales.b
	assert logs(pc)[-1].action == ASSIGN


def test_claim_many_claims_what_the_rules_allow_and_says_why_not(sales):
	pool = make_pool(members=[sales.a, sales.b], max_owned=2)
	pcs = [make_pool_customer(pool) for _ in range(3)]
	taken = make_pool_customer(pool, owner=sales.b)
	frappe.set_user(sales.a)
	result = pool_api.claim_many(frappe.as_json([*pcs, "PC-NOPE-1", taken]))
	assert result["claimed"] == pcs[:2]
	reasons = {row["name"]: row["reason"] for row in result["refused"]}
	assert set(reasons) == {pcs[2], "PC-NOPE-1", taken}
	assert "the most allowed" in reasons[pcs[2]]
	assert "does not exist" in reasons["PC-NOPE-1"]
	frappe.set_user("Administrator")
	assert frappe.db.get_value("Pool Customer", pcs[2], "status") == IN_POOL
	assert frappe.db.count("Pool Log", {"pool_customer": pcs[2], "action": CLAIM}) == 0


def test_bad_input_is_refused_with_a_message(sales):
	frappe.set_user(sales.a)
	with pytest.raises(frappe.DoesNotExistError):
		pool_api.claim("PC-0000-00000")
	with pytest.raises(errors.PoolRuleError):
		pool_api.claim_many("[]")
	with pytest.raises(errors.PoolRuleError):
		pool_api.claim_many(frappe.as_json([f"PC-{i}" for i in range(pool_api.MAX_BATCH + 1)]))
	frappe.set_user(sales.manager)
	pc = make_pool_customer(sales.pool)
	with pytest.raises(errors.PoolRuleError):
		pool_api.assign(pc, "nobody@nowhere.invalid")


def test_pool_status_for_a_lead_form(sales):
	pc = make_pool_customer(sales.pool, owner=sales.a)
	frappe.set_user(sales.a)
	status = pool_api.pool_status(doctype="Lead", name=lead_of(pc))
	assert status["name"] == pc and status["owned_by"] == sales.a and status["can"]["release"]
	assert next(row["action"] for row in status["history"]) == ASSIGN
