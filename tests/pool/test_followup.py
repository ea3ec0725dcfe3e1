"""Follow-up (跟进): ERPNext activity moves "last follow-up at" and the recycle due date through
doc_events; the due date follows the pool's rules, per-grade overrides included (SPEC §2)."""

from datetime import timedelta

import frappe
import pytest
from frappe.utils import get_datetime, now_datetime

from crm_pool.core.status import IN_POOL, LOCKED
from crm_pool.pool import followup
from tests.factories import (
	convert_to_customer,
	make_opportunity,
	make_quotation,
	make_recycle_pool,
	make_recycle_pool_customer,
	pool_customer,
	set_dates,
	submit_sales_invoice,
	submit_sales_order,
)

CLOSE = timedelta(seconds=30)


def close_to(value, expected) -> bool:
	return value is not None and abs(get_datetime(value) - expected) < CLOSE


@pytest.fixture
def owner(make_user) -> str:
	return make_user("Sales User")


@pytest.fixture
def pool() -> str:
	return make_recycle_pool(no_followup_days=30, no_deal_days=90)


@pytest.fixture
def stale(pool, owner):
	"""Owned for 10 days without any follow-up: due 20 days from now."""
	return make_recycle_pool_customer(pool, owner, claimed_days_ago=10)


def assert_followed_up_now(pc_name: str) -> None:
	row = pool_customer(pc_name)
	now = now_datetime()
	assert close_to(row.last_followup_at, now), row.last_followup_at
	assert close_to(row.recycle_due_at, now + timedelta(days=30)), row.recycle_due_at


# --- the due date ----------------------------------------------------------------------------------


def test_due_date_is_claim_plus_the_earliest_rule(pool, stale):
	claimed = get_datetime(stale.claimed_at)
	assert close_to(stale.recycle_due_at, claimed + timedelta(days=30))
	assert stale.last_followup_at is None

	# a no-deal rule shorter than the follow-up rule wins
	frappe.db.set_value("Customer Pool", pool, "no_deal_days", 12)
	followup.recompute_due([stale.name])
	assert close_to(pool_customer(stale.name).recycle_due_at, claimed + timedelta(days=12))


def test_due_date_counts_from_the_later_of_follow_up_and_claim(pool, owner):
	pc = make_recycle_pool_customer(pool, owner, claimed_days_ago=5)
	set_dates(pc.name, last_followup_at=now_datetime() - timedelta(days=20))  # before the claim
	assert close_to(pool_customer(pc.name).recycle_due_at, get_datetime(pc.claimed_at) + timedelta(days=30))
	followed = now_datetime() - timedelta(days=1)
	set_dates(pc.name, last_followup_at=followed)
	assert close_to(pool_customer(pc.name).recycle_due_at, followed + timedelta(days=30))


def test_a_grade_rule_overrides_the_pool_days_and_zero_keeps_them(owner):
	pool = make_recycle_pool(
		no_followup_days=30,
		no_deal_days=0,
		grade_rules=[
			{"grade": "A", "no_followup_days": 60, "no_deal_days": 0},
			{"grade": "B", "no_followup_days": 0, "no_deal_days": 20},
		],
	)
	a = make_recycle_pool_customer(pool, owner, grade="A")
	b = make_recycle_pool_customer(pool, owner, grade="B")
	c = make_recycle_pool_customer(pool, owner, grade="C")
	assert close_to(a.recycle_due_at, get_datetime(a.claimed_at) + timedelta(days=60))
	assert close_to(b.recycle_due_at, get_datetime(b.claimed_at) + timedelta(days=20))
	assert close_to(c.recycle_due_at, get_datetime(c.claimed_at) + timedelta(days=30))


def test_no_due_date_without_a_rule_or_an_owner_or_when_locked(owner):
	never = make_recycle_pool(no_followup_days=0, no_deal_days=0)
	assert make_recycle_pool_customer(never, owner).recycle_due_at is None

	pool = make_recycle_pool(no_followup_days=30)
	assert make_recycle_pool_customer(pool, None, status=IN_POOL).recycle_due_at is None
	locked = make_recycle_pool_customer(pool, owner, status=LOCKED)
	assert locked.recycle_due_at is None


