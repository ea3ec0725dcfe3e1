"""The monthly referral rewards (SPEC §5) from real submitted ERPNext documents: the tiers through
real orders, cancelled documents, one contract rewarded once, recomputation of drafts, frozen rewards
untouched, clawbacks of cancelled and credited documents, and the manager-only method."""

from datetime import date

import frappe
import pytest
from frappe.utils import add_months, get_first_day, get_last_day, getdate, nowdate

from crm_pool.core.roles import POOL_MANAGER, SALES_USER
from crm_pool.sharing import rewards
from crm_pool.sharing.model import (
	CLAWBACK,
	CONTRACT,
	DRAFT,
	ESTIMATE,
	PAID,
	REVENUE,
	REWARD,
	REWARD_LINE,
	SUBMITTED,
	clawback_key,
	contract_key,
)
from crm_pool.sharing.rules import TESTING, WASTE
from tests.conftest import at_once, real_commit
from tests.factories import (
	call_whitelisted,
	credit_note,
	line_invoice,
	line_order,
	make_converted_share,
	new_user,
	purge,
	shared_customer,
)


def this_month() -> date:
	return getdate(get_first_day(nowdate()))


def last_month() -> date:
	return getdate(get_first_day(add_months(nowdate(), -1)))


def month(start=None) -> tuple[date, date]:
	start = getdate(start or this_month())
	return start, getdate(get_last_day(start))


def compute(sharer: str, start=None) -> dict:
	return rewards.compute(*month(start), sharers=[sharer])


def reward_of(sharer: str, start=None, state: str | None = None) -> frappe._dict | None:
	filters = {"sharer": sharer, "period_start": month(start)[0]}
	if state:
		filters["workflow_state"] = state
	names = frappe.get_all(REWARD, filters=filters, pluck="name")
	assert len(names) <= 1, names
	return frappe.get_doc(REWARD, names[0]) if names else None


@pytest.fixture
def sharer(site):
	return new_user("Employee")


def orders(customer: str, line: str, count: int, on=None) -> list[str]:
	return [line_order(customer, line, 1000, on=on) for _ in range(count)]


def test_ten_orders_reward_nothing_eleven_reward_500(sharer):
	customer = shared_customer()
	make_converted_share(sharer, customer, TESTING)
	orders(customer, TESTING, 10)
	assert compute(sharer)["rewards"] == 0
	assert reward_of(sharer) is None

	last = line_order(customer, TESTING, 1000)
	summary = compute(sharer)
	reward = reward_of(sharer)
	assert summary == {"rewards": 1, "sharers": 1, "contracts": 11, "clawbacks": 0, "amount": 500.0}
	assert (reward.workflow_state, reward.rule, reward.tier, reward.contracts) == (DRAFT, TESTING, 1, 11)
	assert (reward.reward_amount, reward.clawback_amount, reward.net_amount) == (500, 0, 500)
	assert reward.business_line == TESTING and reward.period_end == getdate(get_last_day(this_month()))
	kinds = [line.kind for line in reward.lines]
	assert kinds.count(CONTRACT) == 11
	assert {line.contract_key for line in reward.lines} >= {contract_key(CONTRACT, "Sales Order", last)}
	assert all(
		line.amount == 1000 and line.customer == customer for line in reward.lines if line.kind == CONTRACT
	)


def test_a_sharer_who_owns_the_customer_is_not_rewarded_for_it(sharer):
	customer = shared_customer()
	make_converted_share(sharer, customer, TESTING)
	orders(customer, TESTING, 11)
	pc = frappe.db.get_value("Pool Customer", {"customer": customer})
	frappe.db.set_value("Pool Customer", pc, "owned_by", sharer)  # the sharer claimed it themselves
	assert compute(sharer)["rewards"] == 0
	frappe.db.set_value("Pool Customer", pc, "owned_by", new_user("Sales User"))  # a colleague's
	assert compute(sharer)["amount"] == 500


