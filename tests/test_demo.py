"""The demo tells the story (issue 12): after make_demo every login has something to do — pools with a
sales director's rules, reviews, customers to claim, claims and follow-ups, customers due for
recycling, requests, a transfer and a conflict waiting, grades and return visits, rewards to approve
— made through the app's own paths; a second run changes nothing; the manager's workspace numbers
are all non-zero."""

from __future__ import annotations

import frappe
import pytest
from frappe.utils import add_days, get_first_day, getdate, now_datetime, nowdate

from crm_pool import demo, demo_story
from crm_pool.core.status import (
	CLAIM,
	CONVERT,
	CONVERTED,
	HAS_OWNER,
	IN_POOL,
	OWNED,
	PENDING_REVIEW,
	RECYCLE,
	RELEASE,
)

MANAGER = f"wang.manager@{demo.EMAIL_DOMAIN}"
SALES = {u.email: u.territory for u in demo.DEMO_USERS if u.territory}
SEED, COUNT = 10, 80  # a seed whose 80 leads give every region enough customers for each step


def email(key: str) -> str:
	return f"{key}@{demo.EMAIL_DOMAIN}"


def as_manager(doctype: str, filters) -> list[str]:
	"""What the manager reads (record-level access applied), as the workspace's cards count it."""
	return frappe.get_list(doctype, filters=filters, pluck="name", user=MANAGER, limit_page_length=0)


# The cards of the issue ("every card shows a number for the manager"); the workspace's eighth, A
# Customers Without Exclusive Manager, is 0 on the demo by design: the daily planner gives every A
# customer one.
WORKSPACE_CARDS = (
	"Customers in Pool",
	"Owned Customers",
	"Due for Recycling This Week",
	"Claims Today",
	"Conversion Rate This Month",
	"Overdue Return Visits",
	"Rewards to Approve",
)


def workspace_card(name: str, user: str) -> float:
	"""The value Number Card `name` shows `user` (its own method for a custom card)."""
	import json

	from frappe.desk.doctype.number_card.number_card import get_result
	from frappe.utils import add_days

	dynamic = {
		"frappe.datetime.get_today()": nowdate,
		"frappe.datetime.add_days(frappe.datetime.get_today(), 8)": lambda: add_days(nowdate(), 8),
	}
	doc = frappe.get_doc("Number Card", name)
	previous = frappe.session.user
	frappe.set_user(user)
	try:
		if doc.type == "Custom":
			return frappe.get_attr(doc.method)(filters="{}")["value"]
		filters = json.loads(doc.filters_json or "[]")
		for doctype, field, op, expression in json.loads(doc.dynamic_filters_json or "[]"):
			filters.append([doctype, field, op, dynamic[expression]()])
		return get_result(frappe.as_json(doc.as_dict()), frappe.as_json(filters))
	finally:
		frappe.set_user(previous)


def state() -> dict:
	"""Everything the demo writes, counted: a second run must leave it as it is."""
	counts = {
		doctype: frappe.db.count(doctype)
		for doctype in (
			"Lead",
			"Customer",
			"Pool Log",
			"Comment",
			"Event",
			"Pool Allocation Request",
			"Ownership Transfer",
			"Ownership Conflict",
			"Return Visit",
			"Journal Entry",
			"Customer Grade Log",
			"Sales Invoice",
		)
	}
	counts["statuses"] = sorted(
		frappe.get_all(
			"Pool Customer", fields=["status", "count(name) as n"], group_by="status", as_list=True
		)
	)
	counts["rewards"] = sorted(frappe.get_all("Referral Reward", pluck="workflow_state"))
	counts["due"] = sorted(
		map(
			str,
			frappe.get_all(
				"Pool Customer", filters={"recycle_due_at": ("is", "set")}, pluck="recycle_due_at"
			),
		)
	)
	counts["pools"] = frappe.get_all("Customer Pool", fields=["name", "modified"], order_by="name")
	return counts


@pytest.fixture
def story():
	summary = demo.make_demo(seed=SEED, count=COUNT, commit=False)
	return summary