def test_changing_a_pools_rules_recomputes_its_customers(pool, stale):
	doc = frappe.get_doc("Customer Pool", pool)
	doc.no_followup_days = 45
	doc.save(ignore_permissions=True)
	claimed = get_datetime(stale.claimed_at)
	assert close_to(pool_customer(stale.name).recycle_due_at, claimed + timedelta(days=45))

	doc.append("grade_rules", {"grade": "A", "no_followup_days": 7})
	doc.save(ignore_permissions=True)
	assert close_to(pool_customer(stale.name).recycle_due_at, claimed + timedelta(days=45))
	frappe.db.set_value("Pool Customer", stale.name, "grade", "A")
	doc.reload()
	doc.grade_rules[0].no_followup_days = 8
	doc.save(ignore_permissions=True)
	assert close_to(pool_customer(stale.name).recycle_due_at, claimed + timedelta(days=8))


def test_a_new_due_date_clears_the_reminder_stamp(stale):
	frappe.db.set_value("Pool Customer", stale.name, "reminder_sent_at", now_datetime())
	followup.recompute_due([stale.name])  # same due date: the reminder stays sent
	assert pool_customer(stale.name).reminder_sent_at is not None
	frappe.get_doc("Lead", stale.lead).add_comment("Comment", "打电话沟通了需求")  # moves the due date
	assert pool_customer(stale.name).reminder_sent_at is None


# --- each source of follow-up ------------------------------------------------------------------------


def test_a_comment_on_the_lead_is_a_follow_up(stale):
	lead = frappe.get_doc("Lead", stale.lead)
	lead.add_comment("Like")  # not a follow-up
	assert pool_customer(stale.name).last_followup_at is None
	lead.add_comment("Comment", "客户对检测服务感兴趣")
	assert_followed_up_now(stale.name)


def test_an_info_comment_on_the_customer_is_a_follow_up(stale):
	customer = convert_to_customer(stale)
	frappe.get_doc("Customer", customer).add_comment("Info", "上门拜访")
	assert_followed_up_now(stale.name)


def test_a_communication_about_the_lead_is_a_follow_up(stale):
	frappe.get_doc(
		{
			"doctype": "Communication",
			"communication_type": "Communication",
			"communication_medium": "Phone",
			"sent_or_received": "Sent",
			"subject": "电话回访",
			"content": "确认了危废处置需求",
			"reference_doctype": "Lead",
			"reference_name": stale.lead,
		}
	).insert(ignore_permissions=True)
	assert_followed_up_now(stale.name)


def test_a_communication_linked_in_the_timeline_is_a_follow_up(stale):
	customer = convert_to_customer(stale)
	comm = frappe.get_doc(
		{
			"doctype": "Communication",
			"communication_type": "Communication",
			"communication_medium": "Email",
			"sent_or_received": "Received",
			"subject": "询价",
			"content": "请报价",
		}
	)
	comm.append("timeline_links", {"link_doctype": "Customer", "link_name": customer})
	comm.insert(ignore_permissions=True)
	assert_followed_up_now(stale.name)


def test_a_communication_on_the_opportunity_counts_for_its_party(stale):
	opportunity = make_opportunity("Lead", stale.lead)
	set_dates(stale.name, last_followup_at=now_datetime() - timedelta(days=3))
	frappe.get_doc(
		{
			"doctype": "Communication",
			"communication_type": "Communication",
			"communication_medium": "Email",
			"sent_or_received": "Sent",
			"subject": "方案",
			"content": "发送了方案",
			"reference_doctype": "Opportunity",
			"reference_name": opportunity,
		}
	).insert(ignore_permissions=True)
	assert_followed_up_now(stale.name)


def test_an_event_with_the_lead_as_participant_is_a_follow_up(stale):
	event = frappe.get_doc(
		{
			"doctype": "Event",
			"subject": "上门拜访",
			"event_type": "Private",
			"starts_on": now_datetime() - timedelta(hours=2),
		}
	)
	event.append("event_participants", {"reference_doctype": "Lead", "reference_docname": stale.lead})
	event.insert(ignore_permissions=True)
	row = pool_customer(stale.name)
	assert close_to(row.last_followup_at, now_datetime() - timedelta(hours=2))


def test_closing_a_todo_about_the_lead_is_a_follow_up(stale, owner):
	todo = frappe.get_doc(
		{
			"doctype": "ToDo",
			"description": "回访客户",
			"allocated_to": owner,
			"reference_type": "Lead",
			"reference_name": stale.lead,
		}
	).insert(ignore_permissions=True)
	assert pool_customer(stale.name).last_followup_at is None  # an open ToDo is not a follow-up
	todo.status = "Closed"
	todo.save(ignore_permissions=True)
	assert_followed_up_now(stale.name)


def test_a_crm_note_added_to_the_lead_is_a_follow_up(stale):
	lead = frappe.get_doc("Lead", stale.lead)
	lead.save(ignore_permissions=True)  # a save without a new note is not a follow-up
	assert pool_customer(stale.name).last_followup_at is None
	lead.add_note("客户要求下周提供检测报价")
	assert_followed_up_now(stale.name)