def test_cancelled_orders_and_invoices_do_not_count(sharer):
	customer = shared_customer()
	make_converted_share(sharer, customer, TESTING)
	names = orders(customer, TESTING, 11)
	frappe.get_doc("Sales Order", names[0]).cancel()
	invoice = line_invoice(customer, TESTING, 200_000)  # 20 万元: tier 1 on its own
	frappe.get_doc("Sales Invoice", invoice).cancel()
	assert compute(sharer)["rewards"] == 0
	assert reward_of(sharer) is None

	line_invoice(customer, TESTING, 100_100)  # 10.01 万元
	compute(sharer)
	reward = reward_of(sharer)
	assert (reward.reward_amount, reward.contracts, float(reward.revenue)) == (500, 10, 10.01)
	refs = {line.reference_name for line in reward.lines}
	assert names[0] not in refs and invoice not in refs


def test_an_order_of_another_line_or_a_rejected_share_does_not_count(sharer):
	customer = shared_customer()
	make_converted_share(sharer, customer, TESTING)
	orders(customer, WASTE, 11)  # shared for 检测, ordered 危废处置
	assert compute(sharer)["rewards"] == 0
	other = new_user("Employee")
	rejected = shared_customer()
	share = make_converted_share(other, rejected, TESTING)
	frappe.db.set_value("Customer Share", share, "status", "Rejected")
	orders(rejected, TESTING, 11)
	assert compute(other)["rewards"] == 0


def test_estimated_revenue_counts_for_the_waste_rule(sharer):
	customer = shared_customer()
	share = make_converted_share(sharer, customer, WASTE, estimated_revenue=50)
	line_order(customer, WASTE, 3000)
	compute(sharer)
	assert reward_of(sharer) is None  # 50 万元: not above 50
	frappe.db.set_value("Customer Share", share, "estimated_revenue", 50.01)
	compute(sharer)
	reward = reward_of(sharer)
	assert (reward.rule, reward.reward_amount, float(reward.revenue), reward.contracts) == (
		WASTE,
		500,
		50.01,
		1,
	)
	estimate = next(line for line in reward.lines if line.kind == ESTIMATE)
	assert estimate.reference_name == share and estimate.amount == 500_100


def test_the_highest_rule_wins_and_every_document_is_evidence(sharer):
	a, b = shared_customer(), shared_customer()
	make_converted_share(sharer, a, WASTE, estimated_revenue=60)  # 危废处置: 500
	make_converted_share(sharer, b, TESTING)
	line_order(a, WASTE, 1000)
	orders(b, TESTING, 21)  # 检测: 1000
	compute(sharer)
	reward = reward_of(sharer)
	assert (reward.rule, reward.tier, reward.reward_amount, reward.contracts) == (TESTING, 2, 1000, 21)
	assert sum(1 for line in reward.lines if line.kind == CONTRACT) == 22
	assert sum(1 for line in reward.lines if line.kind == ESTIMATE) == 1


def test_a_contract_is_counted_once_in_two_periods_and_the_key_is_unique(sharer):
	customer = shared_customer()
	make_converted_share(sharer, customer, TESTING)
	names = orders(customer, TESTING, 11, on=last_month())
	compute(sharer, last_month())
	first = reward_of(sharer, last_month())
	assert first.reward_amount == 500
	# a longer period over the same days: the orders are the draft's already
	summary = rewards.compute(getdate(last_month()), getdate(get_last_day(this_month())), sharers=[sharer])
	assert summary["contracts"] == 0 and summary["rewards"] == 0
	# and the database refuses a second line of the same contract
	frappe.db.savepoint("dup")
	with pytest.raises(Exception) as refused:
		frappe.db.sql(
			f"INSERT INTO `tab{REWARD_LINE}` (name, parent, parenttype, parentfield, kind, contract_key) "
			"VALUES ('dup-line', %s, %s, 'lines', %s, %s)",
			(first.name, REWARD, CONTRACT, contract_key(CONTRACT, "Sales Order", names[0])),
		)
	assert frappe.db.is_unique_key_violation(refused.value) or frappe.db.is_duplicate_entry(refused.value)
	frappe.db.rollback(save_point="dup")


