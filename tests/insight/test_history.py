"""Ownership History (归属历史): a customer's or a user's Pool Log, in the viewer's language, never an
entry of a customer the viewer may not read (the Pool Log list's rule)."""

import frappe
import pytest

from crm_pool.insight import history
from tests.factories import as_user
from tests.insight import scenario


@pytest.fixture
def s(make_user) -> frappe._dict:
	return scenario.build(make_user)


def run(viewer: str, **filters) -> list[dict]:
	columns, data, _message = as_user(viewer, history.execute, filters)
	assert [c["fieldname"] for c in columns] == [
		"at",
		"action",
		"pool_customer",
		"customer_name",
		"from_user",
		"to_user",
		"by_user",
		"pool",
		"rule",
		"reason",
	]
	return data


def entries(data: list[dict]) -> list[tuple]:
	return sorted((r["pool_customer"], r["action"]) for r in data)


def test_a_users_history_is_where_they_gave_took_or_acted(s):
	own = entries(run(s.a))  # no filter: the viewer's own history of the last month
	assert own == entries(run(s.pm, user=s.a))
	assert own == sorted(
		[
			(s.pc1, "Claim"),
			(s.pc1, "Release"),
			(s.pc2, "Claim"),
			(s.pc2, "Convert"),
			(s.pc3, "Assign"),
			(s.pc3, "Recycle"),
			(s.pc4, "Assign"),
		]
	)
	data = run(s.a)
	assert [r["at"] for r in data] == sorted((r["at"] for r in data), reverse=True)  # newest first
	recycle = next(r for r in data if r["action"] == "Recycle")
	assert recycle["rule"] == "No follow-up for 30 days" and recycle["from_user"] == s.a
	release = next(r for r in data if r["action"] == "Release")
	assert (release["by_user"], release["reason"], release["pool"]) == (s.a, "不需要", s.p)


def test_a_customers_history_in_chinese(s):
	frappe.local.lang = "zh"
	data = run(s.m, pool_customer=s.pc1)
	assert [r["action"] for r in data] == ["释放", "领取", "入池"]  # Release, Claim, Intake


def test_a_sales_user_sees_no_entry_of_a_customer_they_may_not_read(s):
	assert run(s.a, pool_customer=s.pc5) == []  # b's customer
	assert run(s.a, user=s.b) == []  # b's only customer is b's
	assert entries(run(s.b, user=s.a)) == entries(  # a's customers now in the pool of b's pool only
		[r for r in run(s.pm, user=s.a) if r["pool_customer"] in (s.pc1, s.pc3)]
	)
	assert run(s.c, user=s.a) == [] and run(s.c, pool_customer=s.pc2) == []  # another pool
	assert entries(run(s.m, user=s.b)) == [(s.pc5, "Assign"), (s.pc5, "Convert")]  # the manager's pool
	assert run(s.m, user=s.c) == []  # not the manager's pool


def test_dates_narrow_the_history(s):
	assert run(s.pm, user=s.a, from_date="2020-01-01", to_date="2020-01-31") == []
	assert len(run(s.pm, pool_customer=s.pc2, from_date="2020-01-01")) == 3  # intake, claim, convert
