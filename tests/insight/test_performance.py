"""Salesperson Performance (销售业绩分析): exact numbers of a small scenario, and who sees whom (a sales
user their own row, a Sales Manager the members of the pools they administer, a Pool Manager everyone)."""

import frappe
import pytest
from frappe.utils import add_days, nowdate

from crm_pool.insight import performance
from tests.factories import as_user
from tests.insight import scenario

MEASURES = ("claimed", "allocated", "released", "recycled", "converted")


@pytest.fixture
def s(make_user) -> frappe._dict:
	return scenario.build(make_user)


def run(viewer: str, **filters) -> tuple[dict, dict | None, dict | None]:
	"""(rows by salesperson, the totals row, the chart) of the report run by `viewer` over the last days."""
	filters = {"from_date": add_days(nowdate(), -2), "to_date": nowdate(), **filters}
	columns, data, _message, chart = as_user(viewer, performance.execute, filters)
	assert [c["fieldname"] for c in columns][:2] == ["salesperson", "salesperson_name"]
	rows = {r["salesperson"]: r for r in data if r["salesperson"]}
	totals = next((r for r in data if not r["salesperson"]), None)
	return rows, totals, chart


def numbers(row: dict) -> tuple:
	return tuple(row[m] for m in MEASURES)


def test_the_measures_of_a_salesperson(s):
	rows, totals, chart = run(s.pm)
	a, b, c = rows[s.a], rows[s.b], rows[s.c]
	assert numbers(a) == (2, 2, 1, 1, 1)
	assert a["conversion_rate"] == 25.0
	assert a["median_hours_to_followup"] == 2.5  # pc2 after 2 h, pc4 after 3 h
	# 4 follow-ups (pc2: 2 and the conversion closing the Lead's ToDo; pc4: 1) over 2 customer-days
	assert a["followups_per_month"] == 60.0
	assert numbers(b) == (0, 1, 0, 0, 1) and b["conversion_rate"] == 100.0
	# the conversion closed b's ToDo on the Lead at once: a follow-up 0 h after the assignment
	assert b["median_hours_to_followup"] == 0.0 and b["followups_per_month"] == 30.0
	assert numbers(c) == (1, 0, 0, 0, 0) and c["conversion_rate"] == 0.0
	# the totals add up the people shown (others on the site may have worked in the window too)
	assert totals["salesperson_name"] == "Total"
	for m in MEASURES:
		assert totals[m] == sum(r[m] for r in rows.values())
	assert chart["type"] == "bar" and s.a not in chart["data"]["labels"]  # names, not emails
	names = chart["data"]["labels"]
	claims = chart["data"]["datasets"][0]["values"]
	assert claims[names.index(a["salesperson_name"])] == 2


def test_filters_pool_and_salesperson(s):
	rows, totals, _chart = run(s.pm, pool=s.q)
	assert list(rows) == [s.c] and numbers(totals) == (1, 0, 0, 0, 0)
	rows, totals, _chart = run(s.pm, user=s.b)
	assert list(rows) == [s.b] and totals["conversion_rate"] == 100.0
	rows, _totals, _chart = run(s.pm, from_date=add_days(nowdate(), -30), to_date=add_days(nowdate(), -20))
	assert not {s.a, s.b, s.c} & set(rows)  # nothing of theirs a month ago


def test_a_sales_user_sees_only_their_own_row(s):
	rows, totals, _chart = run(s.a)
	assert list(rows) == [s.a] and numbers(totals) == (2, 2, 1, 1, 1)
	assert run(s.a, user=s.b)[0] == {}  # a colleague's row: nothing, not an error
	rows, _totals, _chart = run(s.c)
	assert list(rows) == [s.c]


def test_a_sales_manager_sees_the_members_of_their_pools(s):
	rows, totals, _chart = run(s.m)
	assert set(rows) == {s.a, s.b}  # c works in a pool m does not administer
	assert numbers(totals) == (2, 3, 1, 1, 2) and totals["conversion_rate"] == 40.0
	assert totals["median_hours_to_followup"] == 2.0  # of 0, 2 and 3 hours
	assert run(s.m, user=s.c)[0] == {}


def test_the_median_of_counted_values():
	median = performance.median_of_counts
	assert median({}) is None
	assert median({7: 1}) == 7
	assert median({120: 1, 180: 1}) == 150  # two: the mean of both
	assert median({1: 2, 5: 1}) == 1
	assert median({2: 3, 10: 3}) == 6
	assert median({0: 1, 3: 1, 9: 2}) == 6  # 0, 3, 9, 9
