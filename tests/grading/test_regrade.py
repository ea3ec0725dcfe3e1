"""The regrade (issue 10): hand-made invoice sets through ERPNext give the expected scores, grades,
segments and CLV; history only for changes; hysteresis; the recycle due date follows the grade."""

from __future__ import annotations

import frappe
import pytest
from frappe.utils import add_days, get_datetime, nowdate

from crm_pool.grading.regrade import regrade
from crm_pool.pool.followup import recompute_due
from tests.factories import credit_note, invoice, logs, make_customer, make_pool, make_rule, pc_row


@pytest.fixture
def pool():
	return make_pool()


@pytest.mark.parametrize("narrow", [False, True], ids=["all invoices", "the rule's customers' invoices"])
def test_fixed_bands_net_credit_notes_ignore_cancelled_and_grade_at_the_threshold(pool, narrow):
	rule = make_rule(pool)  # monetary only: score = net invoiced ÷ 100,000 × 100
	at_a = make_customer(pool)  # 60,000 + 40,000 − 20,000 (credit note) = 80,000: exactly A's 80
	big = invoice(at_a.customer, 40000, days_ago=3, qty=2)
	invoice(at_a.customer, 60000, days_ago=10)
	credit_note(big, qty=1)
	at_b = make_customer(pool)  # 50,000 submitted; a cancelled 40,000 is ignored; a draft too
	invoice(at_b.customer, 50000, days_ago=5)
	cancelled = frappe.get_doc("Sales Invoice", invoice(at_b.customer, 40000, days_ago=4))
	cancelled.cancel()
	invoice(at_b.customer, 30000, days_ago=2, submit=False)
	nothing = make_customer(pool)  # no invoices
	tie_1, tie_2 = make_customer(pool), make_customer(pool)
	invoice(tie_1.customer, 30000, days_ago=20)
	invoice(tie_2.customer, 30000, days_ago=40)

	result = regrade(narrow=narrow)

	a, b, none = pc_row(at_a.pc), pc_row(at_b.pc), pc_row(nothing.pc)
	assert (a.net_invoiced, a.invoice_count, a.grade_score, a.grade) == (80000, 2, 80, "A")
	assert (b.net_invoiced, b.invoice_count, b.grade_score, b.grade) == (50000, 1, 50, "B")
	assert (none.net_invoiced, none.invoice_count, none.grade_score, none.grade) == (0, 0, 0, "C")
	assert none.last_invoice_date is None and none.rfm_segment == "General Retain"
	assert pc_row(tie_1.pc).grade_score == pc_row(tie_2.pc).grade_score == 30
	assert str(a.last_invoice_date) == add_days(nowdate(), -3) and a.grade_rule == rule
	assert a.score_monetary == 80 and not a.profit_included  # non-stock items: ERPNext has no cost
	assert [(x.from_grade, x.to_grade, x.why, x.run) for x in logs(at_a.pc)] == [
		(None, "A", "Score", result["run"])
	]
	assert result["rules"][rule]["graded"] == 5


def test_a_second_regrade_writes_history_only_for_the_customer_whose_grade_changed(pool):
	make_rule(pool)
	steady, mover = make_customer(pool), make_customer(pool)
	invoice(steady.customer, 90000, days_ago=1)
	invoice(mover.customer, 20000, days_ago=1)
	regrade()
	assert len(logs(steady.pc)) == len(logs(mover.pc)) == 1

	again = regrade()
	assert again["rules"] and len(logs(steady.pc)) == len(logs(mover.pc)) == 1
	assert again["changed"] == 0 or not frappe.db.exists(
		"Customer Grade Log", {"run": again["run"], "pool_customer": ("in", [steady.pc, mover.pc])}
	)

	invoice(mover.customer, 40000, days_ago=0)  # 60,000: C → B
	third = regrade()
	assert len(logs(steady.pc)) == 1
	assert [(x.from_grade, x.to_grade, x.run) for x in logs(mover.pc)][-1] == ("C", "B", third["run"])
	assert pc_row(mover.pc).grade == "B"