def test_an_opportunity_for_the_lead_is_a_follow_up(stale):
	make_opportunity("Lead", stale.lead)
	assert_followed_up_now(stale.name)


def test_a_quotation_to_the_customer_is_a_follow_up(stale):
	customer = convert_to_customer(stale)
	make_quotation("Customer", customer)
	assert_followed_up_now(stale.name)


def test_a_submitted_sales_invoice_is_a_deal(stale):
	customer = convert_to_customer(stale)
	submit_sales_invoice(customer)
	row = pool_customer(stale.name)
	now = now_datetime()
	assert close_to(row.last_deal_at, now)
	assert close_to(row.last_followup_at, now)
	assert close_to(row.recycle_due_at, now + timedelta(days=30))


def test_a_submitted_sales_order_is_a_deal(pool, stale):
	frappe.db.set_value("Customer Pool", pool, {"no_followup_days": 0, "no_deal_days": 60})
	followup.recompute_due([stale.name])
	assert close_to(
		pool_customer(stale.name).recycle_due_at, get_datetime(stale.claimed_at) + timedelta(days=60)
	)
	customer = convert_to_customer(stale)
	submit_sales_order(customer)
	row = pool_customer(stale.name)
	assert close_to(row.last_deal_at, now_datetime())
	assert close_to(row.recycle_due_at, now_datetime() + timedelta(days=60))


def test_a_follow_up_never_moves_the_date_back(stale):
	later = now_datetime() - timedelta(minutes=1)
	set_dates(stale.name, last_followup_at=later)
	followup.record_followup([("Lead", stale.lead)], now_datetime() - timedelta(days=3))
	assert close_to(pool_customer(stale.name).last_followup_at, later)


def test_activity_on_other_records_touches_no_pool_customer(stale):
	assert followup.record_followup([("Lead", "CRM-LEAD-NOPE-0001"), ("Item", "x"), (None, None)]) == []
	assert pool_customer(stale.name).last_followup_at is None


def test_a_claims_due_date_in_python_is_the_sql_rules(owner):
	"""`claimed_due_at` (a claim computes its due date from the rule days its pool's settings read)
	gives what `owned_due_sql` gives, over grade rules, the Grade Service Policy's days, the pool's,
	zeros that keep the next, and last follow-ups and deals before and after the claim."""
	from crm_pool.core.settings import pool_settings
	from crm_pool.grading import service

	policy = frappe.get_single(service.POLICY)
	for row in policy.policies:
		row.no_followup_days, row.no_deal_days = {"B": (7, 0), "C": (0, 45)}.get(row.grade, (0, 0))
	policy.save()
	pools = [
		make_recycle_pool(
			no_followup_days=30,
			no_deal_days=0,
			grade_rules=[
				{"grade": "A", "no_followup_days": 60, "no_deal_days": 0},
				{"grade": "B", "no_followup_days": 0, "no_deal_days": 20},
			],
		),
		make_recycle_pool(
			no_followup_days=0, no_deal_days=0, grade_rules=[{"grade": "C", "no_deal_days": 15}]
		),
		make_recycle_pool(no_followup_days=10, no_deal_days=90),
	]
	now = now_datetime()
	claimed_at = now - timedelta(days=2)
	seen = 0
	for pool in pools:
		settings = pool_settings(pool, columns=followup.CLAIM_RULE_DAYS_SQL)
		for grade in ("A", "B", "C", None):
			for followed, dealt in (
				(None, None),
				(now - timedelta(days=5), now - timedelta(days=40)),
				(now + timedelta(days=3), None),  # after the claim (a follow-up logged late)
				(None, now + timedelta(days=1)),
			):
				pc = make_recycle_pool_customer(pool, owner, grade=grade)
				frappe.db.set_value(
					"Pool Customer",
					pc.name,
					{"last_followup_at": followed, "last_deal_at": dealt},
					update_modified=False,
				)
				in_sql = frappe.db.sql(
					f"""SELECT CAST({followup.owned_due_sql("%(at)s")} AS DATETIME(6))
					FROM `tabPool Customer` pc {followup.RULE_JOINS_SQL} WHERE pc.name = %(pc)s""",
					{"at": claimed_at, "pc": pc.name},
				)[0][0]
				in_python = followup.claimed_due_at(settings, grade, claimed_at, followed, dealt)
				assert in_python == (get_datetime(in_sql) if in_sql else None), (pool, grade, followed, dealt)
				seen += in_sql is not None
	assert seen > 20  # most cases have a due date; some (no rule at all) have none
