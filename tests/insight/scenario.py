"""A small scenario of claims, assignments, a release, a recycle, conversions and follow-ups, for
the insight reports' tests (exact numbers)."""

from datetime import timedelta

import frappe
from frappe.utils import now_datetime

from crm_pool.core.status import RECYCLE
from crm_pool.pool import followup, ownership
from tests.factories import as_user, convert_to_customer, make_pool, make_pool_customer, pool_customer


def shift_claim(pc: str, hours: float):
	"""Move the claim `hours` back (a claim happens now; follow-ups after it must be in the past)."""
	at = now_datetime() - timedelta(hours=hours)
	frappe.db.set_value("Pool Customer", pc, "claimed_at", at, update_modified=False)
	return at


def follow_up(pc: str, at) -> None:
	followup.record_followup([("Lead", pool_customer(pc).lead)], at)


def build(make_user) -> frappe._dict:
	"""Pool P (members a, b; admin: the Sales Manager m) and pool Q (member c):
	- a claims pc1 (then releases it) and pc2 (2 h to the first follow-up, 2 follow-ups, converted);
	  a is assigned pc3 (recycled) and pc4 (3 h to the first follow-up, 1 follow-up);
	- b is assigned pc5 (converted); c claims pc6 in Q.
	A conversion closes the owner's ToDo on the Lead: a follow-up then (pool.followup.on_todo).
	a: claims 2, allocations 2, releases 1, recycles 1, conversions 1 (25%), median 2.5 h, cadence 60
	(4 follow-ups over 2 customer-months of at least a day each: 4 ÷ (2/30)); b: 1 allocation, 1
	conversion (100%), median 0 h, cadence 30."""
	s = frappe._dict(
		a=make_user("Sales User"),
		b=make_user("Sales User"),
		c=make_user("Sales User"),
		m=make_user("Sales Manager"),
		pm=make_user("Pool Manager"),
	)
	s.p = make_pool(members=[s.a, s.b], admins=[s.m])
	s.q = make_pool(members=[s.c])
	s.pc1, s.pc2 = make_pool_customer(s.p), make_pool_customer(s.p)
	as_user(s.a, ownership.claim, s.pc1)
	as_user(s.a, ownership.claim, s.pc2)
	as_user(s.a, ownership.release, s.pc1, "不需要")
	claimed = shift_claim(s.pc2, 10)
	follow_up(s.pc2, claimed + timedelta(hours=2))
	follow_up(s.pc2, claimed + timedelta(hours=5))
	s.pc3 = make_pool_customer(s.p, owner=s.a)
	ownership.write_owners(
		"pc.name = %(name)s", {"name": s.pc3}, RECYCLE, None, rule="no_followup:30d"
	)  # the daily job's write
	s.pc4 = make_pool_customer(s.p, owner=s.a)
	claimed = shift_claim(s.pc4, 10)
	follow_up(s.pc4, claimed + timedelta(hours=3))
	convert_to_customer(frappe._dict(pool_customer(s.pc2)))
	s.pc5 = make_pool_customer(s.p, owner=s.b)
	convert_to_customer(frappe._dict(pool_customer(s.pc5)))
	s.pc6 = make_pool_customer(s.q)
	as_user(s.c, ownership.claim, s.pc6)
	return s
