"""The workspace's number cards and charts (issue 12) count what the viewer may read: through Frappe's
own entry points (number_card.get_result, dashboard_chart.get, the custom cards' and chart sources'
methods), as the user, in one small scenario with exact numbers.

Pool P: salespeople a and b, their Sales Manager m; pool Q: salesperson c. Today a claims pc1 and pc3
(and converts pc3), a manager assigns pc5 to a, b claims pc2 and pc7 (pc7 is then recycled from b),
pc4 waits in the pool for 40 days, pc6 since today; pc8 is in Q.
"""

from __future__ import annotations

import json

import frappe
import pytest
from frappe.desk.doctype.dashboard_chart.dashboard_chart import get as chart_get
from frappe.desk.doctype.number_card.number_card import get_result
from frappe.utils import add_days, add_to_date, now_datetime, nowdate
from frappe.utils.dateutils import get_period

from crm_pool.insight import cards, charts
from crm_pool.pool import ownership
from crm_pool.pool.recycle import recycle_due
from crm_pool.sharing.model import REWARD, SUBMITTED
from tests.factories import (
	as_user,
	convert_to_customer,
	make_pool,
	make_pool_customer,
	make_reward,
	pool_customer,
)

# The JavaScript of the standard cards' dynamic filters, as the desk evaluates it today.
DYNAMIC = {
	"frappe.datetime.get_today()": lambda: nowdate(),
	"frappe.datetime.add_days(frappe.datetime.get_today(), 8)": lambda: add_days(nowdate(), 8),
}


@pytest.fixture
def team(make_user):
	t = frappe._dict(
		a=make_user("Sales User"),
		b=make_user("Sales User"),
		c=make_user("Sales User"),
		m=make_user("Sales Manager"),
		m2=make_user("Sales Manager"),
	)
	t.pool = make_pool(members=[t.a, t.b], admins=[t.m])
	t.other_pool = make_pool(members=[t.c])
	pc = {i: make_pool_customer(t.pool) for i in range(1, 8)}
	pc[8] = make_pool_customer(t.other_pool)
	as_user(t.a, ownership.claim, pc[1])
	as_user(t.a, ownership.claim, pc[3])
	ownership.assign(pc[5], t.a, "test: a manager allocates")
	as_user(t.b, ownership.claim, pc[2])
	as_user(t.b, ownership.claim, pc[7])
	convert_to_customer(pool_customer(pc[3]))
	for n, grade in ((1, "A"), (2, "B"), (3, "C"), (5, "A")):
		frappe.db.set_value("Pool Customer", pc[n], "grade", grade, update_modified=False)
	soon, later = add_to_date(now_datetime(), days=3), add_to_date(now_datetime(), days=20)
	for n, due in ((1, soon), (2, soon), (5, later)):
		frappe.db.set_value("Pool Customer", pc[n], "recycle_due_at", due, update_modified=False)
	frappe.db.set_value(
		"Pool Customer", pc[7], "recycle_due_at", add_to_date(now_datetime(), days=-1), update_modified=False
	)
	frappe.db.set_value(
		"Pool Customer",
		pc[4],
		"pool_entered_at",
		add_to_date(now_datetime(), days=-40),
		update_modified=False,
	)
	recycle_due()  # pc7 back to the pool, recycled from b
	assert frappe.db.get_value("Pool Customer", pc[7], "status") == "In Pool"
	for n in (1, 2):  # overdue return visits of a's and b's customers
		visit = frappe.get_doc(
			{"doctype": "Return Visit", "pool_customer": pc[n], "planned_date": nowdate()}
		).insert(ignore_permissions=True)
		frappe.db.set_value("Return Visit", visit.name, "planned_date", add_days(nowdate(), -2))
	t.pc = pc
	return t


def card(name: str, user: str) -> float:
	"""The number a "Document Type" card shows `user`: its filters, the dynamic ones evaluated."""
	doc = frappe.get_doc("Number Card", name)
	assert doc.type == "Document Type" and doc.is_standard
	filters = json.loads(doc.filters_json or "[]")
	for doctype, field, op, expression in json.loads(doc.dynamic_filters_json or "[]"):
		filters.append([doctype, field, op, DYNAMIC[expression]()])
	return as_user(user, get_result, frappe.as_json(doc.as_dict()), frappe.as_json(filters))


def custom_card(name: str, user: str):
	doc = frappe.get_doc("Number Card", name)
	assert doc.type == "Custom" and doc.is_standard
	method = frappe.get_attr(doc.method)
	frappe.is_whitelisted(method)
	return as_user(user, method, filters="{}")["value"]


def group_by(name: str, user: str) -> dict:
	config = as_user(user, chart_get, chart_name=name, refresh=1)
	return dict(zip(config["labels"], config["datasets"][0]["values"], strict=True)) if config else {}


