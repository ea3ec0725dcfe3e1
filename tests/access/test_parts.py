"""`pool_customer_parts`: the customers a user may see as disjoint parts (what the insight reports
count per index range and add) are exactly `pool_customer_condition`'s customers, each once."""

import frappe
import pytest

from crm_pool.access.permissions import pool_customer_condition, pool_customer_parts
from crm_pool.core.status import IN_POOL
from crm_pool.pool import collaborators
from tests.factories import make_pool, make_pool_customer


@pytest.fixture
def scene(make_user) -> frappe._dict:
	"""Pool P (member s; admin m), pool Q (member o). Customers of every kind a viewer may meet, with
	the overlaps: in P's pool and exclusively managed by s; owned by s with s also a collaborator
	row left from before; owned by o with s as exclusive manager and collaborator."""
	s = frappe._dict(s=make_user("Sales User"), o=make_user("Sales User"), m=make_user("Sales Manager"))
	s.pm = make_user("Pool Manager")
	s.p = make_pool(members=[s.s], admins=[s.m])
	s.q = make_pool(members=[s.o])
	c = {
		"in_p": make_pool_customer(s.p),
		"in_q": make_pool_customer(s.q),
		"s_owns": make_pool_customer(s.p, owner=s.s),
		"s_owns_in_q": make_pool_customer(s.q, owner=s.s),
		"o_owns_in_p": make_pool_customer(s.p, owner=s.o),
		"o_owns_in_q": make_pool_customer(s.q, owner=s.o),
		"in_p_managed": make_pool_customer(s.p),
		"q_managed": make_pool_customer(s.q, owner=s.o),
		"q_collaborating": make_pool_customer(s.q, owner=s.o),
		"q_managed_and_collaborating": make_pool_customer(s.q, owner=s.o),
	}
	for key in ("in_p_managed", "q_managed", "q_managed_and_collaborating"):
		frappe.db.set_value("Pool Customer", c[key], "exclusive_manager", s.s)
	for key in ("q_collaborating", "q_managed_and_collaborating"):
		collaborators.add_collaborator(c[key], s.s)
	assert frappe.db.get_value("Pool Customer", c["in_p_managed"], "status") == IN_POOL
	s.customers = c
	return s


def seen(names: list[str], condition: str) -> list[str]:
	"""The scene's customers matching `condition` (SQL on `tabPool Customer`), one row each time."""
	return sorted(
		frappe.db.sql(
			f"SELECT name FROM `tabPool Customer` WHERE name IN %(names)s AND ({condition or '1=1'})",
			{"names": names},
			pluck=True,
		)
	)


@pytest.mark.parametrize("viewer", ["s", "o", "m", "pm"])
@pytest.mark.parametrize("in_pool", [True, False])
def test_the_parts_are_the_condition_each_customer_once(scene, viewer, in_pool):
	names = list(scene.customers.values())
	user = scene[viewer]
	expected = seen(names, pool_customer_condition(user, in_pool=in_pool))
	parts = pool_customer_parts(user, in_pool=in_pool)
	if parts is None:
		assert viewer == "pm" and expected == sorted(names)
		return
	got = sorted(name for part in parts.values() for name in seen(names, part))
	assert got == expected  # the union, and no customer in two parts
	assert len(set(got)) == len(got)


def test_what_the_sales_user_sees(scene):
	"""The scene means what it says: s sees P's in-pool customers, their own, the ones they manage or
	collaborate on, not o's in P nor Q's in-pool ones."""
	c = scene.customers
	visible = set(seen(list(c.values()), pool_customer_condition(scene.s)))
	assert {k for k, v in c.items() if v in visible} == {
		"in_p",
		"s_owns",
		"s_owns_in_q",
		"in_p_managed",
		"q_managed",
		"q_collaborating",
		"q_managed_and_collaborating",
	}
