"""Pool Ageing (公海账龄): exact buckets on a small pool, the filters, and what each user may count: a
salesperson their own customers and the in-pool customers of their pools (as on the pool board), a
Sales Manager their pools, never another pool's."""

from __future__ import annotations

import json
from datetime import timedelta

import frappe
import pytest
from frappe.desk.query_report import run
from frappe.utils import add_days, now_datetime, nowdate

from crm_pool.core.status import LOCKED
from tests.factories import as_user, make_pool, make_pool_customer, make_recycle_pool_customer

BUCKETS = ("days_0_7", "days_8_30", "days_31_90", "days_over_90")


def ago(days: float):
	return now_datetime() - timedelta(days=days)


def in_pool(pool: str, days: int) -> str:
	name = make_pool_customer(pool)
	frappe.db.set_value("Pool Customer", name, "pool_entered_at", ago(days), update_modified=False)
	return name


@pytest.fixture
def scene(make_user):
	d = frappe._dict(
		s1=make_user("Sales User"),
		s2=make_user("Sales User"),
		s3=make_user("Sales User"),
		manager=make_user("Sales Manager"),
	)
	d.pool = make_pool(members=[d.s1, d.s2, d.manager])
	d.other = make_pool(members=[d.s3])
	for days in (3, 20, 100):
		in_pool(d.pool, days)
	# the owner's clock: the later of the last follow-up and the claim
	make_recycle_pool_customer(d.pool, d.s1, claimed_days_ago=40, last_followup_at=ago(5))  # 5
	make_recycle_pool_customer(d.pool, d.s1, claimed_days_ago=50)  # 50
	make_recycle_pool_customer(d.pool, d.s2, claimed_days_ago=10, last_followup_at=ago(60))  # 10
	make_recycle_pool_customer(d.pool, d.s2, claimed_days_ago=95, status=LOCKED)  # 95
	in_pool(d.other, 1)
	make_recycle_pool_customer(d.other, d.s3, claimed_days_ago=2)
	return d


def report(user: str, **filters) -> dict:
	"""The report as `user` runs it (role permissions of the Report included)."""
	result = as_user(user, run, "Pool Ageing", filters=json.dumps(filters), ignore_prepared_report=True)
	return result


def rows_of(result: dict) -> dict:
	return {
		(r["pool"], r.get("owner")): (*(r[b] for b in BUCKETS), r["total"])
		for r in result["result"]
		if isinstance(r, dict) and r.get("pool")
	}


def test_buckets_of_a_pool(scene):
	rows = rows_of(report("Administrator", pool=scene.pool))
	assert rows == {(scene.pool, None): (2, 2, 1, 2, 7)}


def test_by_owner_and_status_groups(scene):
	rows = rows_of(report("Administrator", pool=scene.pool, by_owner=1))
	assert rows == {
		(scene.pool, None): (1, 1, 0, 1, 3),
		(scene.pool, scene.s1): (1, 0, 1, 0, 2),
		(scene.pool, scene.s2): (0, 1, 0, 1, 2),
	}
	assert rows_of(report("Administrator", pool=scene.pool, status_group="In Pool")) == {
		(scene.pool, None): (1, 1, 0, 1, 3)
	}
	assert rows_of(report("Administrator", pool=scene.pool, status_group="Owned")) == {
		(scene.pool, None): (1, 1, 1, 1, 4)
	}


def test_as_of_an_earlier_date(scene):
	"""15 days ago: the customers whose clock started since are left out, the others are younger."""
	rows = rows_of(report("Administrator", pool=scene.pool, as_of_date=add_days(nowdate(), -15)))
	# in the pool 20 -> 5, 100 -> 85; owned 50 -> 35, locked 95 -> 80
	assert rows == {(scene.pool, None): (1, 0, 3, 0, 4)}


def test_the_chart_stacks_the_buckets(scene):
	chart = report("Administrator", pool=scene.pool)["chart"]
	assert chart["barOptions"]["stacked"]
	assert chart["data"]["labels"] == [scene.pool]
	assert [ds["values"] for ds in chart["data"]["datasets"]] == [[2], [2], [1], [2]]


def test_a_salesperson_counts_their_own_and_their_pools_in_pool_customers(scene):
	rows = rows_of(report(scene.s1, by_owner=1))
	assert rows[(scene.pool, None)] == (1, 1, 0, 1, 3)
	assert rows[(scene.pool, scene.s1)] == (1, 0, 1, 0, 2)
	assert (scene.pool, scene.s2) not in rows
	assert not any(pool == scene.other for pool, _owner in rows)
	# and the in-pool customers of another pool only when it is theirs
	assert rows_of(report(scene.s3, pool=scene.other)) == {(scene.other, None): (2, 0, 0, 0, 2)}
	assert rows_of(report(scene.s3, pool=scene.pool)) == {}


def test_a_sales_manager_sees_the_team_of_their_pools(scene):
	rows = rows_of(report(scene.manager, by_owner=1))
	assert rows[(scene.pool, scene.s1)] == (1, 0, 1, 0, 2)
	assert rows[(scene.pool, scene.s2)] == (0, 1, 0, 1, 2)
	assert not any(pool == scene.other for pool, _owner in rows)