def test_recompute_replaces_the_draft_and_leaves_frozen_rewards(sharer):
	customer = shared_customer()
	make_converted_share(sharer, customer, TESTING)
	orders(customer, TESTING, 11)
	compute(sharer)
	first = reward_of(sharer).name
	orders(customer, TESTING, 10)
	compute(sharer)
	again = reward_of(sharer)
	assert again.name != first and not frappe.db.exists(REWARD, first)
	assert not frappe.db.exists(REWARD_LINE, {"parent": first})
	assert (again.contracts, again.reward_amount) == (21, 1000)

	frappe.db.set_value(REWARD, again.name, "workflow_state", SUBMITTED)
	before = frappe.db.get_value(REWARD, again.name, "*", as_dict=True)
	orders(customer, TESTING, 3)
	assert compute(sharer)["rewards"] == 0
	assert frappe.db.get_value(REWARD, again.name, "*", as_dict=True) == before
	assert frappe.db.count(REWARD_LINE, {"parent": again.name}) == 21


def test_a_cancelled_order_after_payment_is_clawed_back_on_the_next_reward(sharer):
	customer = shared_customer()
	make_converted_share(sharer, customer, TESTING)
	names = orders(customer, TESTING, 11, on=last_month())
	compute(sharer, last_month())
	paid = reward_of(sharer, last_month())
	frappe.db.set_value(REWARD, paid.name, "workflow_state", PAID)
	frappe.get_doc("Sales Order", names[3]).cancel()  # 10 left: the 500 is lost

	compute(sharer)  # this month: nothing new, the clawback only
	nxt = reward_of(sharer)
	assert (nxt.reward_amount, nxt.clawback_amount, nxt.net_amount) == (0, 500, -500)
	(claw,) = nxt.lines
	assert (claw.kind, claw.reference_name, claw.clawback_of, claw.amount) == (
		CLAWBACK,
		names[3],
		paid.name,
		500,
	)
	assert claw.contract_key == clawback_key(contract_key(CONTRACT, "Sales Order", names[3]))
	unchanged = frappe.get_doc(REWARD, paid.name)
	assert (unchanged.workflow_state, unchanged.reward_amount, unchanged.net_amount) == (PAID, 500, 500)
	assert len(unchanged.lines) == 11

	compute(sharer)  # recomputed: the same clawback, once
	assert frappe.db.count(REWARD_LINE, {"kind": CLAWBACK, "clawback_of": paid.name}) == 1
	# another cancellation: nothing more to take back (already 0)
	frappe.get_doc("Sales Order", names[4]).cancel()
	compute(sharer)
	assert reward_of(sharer).clawback_amount == 500


def test_a_credit_note_after_submission_is_clawed_back_with_new_contracts(sharer):
	customer = shared_customer()
	make_converted_share(sharer, customer, TESTING)
	invoice = line_invoice(customer, TESTING, 600_000, on=last_month(), qty=2)  # 60 万元: 1000
	compute(sharer, last_month())
	frozen = reward_of(sharer, last_month())
	assert (frozen.reward_amount, float(frozen.revenue)) == (1000, 60)
	frappe.db.set_value(REWARD, frozen.name, "workflow_state", SUBMITTED)
	note = credit_note(invoice, qty=1)  # 30 万元 left: 500, 500 taken back

	orders(customer, TESTING, 11)  # this month: 500 of its own
	compute(sharer)
	nxt = reward_of(sharer)
	assert (nxt.reward_amount, nxt.clawback_amount, nxt.net_amount) == (500, 500, 0)
	claw = next(line for line in nxt.lines if line.kind == CLAWBACK)
	assert (claw.reference_name, claw.clawback_of, claw.amount) == (note, frozen.name, 500)
	assert claw.contract_key == clawback_key(contract_key(REVENUE, "Sales Invoice", note))
	assert frappe.db.get_value(REWARD, frozen.name, "reward_amount") == 1000