def test_the_pools_carry_a_sales_directors_rules():
	company = frappe.defaults.get_global_default("company")
	demo.make_masters(company)
	demo.make_pools(demo.make_users(company))
	east = frappe.get_doc("Customer Pool", "华东公海")
	assert (east.max_owned, east.max_daily_claims, east.cooldown_days) == (50, 10, 7)
	assert (east.no_followup_days, east.no_deal_days, east.require_review) == (30, 90, 1)
	assert [(r.grade, r.no_followup_days, r.no_deal_days) for r in east.grade_rules] == [("A", 60, 180)]
	south = frappe.get_doc("Customer Pool", "华南公海")
	assert (south.max_owned, south.max_daily_claims, south.cooldown_days) == (40, 8, 15)
	assert (south.no_followup_days, south.no_deal_days, south.require_review) == (20, 60, 1)
	default = frappe.get_doc("Customer Pool", frappe.db.get_value("Customer Pool", {"is_default": 1}))
	assert (default.max_owned, default.cooldown_days, default.no_followup_days) == (100, 3, 60)
	assert default.require_review == 0
	# set once: a manager's later change stays
	frappe.db.set_value("Customer Pool", "华南公海", "cooldown_days", 10)
	demo.make_pools(demo.make_users(company))
	assert frappe.db.get_value("Customer Pool", "华南公海", "cooldown_days") == 10


