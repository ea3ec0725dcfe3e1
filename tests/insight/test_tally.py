"""The Pool Log Tally (归属日志日计): the log's entries per day, pool, action and owners, written with the
entries by every writer (one entry, set-based, rows made elsewhere), recomputed from the log when
its days are edited, closed to hand-written rows and to anyone but System and Pool Managers."""

from datetime import timedelta

import frappe
import pytest
from frappe.utils import add_days, getdate, now_datetime, nowdate

from crm_pool.core import log
from crm_pool.core.status import ASSIGN, CLAIM, RECYCLE
from crm_pool.grading import scorecard
from crm_pool.pool import ownership
from tests.factories import as_user, call_whitelisted, make_pool, make_pool_customer
from tests.insight import scenario

KEY = ("day", "pool", "action", "to_user", "from_user")


def tallied(users: list[str]) -> dict[tuple, int]:
	"""The tally's rows about these users, by key."""
	rows = frappe.db.sql(
		"""SELECT day, pool, action, to_user, from_user, entries FROM `tabPool Log Tally`
		WHERE to_user IN %(u)s OR from_user IN %(u)s""",
		{"u": tuple(users)},
		as_dict=True,
	)
	return {tuple(r[k] for k in KEY): int(r.entries) for r in rows if r.entries}


def counted(users: list[str]) -> dict[tuple, int]:
	"""The same from the log itself: its GROUP BY."""
	rows = frappe.db.sql(
		"""SELECT DATE(at) AS day, pool, action, to_user, from_user, COUNT(*) AS entries FROM `tabPool Log`
		WHERE to_user IN %(u)s OR from_user IN %(u)s GROUP BY 1, 2, 3, 4, 5""",
		{"u": tuple(users)},
		as_dict=True,
	)
	return {tuple(r[k] for k in KEY): int(r.entries) for r in rows}


def test_every_writer_tallies_its_entries(make_user):
	"""Claims, a release, a set-based recycle (`insert_logs_select`), assignments, conversions, and
	rows made elsewhere (`insert_log_rows`, the adoption's writer): the tally is the log's GROUP BY."""
	s = scenario.build(make_user)
	users = [s.a, s.b, s.c]
	pc = make_pool_customer(s.p)
	log.insert_log_rows(
		[
			{
				"name": frappe.generate_hash(length=12),
				"pool_customer": pc,
				"customer_name": "补录",
				"action": CLAIM,
				"to_user": s.c,
				"pool": s.p,
				"by_user": s.c,
				"at": now_datetime() - timedelta(days=3),
			}
		]
	)
	from crm_pool.allocation import allocate as allocator
	from crm_pool.allocation import model as allocation_model

	allocated = [make_pool_customer(s.p) for _ in range(3)]  # set-based, through a work table
	allocator.allocate(allocated, allocation_model.ROUND_ROBIN, [s.a, s.b])
	tally = tallied(users)
	assert tally == counted(users)
	today = getdate(nowdate())
	assert tally[(today, s.p, RECYCLE, None, s.a)] == 1  # the set-based writer
	assert tally[(today, s.p, CLAIM, s.a, None)] == 2  # two claims, one row
	assert tally[(today, s.p, ASSIGN, s.a, None)] + tally[(today, s.p, ASSIGN, s.b, None)] == 3 + 3
	assert tally[(getdate(add_days(nowdate(), -3)), s.p, CLAIM, s.c, None)] == 1


def test_a_day_of_the_log_edited_in_sql_is_recounted(make_user):
	a = make_user("Sales User")
	pool = make_pool(members=[a])
	for _ in range(3):
		as_user(a, ownership.claim, make_pool_customer(pool))
	frappe.db.sql(  # as the demo's history does: one claim moved 10 days back
		"UPDATE `tabPool Log` SET at = DATE_SUB(at, INTERVAL 10 DAY) WHERE to_user = %s LIMIT 1", a
	)
	assert tallied([a]) != counted([a])
	log.rebuild_tally(add_days(nowdate(), -10), nowdate())
	assert (
		tallied([a])
		== counted([a])
		== {
			(getdate(nowdate()), pool, CLAIM, a, None): 2,
			(getdate(add_days(nowdate(), -10)), pool, CLAIM, a, None): 1,
		}
	)


def test_tally_rows_are_not_written_by_hand():
	with pytest.raises(frappe.PermissionError):
		frappe.get_doc(
			{"doctype": "Pool Log Tally", "day": nowdate(), "action": CLAIM, "entries": 1000}
		).insert(ignore_permissions=True)


@pytest.mark.parametrize("role", ["Sales User", "Sales Manager"])
def test_salespeople_do_not_read_the_tally(make_user, role):
	user = make_user(role)
	with pytest.raises(frappe.PermissionError):
		as_user(user, frappe.get_list, "Pool Log Tally", fields=["to_user", "entries"])
	with pytest.raises(frappe.PermissionError):
		as_user(user, call_whitelisted, "frappe.client.get_count", doctype="Pool Log Tally")


def test_the_scorecard_counts_hand_overs_from_the_tally(make_user):
	"""Claimed, released and claimed again in the period: two new, one churned (the customers at the
	start + new − churned = the customers at the end)."""
	a = make_user("Sales User")
	pool = make_pool(members=[a])
	pc = make_pool_customer(pool)
	as_user(a, ownership.claim, pc)
	as_user(a, ownership.release, pc, "暂不跟进")
	frappe.db.sql("DELETE FROM `tabPool Log Tally` WHERE from_user = %s AND action = 'Release'", a)
	ownership.assign(pc, a, "重新分配")  # a manager's assignment: no cooldown
	today = getdate(nowdate())
	(row,) = scorecard.scorecard(today, today, a)
	assert (row["customers"], row["new_customers"], row["churned"]) == (1, 2, 0)  # the tally's rows
	log.rebuild_tally(today, today)
	(row,) = scorecard.scorecard(today, today, a)
	assert (row["customers"], row["new_customers"], row["churned"]) == (1, 2, 1)
