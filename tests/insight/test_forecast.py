"""Recycle Forecast (回收预测): who loses which customers to the pool and when, with the rule the
recycle will write; exemptions and locked customers left out; a salesperson sees only their own
customers, a Sales Manager the team of their pools."""

from __future__ import annotations

import json
from datetime import timedelta

import frappe
import pytest
from frappe.desk.query_report import run
from frappe.utils import add_days, getdate, now_datetime, nowdate

from crm_pool.core.status import LOCKED
from tests.factories import as_user, make_recycle_pool, make_recycle_pool_customer


def ago(days: float):
	return now_datetime() - timedelta(days=days)


@pytest.fixture
def scene(make_user):
	d = frappe._dict(
		s1=make_user("Sales User"),
		s2=make_user("Sales User"),
		s3=make_user("Sales User"),
		manager=make_user("Sales Manager"),
	)
	d.pool = make_recycle_pool(
		members=[{"user": u} for u in (d.s1, d.s2, d.manager)],
		no_followup_days=30,
		no_deal_days=60,
		exempt_with_deal=1,
		grade_rules=[{"grade": "A", "no_followup_days": 10, "no_deal_days": 0}],
	)
	d.other = make_recycle_pool(members=[{"user": d.s3}], no_followup_days=30)
	due = {}
	due["c1"] = make_recycle_pool_customer(d.pool, d.s1, claimed_days_ago=25)  # +5, no follow-up 30
	due["c2"] = make_recycle_pool_customer(  # +10, no deal 60
		d.pool, d.s1, claimed_days_ago=50, last_followup_at=ago(2)
	)
	due["c3"] = make_recycle_pool_customer(d.pool, d.s1, claimed_days_ago=5, grade="A")  # +5, grade's 10
	due["c4"] = make_recycle_pool_customer(d.pool, d.s2, claimed_days_ago=1)  # +29
	due["c7"] = make_recycle_pool_customer(d.pool, d.s2, claimed_days_ago=25)  # +5, as c1 of s1
	due["c5"] = make_recycle_pool_customer(  # +30
		d.pool, d.s1, claimed_days_ago=10, last_followup_at=now_datetime()
	)
	# not forecast: locked (no due date), exempt by a deal, due before the window
	make_recycle_pool_customer(d.pool, d.s1, claimed_days_ago=25, status=LOCKED)
	make_recycle_pool_customer(d.pool, d.s1, claimed_days_ago=25, last_deal_at=ago(20))
	make_recycle_pool_customer(d.pool, d.s1, claimed_days_ago=31)
	due["c6"] = make_recycle_pool_customer(d.other, d.s3, claimed_days_ago=20)  # +10, another pool
	d.due = frappe._dict({k: v.name for k, v in due.items()})
	return d


def report(user: str, **filters) -> dict:
	return as_user(user, run, "Recycle Forecast", filters=json.dumps(filters), ignore_prepared_report=True)


def day(n: int) -> str:
	return str(getdate(add_days(nowdate(), n)))


def by_owner(result: dict) -> dict:
	return {r["owner"]: r for r in result["result"] if isinstance(r, dict) and r.get("owner")}


def test_the_summary_per_owner_and_day(scene):
	result = report("Administrator", pool=scene.pool, period="Day")
	rows = by_owner(result)
	assert set(rows) == {scene.s1, scene.s2}
	s1 = rows[scene.s1]
	assert (s1["customers"], s1["no_followup"], s1["no_deal"]) == (4, 3, 1)
	assert str(s1["first_due"]) == day(5)
	fields = {c["fieldname"]: c for c in result["columns"]}
	assert "p_" + day(5).replace("-", "") in fields and "p_" + day(30).replace("-", "") in fields
	assert s1["p_" + day(5).replace("-", "")] == 2
	assert s1["p_" + day(10).replace("-", "")] == 1
	assert s1["p_" + day(30).replace("-", "")] == 1
	assert rows[scene.s2]["p_" + day(29).replace("-", "")] == 1
	assert rows[scene.s2]["p_" + day(5).replace("-", "")] == 1
	assert rows[scene.s2]["customers"] == 2
	# the chart: customers due per day of the window
	chart = result["chart"]["data"]
	per_day = dict(zip(chart["labels"], chart["datasets"][0]["values"], strict=True))
	assert len(chart["labels"]) == 31
	assert per_day[getdate(day(5)).strftime("%m-%d")] == 3
	assert sum(per_day.values()) == 6


