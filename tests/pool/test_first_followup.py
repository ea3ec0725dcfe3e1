"""First follow-up since the claim and the number of follow-ups since (Pool Customer first_followup_at,
followups_since_claim), kept by `pool.followup.record_followup` for the performance report."""

from datetime import timedelta

import frappe
from frappe.utils import get_datetime, now_datetime

from crm_pool.pool import followup, ownership
from tests.factories import make_recycle_pool, make_recycle_pool_customer, pool_customer


def since_claim(name: str) -> tuple:
	row = pool_customer(name)
	return row.first_followup_at, row.followups_since_claim


def test_the_first_follow_up_of_each_owner_and_the_count_since(make_user):
	first_owner, second_owner = make_user("Sales User"), make_user("Sales User")
	pool = make_recycle_pool(members=[first_owner, second_owner])
	pc = make_recycle_pool_customer(pool, first_owner, claimed_days_ago=5)
	lead = [("Lead", pc.lead)]
	now = now_datetime()

	followup.record_followup(lead, now - timedelta(days=8))  # before the claim: not theirs
	assert since_claim(pc.name) == (None, 0)

	two_days_ago = now - timedelta(days=2)
	followup.record_followup(lead, two_days_ago)
	assert since_claim(pc.name) == (two_days_ago, 1)
	followup.record_followup(lead, now - timedelta(days=1))
	followup.record_followup(lead)  # now
	assert since_claim(pc.name) == (two_days_ago, 3)
	three_days_ago = now - timedelta(days=3)  # recorded late: the earliest is the first
	followup.record_followup(lead, three_days_ago)
	assert since_claim(pc.name) == (three_days_ago, 4)

	# a new owner starts from nothing: the first owner's follow-ups are older than the new claim
	ownership.assign(pc.name, second_owner, "test")
	claimed_at = get_datetime(frappe.db.get_value("Pool Customer", pc.name, "claimed_at"))
	assert since_claim(pc.name) == (three_days_ago, 4)  # owner writers leave the fields alone
	followup.record_followup(lead, now - timedelta(days=1))  # before the new claim
	assert since_claim(pc.name) == (three_days_ago, 4)
	followup.record_followup(lead)
	first, count = since_claim(pc.name)
	assert first >= claimed_at and count == 1

	# back in the pool: follow-ups of nobody's customer do not count
	ownership.release(pc.name, "test")
	followup.record_followup(lead)
	assert since_claim(pc.name) == (first, 1)
	assert pool_customer(pc.name).last_followup_at >= first  # last follow-up moves as before