def test_hysteresis_holds_a_customer_just_below_its_grade_and_not_further(pool):
	make_rule(pool)  # A ≥ 80, margin 5: an A stays A down to 75
	held, at_margin, dropped, riser = (make_customer(pool) for _ in range(4))
	for c, amount in ((held, 77000), (at_margin, 75000), (dropped, 74000), (riser, 55000)):
		invoice(c.customer, amount, days_ago=1)
	for c, grade in ((held, "A"), (at_margin, "A"), (dropped, "A"), (riser, "C")):
		frappe.db.set_value("Pool Customer", c.pc, "grade", grade, update_modified=False)

	regrade()

	assert pc_row(held.pc).grade == "A" and not logs(held.pc)
	assert pc_row(at_margin.pc).grade == "A" and not logs(at_margin.pc)
	assert pc_row(dropped.pc).grade == "B"
	assert [(x.from_grade, x.to_grade) for x in logs(dropped.pc)] == [("A", "B")]
	assert pc_row(riser.pc).grade == "B"  # up at once


def test_percentile_rank_ties_share_a_rank_and_thresholds_by_share(pool):
	rule = make_rule(pool, scoring_method="Percentile Rank", grades=(("A", 80), ("B", 30), ("C", 0)))
	zero, low_1, low_2, top = (make_customer(pool) for _ in range(4))
	invoice(low_1.customer, 10000, days_ago=1)
	invoice(low_2.customer, 10000, days_ago=1)
	invoice(top.customer, 20000, days_ago=1)

	regrade()

	scores = [pc_row(c.pc).grade_score for c in (zero, low_1, low_2, top)]
	assert scores[0] == 0 and scores[3] == 100
	assert scores[1] == scores[2] == pytest.approx(33.3333, abs=1e-3)
	assert [pc_row(c.pc).grade for c in (zero, low_1, low_2, top)] == ["C", "B", "B", "A"]

	# by share of customers: A is the top quarter (percentile of the score ≥ 75)
	doc = frappe.get_doc("Customer Grade Rule", rule)
	doc.threshold_basis = "Share of Customers"
	doc.hysteresis_margin = 0
	doc.set(
		"grades",
		[{"grade": "A", "threshold": 75}, {"grade": "B", "threshold": 50}, {"grade": "C", "threshold": 0}],
	)
	doc.save(ignore_permissions=True)
	frappe.clear_document_cache("Customer Grade Rule", rule)
	regrade()
	assert [pc_row(c.pc).grade for c in (zero, low_1, low_2, top)] == ["C", "C", "C", "A"]


def test_weights_spread_profit_without_cost_and_potential_counts(pool):
	rule = make_rule(pool, weight_monetary=1, weight_profit=1, weight_potential=1)
	c = make_customer(pool, potential=40)
	invoice(c.customer, 70000, days_ago=1)

	regrade()

	row = pc_row(c.pc)
	# profit has no cost in ERPNext (service item): left out, (70 + 40) / 2
	assert not row.profit_included and row.score_potential == 40 and row.grade_score == 55
	note = frappe.db.get_value("Customer Grade Rule", rule, "profit_note")
	assert "1 of 1" in note


def test_rfm_segments_and_clv_from_the_observed_churn(pool):
	rule = make_rule(pool, weight_frequency=1, weight_recency=1)
	x, z, y, v, w = (make_customer(pool) for _ in range(5))
	for days in (5, 10, 20):
		invoice(x.customer, 10000, days_ago=days)  # R 5, F 3, M 30,000
	invoice(z.customer, 50000, days_ago=300)  # R 300, F 1, M 50,000
	invoice(v.customer, 5000, days_ago=400)  # bought in the previous window and in this one
	invoice(v.customer, 5000, days_ago=10)
	invoice(w.customer, 5000, days_ago=400)  # bought in the previous window only: churned

	regrade()

	segments = {k: pc_row(c.pc).rfm_segment for k, c in dict(x=x, z=z, y=y, v=v, w=w).items()}
	assert segments == {
		"x": "Important Value",
		"z": "Important Retain",
		"y": "General Retain",
		"v": "General Develop",
		"w": "General Retain",
	}
	# churn 1 of 2 → lifetime 1 year ÷ 0.5 = 2 years; CLV = 10,000 × 3 per year × 2
	row = pc_row(x.pc)
	assert (row.average_order_value, row.purchases_per_year, row.expected_lifetime_years) == (10000, 3, 2)
	assert row.clv == 60000
	assert frappe.db.get_value("Customer Grade Rule", rule, ["churn_rate", "expected_lifetime_years"]) == (
		50,
		2,
	)
	# fixed bands: recency 100 − 5 % (5 of 100 days), frequency 3 of 10, monetary 30 of 100
	assert (row.score_recency, row.score_frequency, row.score_monetary) == (95, 30, 30)
	assert row.grade_score == pytest.approx((95 + 30 + 30) / 3, abs=1e-3)