def test_weeks_and_the_window(scene):
	rows = by_owner(report("Administrator", pool=scene.pool, period="Week"))
	s1 = rows[scene.s1]
	weeks = {k: v for k, v in s1.items() if k.startswith("p_")}
	assert sum(weeks.values()) == 4
	for key in weeks:  # each column starts on a Monday
		assert getdate(f"{key[2:6]}-{key[6:8]}-{key[8:10]}").weekday() == 0
	narrow = by_owner(report("Administrator", pool=scene.pool, from_date=day(6), to_date=day(29)))
	assert narrow[scene.s1]["customers"] == 1  # c2 on day 10
	assert narrow[scene.s2]["customers"] == 1


def test_the_list_states_each_rule(scene):
	result = report("Administrator", pool=scene.pool, detail=1)
	rows = {r["pool_customer"]: r for r in result["result"] if isinstance(r, dict) and r.get("pool_customer")}
	assert set(rows) == {scene.due[c] for c in ("c1", "c2", "c3", "c4", "c5", "c7")}
	expect = {
		"c1": ("no_followup:30d", "No follow-up for 30 days", "Pool"),
		"c2": ("no_deal:60d", "No deal for 60 days", "Pool"),
		"c3": ("no_followup:10d", "No follow-up for 10 days", "Pool's rule for the grade"),
		"c4": ("no_followup:30d", "No follow-up for 30 days", "Pool"),
	}
	for c, (rule, label, source) in expect.items():
		row = rows[scene.due[c]]
		assert (row["rule"], row["rule_label"], row["source_label"]) == (rule, label, source)
	assert str(getdate(rows[scene.due["c2"]]["recycle_due_at"])) == day(10)
	ordered = [r["pool_customer"] for r in result["result"] if isinstance(r, dict) and r.get("pool_customer")]
	assert ordered[-1] == scene.due["c5"]  # by due date


def test_the_rule_is_the_one_the_recycle_writes(scene):
	"""On the due day, the daily recycle writes the forecast's rule in the Pool Log."""
	from crm_pool.pool.recycle import recycle_due

	forecast = {
		r["pool_customer"]: r["rule"]
		for r in report("Administrator", pool=scene.pool, detail=1)["result"]
		if isinstance(r, dict) and r.get("pool_customer")
	}
	recycle_due(now=now_datetime() + timedelta(days=11))
	logged = dict(
		frappe.db.sql(
			"SELECT pool_customer, rule FROM `tabPool Log` WHERE action = 'Recycle' AND pool_customer IN %s",
			(tuple(forecast),),
		)
	)
	assert logged == {
		name: rule
		for name, rule in forecast.items()
		if name in (scene.due.c1, scene.due.c2, scene.due.c3, scene.due.c7)
	}


def test_a_salesperson_sees_only_their_own_customers(scene):
	rows = by_owner(report(scene.s1))
	assert set(rows) == {scene.s1}
	assert rows[scene.s1]["customers"] == 4
	listed = [
		r["pool_customer"]
		for r in report(scene.s1, detail=1, owner=scene.s2)["result"]
		if isinstance(r, dict) and r.get("pool_customer")
	]
	assert listed == []
	assert set(by_owner(report(scene.s3))) == {scene.s3}


def test_a_sales_manager_sees_the_team_of_their_pools(scene):
	rows = by_owner(report(scene.manager))
	assert {scene.s1, scene.s2} <= set(rows)
	assert scene.s3 not in rows
	assert rows[scene.s1]["customers"] == 4 and rows[scene.s2]["customers"] == 2