def this_month(name: str, user: str) -> float:
	config = as_user(user, chart_get, chart_name=name, refresh=1)
	return dict(zip(config["labels"], config["datasets"][0]["values"], strict=True))[
		get_period(nowdate(), "Monthly")
	]


def source(name: str, user: str) -> dict:
	chart = frappe.get_doc("Dashboard Chart", name)
	assert chart.chart_type == "Custom" and chart.is_standard
	js = frappe.get_attr("frappe.desk.doctype.dashboard_chart_source.dashboard_chart_source.get_config")(
		chart.source
	)
	method = js.split('method: "')[1].split('"')[0]
	fn = frappe.get_attr(method)
	frappe.is_whitelisted(fn)
	return as_user(user, fn, chart_name=name, filters=None)


def test_document_type_cards_count_what_the_viewer_reads(team):
	t = team
	expected = {
		#                                     a  b  c  m
		"Customers in Pool": (3, 3, 1, 3),
		"Owned Customers": (3, 1, 0, 4),
		"Due for Recycling This Week": (1, 1, 0, 2),
		"A Customers Without Exclusive Manager": (2, 0, 0, 2),
		"Overdue Return Visits": (1, 1, 0, 2),
	}
	got = {name: tuple(card(name, u) for u in (t.a, t.b, t.c, t.m)) for name in expected}
	assert got == expected


def test_claims_today_a_salesperson_counts_their_own(team):
	t = team
	assert [custom_card("Claims Today", u) for u in (t.a, t.b, t.c, t.m)] == [2, 2, 0, 4]
	# pc7, claimed by b and back in the pool, is a's to read, but not a's claim
	assert frappe.has_permission("Pool Customer", "read", t.pc[7], user=t.a)


def test_conversion_rate_this_month(team):
	t = team
	# a took pc1, pc3, pc5 and converted pc3; b took pc2, pc7; the team took 5 and converted 1
	assert [custom_card("Conversion Rate This Month", u) for u in (t.a, t.b, t.c, t.m)] == [
		33.3,
		0.0,
		0.0,
		20.0,
	]


def test_rewards_to_approve_are_the_deciders_and_never_their_own(team):
	t = team
	before = {u: cards.count_rewards_to_approve(u) for u in (t.m, t.m2)}
	for sharer, amount in ((t.a, 1000), (t.m, 500)):
		reward = make_reward(sharer, amount)
		frappe.db.set_value(REWARD, reward.name, "workflow_state", SUBMITTED)
	got = [custom_card("Rewards to Approve", u) for u in (t.a, t.b, t.m, t.m2)]
	assert got == [0, 0, before[t.m] + 1, before[t.m2] + 2]


def test_group_by_charts_count_what_the_viewer_reads(team):
	t = team
	assert group_by("Grade Distribution", t.a) == {"A": 2, "C": 1}
	assert group_by("Grade Distribution", t.b) == {"B": 1}
	assert group_by("Grade Distribution", t.c) == {}
	assert group_by("Grade Distribution", t.m) == {"A": 2, "B": 1, "C": 1}
	assert group_by("Workload per Owner", t.a) == {t.a: 3}
	assert group_by("Workload per Owner", t.b) == {t.b: 1}
	assert group_by("Workload per Owner", t.m) == {t.a: 3, t.b: 1}


def test_rewards_per_month_sums_the_rewards_the_viewer_reads(team):
	t = team
	before = this_month("Rewards per Month", t.m)
	make_reward(t.a, 1000)
	make_reward(t.m, 500)
	assert this_month("Rewards per Month", t.a) == 1000
	assert this_month("Rewards per Month", t.b) == 0
	assert this_month("Rewards per Month", t.m) == before + 1500


def test_claims_and_recycles_per_day(team):
	t = team

	def today(user):
		data = source("Claims and Recycles per Day", user)
		assert len(data["labels"]) == charts.DAYS
		claims, recycles = data["datasets"]
		return claims["values"][-1], recycles["values"][-1]

	assert today(t.a) == (2, 0)
	assert today(t.b) == (2, 1)
	assert today(t.c) == (0, 0)
	assert today(t.m) == (4, 1)


def test_pool_ageing_buckets(team):
	t = team

	def buckets(user):
		return source("Pool Ageing Buckets", user)["datasets"][0]["values"]

	# pc6 never taken and pc7 recycled today (0-7 days), pc4 in the pool for 40 days (31-90)
	assert buckets(t.a) == buckets(t.b) == buckets(t.m) == [2, 0, 1, 0]
	assert buckets(t.c) == [1, 0, 0, 0]  # pc8, just entered Q


def test_custom_cards_and_sources_refuse_a_user_without_access(make_user):
	outsider = make_user("Accounts User")
	with pytest.raises(frappe.PermissionError):
		as_user(outsider, cards.claims_today)
	with pytest.raises(frappe.PermissionError):
		as_user(outsider, charts.pool_ageing)