def test_a_grade_change_recomputes_the_recycle_due_date(pool, make_user):
	owner = make_user("Sales User")
	pool_doc = frappe.get_doc("Customer Pool", pool)
	pool_doc.append("members", {"user": owner})
	pool_doc.no_followup_days = 30
	pool_doc.no_deal_days = 0
	pool_doc.append("grade_rules", {"grade": "A", "no_followup_days": 90})
	pool_doc.save(ignore_permissions=True)
	make_rule(pool)
	c = make_customer(pool, owner=owner)
	invoice(c.customer, 95000, days_ago=1)  # a deal, not a follow-up
	recompute_due([c.pc])
	before = pc_row(c.pc)
	assert before.status in ("Owned", "Converted") and before.recycle_due_at
	due = before.recycle_due_at  # 30 days

	regrade()

	after = pc_row(c.pc)
	assert after.grade == "A"
	assert get_datetime(after.recycle_due_at) == get_datetime(add_days(get_datetime(due), 60))


def test_the_most_specific_rule_grades_a_customer(pool):
	narrow = make_rule(pool)
	group = frappe.db.get_value("Customer Group", {"is_group": 0}, "name")
	c = make_customer(pool)
	frappe.db.set_value("Pool Customer", c.pc, "customer_group", group, update_modified=False)
	narrower = make_rule(pool, customer_group=group, weight_monetary=0, weight_potential=1)
	other = make_customer(pool)
	frappe.db.set_value("Pool Customer", other.pc, "customer_group", None, update_modified=False)

	regrade()

	assert pc_row(c.pc).grade_rule == narrower
	assert pc_row(other.pc).grade_rule == narrow


def test_regrade_is_scheduled_monthly(pool, run_scheduled):
	make_rule(pool)
	c = make_customer(pool)
	invoice(c.customer, 85000, days_ago=1)
	run_scheduled("crm_pool.grading.regrade.run_monthly")
	assert pc_row(c.pc).grade == "A"


def test_regrade_now_is_for_managers_and_runs_in_the_background(pool, make_user, run_jobs_now):
	from crm_pool.api import grading

	make_rule(pool)
	c = make_customer(pool)
	invoice(c.customer, 85000, days_ago=1)
	frappe.set_user(make_user("Sales User"))
	with pytest.raises(frappe.PermissionError):
		grading.regrade()
	assert not pc_row(c.pc).grade
	frappe.set_user(make_user("Sales Manager"))
	grading.regrade()
	assert pc_row(c.pc).grade == "A"


def test_a_rule_refuses_unknown_grades_and_a_missing_floor(pool):
	with pytest.raises(frappe.ValidationError):
		make_rule(pool, grades=(("A", 80), ("Z", 0)))
	with pytest.raises(frappe.ValidationError):
		make_rule(pool, grades=(("A", 80), ("B", 10)))
	assert frappe.db.exists("Customer Grade Rule", {"is_default": 1})  # shipped at install


def test_the_customer_form_shows_the_grade_with_its_parts(pool, make_user):
	from crm_pool.api.pool import pool_status

	owner = make_user("Sales User")
	pool_doc = frappe.get_doc("Customer Pool", pool)
	pool_doc.append("members", {"user": owner})
	pool_doc.save(ignore_permissions=True)
	make_rule(pool)
	c = make_customer(pool, owner=owner)
	make_customer(pool)  # never bought: below every average
	invoice(c.customer, 85000, days_ago=2)
	regrade()

	frappe.set_user(owner)
	frappe.local.lang = "zh"
	status = pool_status(doctype="Customer", name=c.customer)
	g = status["grading"]
	assert (g["grade"], g["grade_score"], g["score_monetary"], g["net_invoiced"], g["invoice_count"]) == (
		"A",
		85,
		85,
		85000,
		1,
	)
	assert g["rfm_segment"] == "Important Value" and g["rfm_segment_label"] == "重要价值"
	assert g["labels"]["grade_score"] == "等级得分"
