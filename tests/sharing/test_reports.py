"""The reports of sharing (issue 11): "Referral Reward Summary" adds up a small fixed dataset right (by
business line, sharer and month; filters; the chart), for managers and accounts only; "My Shares and
Rewards" holds the session user's rows only, and no contact data."""

from __future__ import annotations

import json

import frappe
import pytest
from frappe.desk.query_report import run
from frappe.utils import flt

from crm_pool.sharing.model import APPROVED, CONVERTED, PAID, REWARD, REWARDED, SHARED
from tests.factories import business_line, make_reward, make_share_row

MARCH, APRIL = "2031-03-01", "2031-04-01"  # months no other test uses


@pytest.fixture
def data(make_user):
	d = frappe._dict(
		a=make_user("Sales User", "Employee"),
		b=make_user("Sales User", "Employee"),
		accountant=make_user("Accounts User"),
		mobile="13912345678",
	)
	customer = frappe.get_doc(
		{"doctype": "Customer", "customer_name": "报表测试成交客户有限公司", "customer_type": "Company"}
	).insert(ignore_permissions=True)
	d.customer_name = customer.customer_name
	at = {"creation": "2031-03-05 10:00:00"}
	make_share_row(d.a, customer.name, status=REWARDED, mobile_no=d.mobile, **at)
	make_share_row(d.a, status=CONVERTED, **at)
	make_share_row(d.a, status=SHARED, **at)
	make_share_row(d.b, status=SHARED, **at)
	paid = make_reward(d.a, 1500, clawback=300, period_start=MARCH)
	frappe.db.set_value(REWARD, paid.name, "workflow_state", PAID)  # the states are the payout's tests
	make_reward(d.a, 500, period_start=MARCH)  # a draft
	approved = make_reward(d.b, 800, period_start=APRIL)
	frappe.db.set_value(REWARD, approved.name, "workflow_state", APPROVED)
	return d


def summary(d, **filters) -> dict[tuple, dict]:
	filters = {"from_month": MARCH, "to_month": "2031-04-30", **filters}
	frappe.set_user(d.accountant)
	try:
		result = run("Referral Reward Summary", filters=json.dumps(filters), ignore_prepared_report=True)
	finally:
		frappe.set_user("Administrator")
	d.chart = result["chart"]
	return {
		(r["sharer"], r["month"]): r
		for r in result["result"]
		if isinstance(r, dict) and r.get("sharer") in (d.a, d.b)
	}


def numbers(row: dict) -> tuple:
	fields = ("shares", "converted", "rewards", "reward", "clawback", "net", "paid")
	return tuple(flt(row[f]) for f in fields)


def test_the_summary_adds_up_by_line_sharer_and_month(data):
	rows = summary(data)
	assert set(rows) == {(data.a, "2031-03"), (data.b, "2031-03"), (data.b, "2031-04")}
	assert numbers(rows[(data.a, "2031-03")]) == (3, 2, 2, 2000, 300, 1700, 1200)
	assert numbers(rows[(data.b, "2031-03")]) == (1, 0, 0, 0, 0, 0, 0)
	assert numbers(rows[(data.b, "2031-04")]) == (0, 0, 1, 800, 0, 800, 0)
	assert all(r["business_line"] == business_line() for r in rows.values())
	assert rows[(data.a, "2031-03")]["sharer_name"] == frappe.db.get_value("User", data.a, "full_name")
	labels = data.chart["data"]["labels"]
	assert labels == ["2031-03", "2031-04"]
	assert data.chart["data"]["datasets"][0]["values"][1] >= 800

	paid = summary(data, state=PAID)
	assert set(paid) == {(data.a, "2031-03")} and numbers(paid[(data.a, "2031-03")]) == (
		0,
		0,
		1,
		1500,
		300,
		1200,
		1200,
	)
	assert set(summary(data, sharer=data.b)) == {(data.b, "2031-03"), (data.b, "2031-04")}
	assert set(summary(data, business_line=business_line())) == set(rows)
	other_line = frappe.db.get_value("Item Group", {"is_group": 0, "name": ("!=", business_line())}, "name")
	if other_line:
		assert not summary(data, business_line=other_line)


def test_the_summary_is_for_managers_and_accounts_only(data):
	frappe.set_user(data.a)
	with pytest.raises(frappe.PermissionError):
		run("Referral Reward Summary", filters=json.dumps({"from_month": MARCH}), ignore_prepared_report=True)
	frappe.set_user("Administrator")


def mine(user: str) -> dict:
	frappe.set_user(user)
	try:
		return run(
			"My Shares and Rewards",
			filters=json.dumps({"from_month": MARCH, "to_month": "2031-04-30"}),
			ignore_prepared_report=True,
		)
	finally:
		frappe.set_user("Administrator")


def test_my_shares_and_rewards_hold_only_my_rows(data):
	a = mine(data.a)
	rows = a["result"]
	assert {r["doctype"] for r in rows} == {"Customer Share", REWARD}
	shares = [r for r in rows if r["doctype"] == "Customer Share"]
	rewards = [r for r in rows if r["doctype"] == REWARD]
	assert len(shares) == 3 and len(rewards) == 2
	names = set(frappe.get_all("Customer Share", filters={"sharer": data.a}, pluck="name"))
	assert {r["document"] for r in shares} == names
	assert data.customer_name in {r["customer_name"] for r in shares}
	assert data.mobile not in json.dumps(a, default=str)  # names, never contact data
	summary_line = {s["label"]: s["value"] for s in a["report_summary"]}
	assert (summary_line["Shares"], summary_line["Converted Shares"]) == (3, 2)
	assert (flt(summary_line["Net Amount"]), flt(summary_line["Paid"])) == (1700, 1200)

	b = mine(data.b)["result"]
	assert len(b) == 2 and not {r["document"] for r in b} & {r["document"] for r in rows}
	assert all(flt(r.get("net_amount")) in (0, 800) for r in b)
