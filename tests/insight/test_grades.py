"""Grade Movement (等级变动): the matrix of transitions in a period from the Customer Grade Log and the
current distribution; a salesperson counts only the customers they may see (their own and the
in-pool customers of their pools), a Sales Manager those of their pools."""

from __future__ import annotations

import json

import frappe
import pytest
from frappe.desk.query_report import run

from tests.factories import as_user, make_pool, make_pool_customer, make_recycle_pool_customer

JUNE = {"from_date": "2031-06-01", "to_date": "2031-06-30"}  # a month no other test uses


def log(pc: str, from_grade: str, to_grade: str, at: str) -> None:
	frappe.get_doc(
		{
			"doctype": "Customer Grade Log",
			"pool_customer": pc,
			"from_grade": from_grade,
			"to_grade": to_grade,
			"at": at,
			"why": "test",
		}
	).insert(ignore_permissions=True)


def graded(pc: str, grade: str) -> str:
	frappe.db.set_value("Pool Customer", pc, "grade", grade, update_modified=False)
	return pc


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
	g1 = graded(make_recycle_pool_customer(d.pool, d.s1).name, "A")
	g2 = graded(make_recycle_pool_customer(d.pool, d.s2).name, "B")
	g3 = graded(make_pool_customer(d.pool), "C")  # in the pool
	g4 = graded(make_recycle_pool_customer(d.other, d.s3).name, "A")
	make_pool_customer(d.pool)  # ungraded, in the pool
	log(g1, "", "B", "2031-06-01 09:00:00")
	log(g1, "B", "A", "2031-06-05 09:00:00")
	log(g1, "A", "B", "2031-07-01 00:00:00")  # after the period
	log(g1, "", "C", "2031-05-31 23:59:59")  # before it
	log(g2, "", "C", "2031-06-02 09:00:00")
	log(g2, "C", "B", "2031-06-30 23:59:00")
	log(g3, "", "C", "2031-06-03 09:00:00")
	log(g4, "", "A", "2031-06-04 09:00:00")
	return d


def report(user: str, **filters) -> dict:
	filters = {**JUNE, **filters}
	return as_user(user, run, "Grade Movement", filters=json.dumps(filters), ignore_prepared_report=True)


def matrix(result: dict) -> dict:
	"""{from grade: {to grade: moves}} of the non-zero cells (the total row left out)."""
	cells = {}
	for row in result["result"]:
		if not isinstance(row, dict) or not row.get("from_grade") or row.get("from_grade") == "Total":
			continue
		moves = {k[3:]: v for k, v in row.items() if k.startswith("to_") and v}
		assert sum(moves.values()) == row["total"]
		cells[row["from_grade"]] = moves
	return cells


def summary(result: dict) -> dict:
	return {s["label"]: s["value"] for s in result["report_summary"]}


def test_the_matrix_of_a_pool(scene):
	result = report("Administrator", pool=scene.pool)
	assert matrix(result) == {"Ungraded": {"b": 1, "c": 2}, "B": {"a": 1}, "C": {"b": 1}}
	labels = [c["label"] for c in result["columns"]]
	assert labels == ["From Grade", "To A", "To B", "To C", "To Ungraded", "Total"]
	assert summary(result) == {"Grade A now": 1, "Grade B now": 1, "Grade C now": 1, "Grade Ungraded now": 1}
	chart = result["chart"]["data"]
	assert dict(zip(chart["labels"], chart["datasets"][0]["values"], strict=True)) == {
		"A": 1,
		"B": 1,
		"C": 1,
		"Ungraded": 1,
	}


def test_a_salesperson_counts_their_own_customers_only(scene):
	# nothing of s2's customer (owned by another), of another pool, nor of the in-pool g3: a grade's
	# history is a record about a customer, closed to salespeople while it is in the pool
	assert matrix(report(scene.s1)) == {"Ungraded": {"b": 1}, "B": {"a": 1}}
	mine = summary(report(scene.s1, pool=scene.pool))
	assert (mine["Grade A now"], mine["Grade B now"], mine["Grade C now"]) == (1, 0, 0)
	assert matrix(report(scene.s1, pool=scene.other)) == {}
	assert sum(summary(report(scene.s1, pool=scene.other)).values()) == 0
	assert matrix(report(scene.s3)) == {"Ungraded": {"a": 1}}


def test_a_sales_manager_sees_their_pools(scene):
	assert matrix(report(scene.manager)) == {"Ungraded": {"b": 1, "c": 2}, "B": {"a": 1}, "C": {"b": 1}}


def test_in_chinese(scene):
	frappe.local.lang = "zh"
	try:
		from frappe.translate import clear_cache

		clear_cache()
		result = report("Administrator", pool=scene.pool)
	finally:
		frappe.local.lang = "en"
	labels = [c["label"] for c in result["columns"]]
	assert labels == ["原等级", "转为 A", "转为 B", "转为 C", "转为 未定级", "合计"]
	assert "当前 A 级" in summary(result)