def test_compute_rewards_is_for_managers_with_a_real_month(sharer):
	manager = new_user(SALES_USER, POOL_MANAGER)
	sales = new_user(SALES_USER)
	frappe.set_user(sales)
	try:
		with pytest.raises(frappe.PermissionError):
			call_whitelisted("crm_pool.api.sharing.compute_rewards", month="2026-11")
		frappe.set_user(manager)
		for bad in ("2026-13", "11/2026", "2026-1", "soon"):
			with pytest.raises(frappe.ValidationError):
				call_whitelisted("crm_pool.api.sharing.compute_rewards", month=bad)
		with pytest.raises(frappe.ValidationError):
			call_whitelisted(
				"crm_pool.api.sharing.compute_rewards", month="2026-11", sharer="nobody@x.invalid"
			)
		result = call_whitelisted(
			"crm_pool.api.sharing.compute_rewards", month=str(this_month())[:7], sharer=sharer
		)
		assert result["queued"] is False and result["rewards"] == 0
	finally:
		frappe.set_user("Administrator")


def test_the_monthly_job_is_scheduled(run_scheduled):
	summary = run_scheduled("crm_pool.sharing.rewards.run_monthly")
	assert set(summary) == {"rewards", "sharers", "contracts", "clawbacks", "amount"}


def test_a_customer_shared_twice_counts_for_the_earliest_share(sharer):
	later = new_user("Employee")
	customer = shared_customer()
	first = make_converted_share(sharer, customer, TESTING)
	second = make_converted_share(later, customer, TESTING)
	frappe.db.set_value("Customer Share", first, "creation", "2026-01-01 09:00:00", update_modified=False)
	frappe.db.set_value("Customer Share", second, "creation", "2026-01-02 09:00:00", update_modified=False)
	orders(customer, TESTING, 11)
	assert compute(later)["rewards"] == 0  # computed alone: still the earlier sharer's documents
	assert reward_of(later) is None
	summary = rewards.compute(*month())
	assert reward_of(later) is None
	mine = reward_of(sharer)
	assert (mine.reward_amount, mine.contracts) == (500, 11)
	assert {line.customer_share for line in mine.lines} == {first}
	assert summary["rewards"] >= 1


def test_two_computations_at_once_write_one_reward(site):
	"""The monthly job and a manager's "compute now" at the same moment: one waits for the other and
	the sharer gets one draft with its contracts counted once (no duplicate-key failure)."""
	sharer = new_user("Employee")
	customer = shared_customer()
	share = make_converted_share(sharer, customer, TESTING)
	names = orders(customer, TESTING, 11)
	real_commit()
	start, end = month()
	try:
		results = at_once([("Administrator", lambda: rewards.compute(start, end, sharers=[sharer]))] * 2)
		assert results == ["ok", "ok"], results
		frappe.db.rollback()
		made = frappe.get_all(REWARD, filters={"sharer": sharer}, pluck="name")
		assert len(made) == 1, made
		assert frappe.db.count(REWARD_LINE, {"parent": made[0], "kind": CONTRACT}) == 11
	finally:
		frappe.db.rollback()
		frappe.db.delete(
			REWARD_LINE, {"parent": ("in", frappe.get_all(REWARD, {"sharer": sharer}, pluck="name") or [""])}
		)
		frappe.db.delete(REWARD, {"sharer": sharer})
		for name in names:
			frappe.get_doc("Sales Order", name).cancel()
			frappe.delete_doc("Sales Order", name, force=True, ignore_permissions=True)
		frappe.db.delete("Customer Share", {"name": share})
		pool = frappe.db.get_value("Pool Customer", {"customer": customer}, "pool")
		purge(pool, [])
		frappe.delete_doc("Customer", customer, force=True, ignore_permissions=True)
		frappe.delete_doc("Customer Pool", pool, force=True, ignore_permissions=True)
		frappe.delete_doc("User", sharer, force=True, ignore_permissions=True)
		real_commit()
