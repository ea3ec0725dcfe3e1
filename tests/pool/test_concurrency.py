"""Claims under concurrency (SPEC §2): threads with their own database connections claim at once."""

from __future__ import annotations

import frappe

from crm_pool.core.status import CLAIM
from crm_pool.pool import ownership
from tests.conftest import at_once


def claim_at_once(claims: list[tuple[str, str]]) -> list[str]:
	"""Run each (user, pool customer) claim in its own thread and connection, all released together;
	returns "ok" or the refusal message per claim, in order."""
	return at_once([(user, lambda pc=pc: ownership.claim(pc)) for user, pc in claims])


def test_twenty_threads_claim_one_customer_exactly_one_wins(shared_pool):
	users, (pc,) = shared_pool(users=20, customers=1)
	results = claim_at_once([(u, pc) for u in users])
	winners = [u for u, r in zip(users, results, strict=True) if r == "ok"]
	refusals = [r for r in results if r != "ok"]
	assert len(winners) == 1, results
	assert len(refusals) == 19
	assert all("PoolRuleError" in r and "already been claimed" in r for r in refusals), refusals
	frappe.db.rollback()
	assert frappe.db.get_value("Pool Customer", pc, "owned_by") == winners[0]
	assert frappe.db.count("Pool Log", {"pool_customer": pc, "action": CLAIM}) == 1
	lead = frappe.db.get_value("Pool Customer", pc, "lead")
	assert frappe.db.get_value("Lead", lead, "lead_owner") == winners[0]


def test_concurrent_claims_by_one_user_never_pass_the_cap(shared_pool):
	(user,), pcs = shared_pool(users=1, customers=8, max_owned=3)
	results = claim_at_once([(user, pc) for pc in pcs])
	assert results.count("ok") == 3, results
	assert all("the most allowed" in r for r in results if r != "ok"), results
	frappe.db.rollback()
	assert (
		frappe.db.count(
			"Pool Customer", {"pool": frappe.db.get_value("Pool Customer", pcs[0], "pool"), "owned_by": user}
		)
		== 3
	)


def test_concurrent_claims_never_pass_the_daily_cap(shared_pool):
	users, pcs = shared_pool(users=1, customers=6, max_daily_claims=2)
	results = claim_at_once([(users[0], pc) for pc in pcs])
	assert results.count("ok") == 2, results
	assert all("claims today" in r for r in results if r != "ok"), results