def test_every_login_has_something_to_do_and_a_second_run_changes_nothing(story):
	today = nowdate()
	month = get_first_day(today)
	made = story["story"]
	# owned customers have a due date from their pool's rules
	assert not frappe.db.count(
		"Pool Customer", {"status": ("in", (OWNED, CONVERTED)), "recycle_due_at": ("is", "not set")}
	)

	# review: most approved, a few waiting for the manager (3 per reviewing pool, and the two shares
	# nobody accepted yet)
	assert made["reviewed"] > 10
	demo_pending = demo_story.demo_pool_customers(demo.EMAIL_DOMAIN, status=PENDING_REVIEW)
	assert sorted(row.pool for row in demo_pending) == sorted(["华南公海"] * 3 + ["华东公海"] * 3)
	assert 5 <= frappe.db.count("Pool Customer", {"status": PENDING_REVIEW}) <= 10
	# customers to claim in every pool
	for pool in (*demo.REGIONAL_POOLS, frappe.db.get_value("Customer Pool", {"is_default": 1})):
		assert frappe.db.count("Pool Customer", {"pool": pool, "status": IN_POOL}) > 0, pool

	for user in SALES:
		key = user.split("@")[0]
		claims = frappe.get_all(
			"Pool Log", filters={"action": CLAIM, "to_user": user, "by_user": user}, pluck="at"
		)
		assert len(claims) >= demo_story.CLAIMS[key], user
		assert any(getdate(at) == getdate(today) for at in claims)
		if getdate(today).day > 1:  # earlier this month, never before it
			assert any(getdate(month) <= getdate(at) < getdate(today) for at in claims)
		# follow-ups: Comments on the claimed leads, recorded as the customers' last follow-up
		commented = frappe.get_all(
			"Comment", filters={"comment_type": "Comment", "comment_email": user}, pluck="reference_name"
		)
		assert len(commented) == demo_story.FOLLOWED_UP
		assert all(
			frappe.db.get_value("Pool Customer", {"lead": lead}, "last_followup_at") for lead in commented
		)
		# one claimed customer released again (the pool's cooldown keeps its owner from re-claiming it)
		assert frappe.db.count("Pool Log", {"action": RELEASE, "from_user": user}) == 1
		# due for recycling within the week, and one past due the recycle job returned
		due = frappe.get_all(
			"Pool Customer",
			filters={
				"owned_by": user,
				"status": ("in", (OWNED, CONVERTED)),
				"recycle_due_at": ("between", (now_datetime(), add_days(now_datetime(), 7))),
			},
			pluck="name",
		)
		assert len(due) >= len(demo_story.DUE_IN_DAYS), user
		recycled = {"action": RECYCLE, "from_user": user, "by_user": "Administrator"}  # the daily job
		assert frappe.db.count("Pool Log", recycled) == demo_story.PAST_DUE
		# return visits they planned: one overdue, one today
		planned = frappe.get_all(
			"Return Visit", filters={"owner": user, "status": "Planned"}, pluck="planned_date"
		)
		assert sorted(str(d) for d in planned) == sorted(
			str(add_days(today, offset)) for offset in demo_story.VISITS_PLANNED
		), user

	# conversions this month by the salespeople who convert
	for key in demo_story.CONVERTING:
		assert (
			frappe.db.count("Pool Log", {"action": CONVERT, "by_user": email(key), "at": (">=", today)}) >= 1
		)

	# waiting for the manager: two allocation requests, one transfer, one conflict
	requests = frappe.get_all(
		"Pool Allocation Request", fields=["requester", "workflow_state"], order_by="requester"
	)
	assert [(r.requester, r.workflow_state) for r in requests] == [
		(email("li.na"), "Pending Approval"),
		(email("zhang.wei"), "Pending Approval"),
	]
	transfers = frappe.get_all(
		"Ownership Transfer", fields=["from_owner", "to_owner", "status", "customer_count"]
	)
	assert [(t.from_owner, t.to_owner, t.status, t.customer_count) for t in transfers] == [
		(email("zhang.wei"), email("li.na"), "Pending Approval", 1)
	]
	conflicts = frappe.get_all("Ownership Conflict", fields=["claimant", "current_owner", "status", "kind"])
	assert [(c.claimant, c.current_owner, c.status, c.kind) for c in conflicts] == [
		(email("li.na"), email("zhang.wei"), "Open", "Follow-up by Non-owner")
	]

	# grades, exclusive managers of the A customers, return visits planned for every graded customer
	graded = frappe.get_all(
		"Pool Customer",
		filters={"customer": ("is", "set"), "status": ("in", HAS_OWNER)},
		fields=["name", "grade", "exclusive_manager", "owned_by"],
	)
	assert graded and all(row.grade for row in graded)
	a_customers = [row for row in graded if row.grade == "A"]
	assert a_customers and all(row.exclusive_manager for row in a_customers)
	open_visits = set(frappe.get_all("Return Visit", filters={"status": "Planned"}, pluck="pool_customer"))
	assert {row.name for row in graded} <= open_visits

	# rewards: one waiting for approval, 赵敏's paid by a Journal Entry
	rewards = frappe.get_all(
		"Referral Reward", fields=["sharer", "workflow_state", "journal_entry"], order_by="sharer"
	)
	assert [r.workflow_state for r in rewards if r.workflow_state == "Submitted"] == ["Submitted"]
	paid = [r for r in rewards if r.workflow_state == "Paid"]
	assert [r.sharer for r in paid] == [email("zhao.min")]
	assert frappe.db.get_value("Journal Entry", paid[0].journal_entry, "docstatus") == 1

	# the manager's workspace: every number card non-zero, counted as the manager reads
	now = now_datetime()
	cards = {
		"in pool": as_manager("Pool Customer", {"status": IN_POOL}),
		"owned": as_manager("Pool Customer", {"status": ("in", HAS_OWNER)}),
		"due for recycling in 7 days": as_manager(
			"Pool Customer",
			[
				["status", "in", (OWNED, CONVERTED)],
				["recycle_due_at", ">=", now],
				["recycle_due_at", "<", add_days(now, 7)],
			],
		),
		"claims today": as_manager("Pool Log", {"action": CLAIM, "at": (">=", today)}),
		"converted this month": as_manager("Pool Log", {"action": CONVERT, "at": (">=", month)}),
		"claimed this month": as_manager("Pool Log", {"action": CLAIM, "at": (">=", month)}),
		"overdue return visits": as_manager(
			"Return Visit", {"status": "Planned", "planned_date": ("<", today)}
		),
		"rewards to approve": as_manager("Referral Reward", {"workflow_state": "Submitted"}),
	}
	assert {card: len(names) for card, names in cards.items() if not names} == {}
	assert len(cards["due for recycling in 7 days"]) >= len(SALES) * len(demo_story.DUE_IN_DAYS)
	assert len(cards["overdue return visits"]) >= len(SALES)
	assert len(cards["rewards to approve"]) == 1
	# the workspace's own number cards, through Frappe's entry points, as the manager
	shown = {name: workspace_card(name, MANAGER) for name in WORKSPACE_CARDS}
	assert {name: value for name, value in shown.items() if not value} == {}
	# and the summary says what each login finds
	found = story["found"]
	assert found[MANAGER]["requests_to_approve"] == 2
	assert found[MANAGER]["transfers_to_approve"] == 1
	assert found[MANAGER]["open_conflicts"] == 1
	assert found[email("zhao.min")]["shares"] > 0 and found[email("zhao.min")]["rewards"] == 1
	for user in SALES:
		assert found[user]["in_pool"] > 0 and found[user]["claims_today"] > 0, user
		assert found[user]["visits_overdue"] >= 1, user
		# a salesperson reads their own customers and their pools' in-pool ones, not a colleague's
		assert found[user]["owned"] < found[MANAGER]["owned"]

	# a second run changes nothing
	before = state()
	again = demo.make_demo(seed=SEED, count=COUNT, commit=False)
	assert {step: n for step, n in again["story"].items() if n and step != "seconds"} == {}
	assert state() == before
