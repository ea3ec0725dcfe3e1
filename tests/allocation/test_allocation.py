"""Manager allocation (调配, SPEC §3): the four strategies, fairness, caps, cooldown, the audit trail,
ERPNext's mirrored owners, and who may allocate."""

from __future__ import annotations

import json
import threading

import frappe
import pytest
from frappe.utils import add_days, now_datetime

from crm_pool.allocation import allocate as allocator
from crm_pool.allocation import model as allocation_model
from crm_pool.allocation import team as allocation_team
from crm_pool.api import allocation as allocation_api
from crm_pool.core import errors
from crm_pool.core.log import log_change
from crm_pool.core.status import ASSIGN, CONVERT, IN_POOL, OWNED
from crm_pool.pool import ownership
from tests.factories import bulk_pool_customers, make_industry, make_pool, make_pool_customer, make_territory


def owners(names: list[str]) -> dict[str, str | None]:
	return dict(
		frappe.db.sql("SELECT name, owned_by FROM `tabPool Customer` WHERE name IN %(n)s", {"n": names})
	)


def counts(names: list[str], users: list[str]) -> dict[str, int]:
	got = dict.fromkeys(users, 0)
	for owner in owners(names).values():
		if owner:
			got[owner] += 1
	return got


@pytest.fixture
def team(make_user):
	"""Seven sales users, members of one pool, and its admin (a sales user who is pool admin and
	takes no customers from allocations)."""
	users = [make_user("Sales User") for _ in range(7)]
	admin = make_user("Sales User")
	pool = make_pool(members=users, admins=[admin])
	frappe.db.set_value("Customer Pool Member", {"parent": pool, "user": admin}, "no_allocation", 1)
	return frappe._dict(users=users, admin=admin, pool=pool)


def test_round_robin_over_1000_customers_to_7_members_differs_by_at_most_one_and_resumes(team):
	names = bulk_pool_customers(team.pool, 2000)
	first, second = names[:1000], names[1000:]
	frappe.set_user(team.admin)

	result = allocator.allocate(first, allocation_model.ROUND_ROBIN)
	assert len(result.allocations) == 1000 and not result.unassigned
	got = counts(first, team.users)
	assert sum(got.values()) == 1000 and max(got.values()) - min(got.values()) <= 1
	pointer = frappe.db.get_value("Customer Pool", team.pool, "allocation_pointer")
	assert pointer == result.pointer and pointer in team.users

	allocator.allocate(second, allocation_model.ROUND_ROBIN)  # resumes after the pointer
	got2 = counts(second, team.users)
	assert max(got2.values()) - min(got2.values()) <= 1
	total = counts(names, team.users)
	assert sum(total.values()) == 2000 and max(total.values()) - min(total.values()) <= 1

	# the audit trail and ERPNext tell the same story, for every customer
	frappe.set_user("Administrator")
	logs = frappe.db.sql(
		"""SELECT pool_customer, to_user, by_user, rule, reason, action FROM `tabPool Log`
		WHERE pool_customer IN %(n)s""",
		{"n": first},
		as_dict=True,
	)
	assert len(logs) == 1000
	current = owners(first)
	assert all(
		log.action == ASSIGN
		and log.to_user == current[log.pool_customer]
		and log.by_user == team.admin
		and log.rule == "allocation: Round Robin"
		and "Round robin" in log.reason
		for log in logs
	)
	sample = first[:50]
	rows = frappe.db.sql(
		"""SELECT pc.name, pc.status, pc.owned_by, pc.owner_name, pc.claimed_at, l.lead_owner, l._assign,
			(SELECT COUNT(*) FROM `tabToDo` t WHERE t.reference_type = 'Lead' AND t.reference_name = l.name
				AND t.status = 'Open' AND t.allocated_to = pc.owned_by) AS todos
		FROM `tabPool Customer` pc JOIN `tabLead` l ON l.name = pc.lead WHERE pc.name IN %(n)s""",
		{"n": sample},
		as_dict=True,
	)
	for row in rows:
		assert row.status == OWNED and row.claimed_at and row.owner_name
		assert row.lead_owner == row.owned_by and json.loads(row._assign) == [row.owned_by]
		assert row.todos == 1


def test_load_balancing_evens_out_a_skewed_start(make_user):
	a, b, c = (make_user("Sales User") for _ in range(3))
	pool = make_pool(members=[a, b, c])
	bulk_pool_customers(pool, 10, owner=a)
	bulk_pool_customers(pool, 4, owner=b)
	names = bulk_pool_customers(pool, 16)

	result = allocator.allocate(names, allocation_model.LOAD_BALANCING)

	assert result.counts == {a: 0, b: 6, c: 10}
	assert {m.user: m.load for m in result.members} == {a: 10, b: 10, c: 10}
	assert all("fewest active customers" in x.reason for x in result.allocations)


def test_rule_based_sends_each_customer_to_a_matching_member_or_leaves_it_with_the_reason(make_user):
	east = make_territory(is_group=1)
	shanghai = make_territory(parent=east)
	south = make_territory()
	north = make_territory()
	industry = make_industry()
	a, b, c, d = (make_user("Sales User") for _ in range(4))
	pool = make_pool(
		members=[a, b, c],
		allocation_strategy=allocation_model.RULE_BASED,
		allocation_rules=[
			{"territory": east, "user": a},
			{"industry": industry, "user": b},
			{"territory": shanghai, "grade": "A", "user": c},  # more specific: wins for grade A
		],
	)
	frappe.get_doc("Customer Pool", pool).append("members", {"user": d, "territory": south}).save()
	[shanghai_a] = bulk_pool_customers(pool, 1, territory=shanghai, grade="A")
	[shanghai_b] = bulk_pool_customers(pool, 1, territory=shanghai, grade="B")
	[north_industry] = bulk_pool_customers(pool, 1, territory=north, industry=industry)
	[in_south] = bulk_pool_customers(pool, 1, territory=south)
	[nowhere] = bulk_pool_customers(pool, 1, territory=north, grade="C")

	result = allocator.allocate([shanghai_a, shanghai_b, north_industry, in_south, nowhere])

	assert result.strategy == allocation_model.RULE_BASED
	assert result.assigned == {shanghai_a: c, shanghai_b: a, north_industry: b, in_south: d}
	[left] = result.unassigned
	assert (
		left.pool_customer == nowhere and "Matches no allocation rule" in left.reason and north in left.reason
	)
	assert owners([nowhere])[nowhere] is None
	assert frappe.db.get_value("Pool Customer", nowhere, "status") == IN_POOL
	reason = frappe.db.get_value("Pool Log", {"pool_customer": shanghai_a, "action": ASSIGN}, "reason")
	assert shanghai in reason and "A" in reason


def test_score_based_picks_the_best_score_and_returns_its_parts(make_user):
	region = make_territory()
	a, b = make_user("Sales User"), make_user("Sales User")
	pool = make_pool(members=[a], allocation_strategy=allocation_model.SCORE_BASED)
	frappe.get_doc("Customer Pool", pool).append("members", {"user": b, "territory": region}).save()
	# a converted both customers taken on recently: conversion rate 1.0; b none
	for pc in bulk_pool_customers(pool, 2, owner=a):
		log_change(pc, ASSIGN, to_user=a)
		log_change(pc, CONVERT, from_user=a, to_user=a)
	[customer] = bulk_pool_customers(pool, 1, territory=region)

	result = allocator.allocate([customer], dry_run=True)

	[choice] = result.allocations
	assert choice.user == a
	assert choice.score["parts"]["conversion"] == 1.0 and choice.score["parts"]["region"] == 0.0
	by_user = {c["user"]: c for c in choice.candidates}
	assert by_user[b]["parts"]["region"] == 1.0 and by_user[b]["parts"]["conversion"] == 0.0
	assert by_user[a]["total"] > by_user[b]["total"] == choice.candidates[1]["total"]
	assert set(choice.score["parts"]) == {"conversion", "capacity", "experience", "region"}
	assert "Best score" in choice.reason and str(choice.score["total"]) in choice.reason
	assert owners([customer])[customer] is None  # a dry run writes nothing

	# the weights are the pool's: region alone decides now
	frappe.db.set_value(
		"Customer Pool",
		pool,
		{
			"score_weight_conversion": 0,
			"score_weight_capacity": 0,
			"score_weight_experience": 0,
			"score_weight_region": 1,
		},
	)
	result = allocator.allocate([customer])
	assert result.assigned == {customer: b}
	log = frappe.db.get_value(
		"Pool Log", {"pool_customer": customer, "action": ASSIGN}, ["to_user", "rule", "reason"], as_dict=True
	)
	assert log.to_user == b and log.rule == "allocation: Score Based" and "region match 1.0" in log.reason


def test_caps_hold_and_members_at_the_cap_are_skipped_with_the_reason(make_user):
	a, b, c = (make_user("Sales User") for _ in range(3))
	pool = make_pool(members=[a, b, c], max_owned=3)
	bulk_pool_customers(pool, 3, owner=a)
	names = bulk_pool_customers(pool, 7)

	result = allocator.allocate(names, allocation_model.ROUND_ROBIN)

	assert result.counts == {a: 0, b: 3, c: 3}
	summary = {m["user"]: m for m in result.as_dict()["members"]}
	assert "cap" in summary[a]["skipped"] and summary[a]["owned_after"] == 3
	assert "cap" in summary[b]["skipped"]
	[left] = result.unassigned
	assert "Every member is at the cap of 3" in left.reason
	assert frappe.db.get_value("Pool Customer", left.pool_customer, "status") == IN_POOL
	# nobody above the cap, counted from the database
	owned = dict(
		frappe.db.sql(
			"SELECT owned_by, COUNT(*) FROM `tabPool Customer` WHERE pool = %s AND owned_by IS NOT NULL GROUP BY owned_by",
			pool,
		)
	)
	assert owned == {a: 3, b: 3, c: 3}


def test_a_member_does_not_get_back_a_customer_given_up_within_the_cooldown(make_user):
	a, b = make_user("Sales User"), make_user("Sales User")
	pool = make_pool(members=[a, b], cooldown_days=7)
	pc = make_pool_customer(pool, owner=a)
	frappe.set_user(a)
	ownership.release(pc, "客户暂无需求")
	frappe.set_user("Administrator")
	frappe.db.set_value("Customer Pool", pool, "allocation_pointer", b)  # a's turn next

	result = allocator.allocate([pc], allocation_model.ROUND_ROBIN)

	assert result.assigned == {pc: b}


def test_customers_taken_meanwhile_are_left_out_with_the_reason(team):
	names = bulk_pool_customers(team.pool, 3)
	frappe.set_user(team.users[0])
	ownership.claim(names[1])
	frappe.set_user(team.admin)

	result = allocator.allocate(names)

	assert set(result.assigned) == {names[0], names[2]}
	[left] = result.unassigned
	assert left.pool_customer == names[1] and "Not in the pool" in left.reason
	assert owners([names[1]])[names[1]] == team.users[0]


def test_grade_a_customers_are_allocated_first_when_caps_bite(make_user):
	a = make_user("Sales User")
	pool = make_pool(members=[a], max_owned=2)
	names = bulk_pool_customers(pool, 3, grade="C") + bulk_pool_customers(pool, 2, grade="A")

	result = allocator.allocate(names, allocation_model.LOAD_BALANCING)

	assert set(result.assigned) == set(names[3:])  # the two grade A customers


def test_sales_users_cannot_allocate_and_a_pool_admin_previews_before_confirming(team):
	names = bulk_pool_customers(team.pool, 4)
	frappe.set_user(team.users[0])
	with pytest.raises(frappe.PermissionError):
		allocation_api.allocate(pool_customers=json.dumps(names), strategy=allocation_model.ROUND_ROBIN)
	with pytest.raises(frappe.PermissionError):
		allocation_api.allocate(pool=team.pool, filters={}, dry_run=1)
	with pytest.raises(frappe.PermissionError):
		allocator.allocate(names)
	assert set(owners(names).values()) == {None}

	frappe.set_user(team.admin)
	settings = allocation_api.allocation_settings(team.pool)
	assert {m["user"] for m in settings["members"] if m["default"]} == set(team.users)
	assert [m["default"] for m in settings["members"] if m["user"] == team.admin] == [False]
	preview = allocation_api.allocate(
		pool=team.pool, filters={"limit": 4}, strategy=allocation_model.LOAD_BALANCING, dry_run=1
	)
	assert preview["dry_run"] and preview["assigned_count"] == 4
	assert {row["pool_customer"] for row in preview["allocations"]} == set(names)
	assert all(row["user"] in team.users and row["reason"] for row in preview["allocations"])
	assert set(owners(names).values()) == {None}  # the preview wrote nothing
	assert not frappe.db.exists("Pool Log", {"pool_customer": ("in", names), "action": ASSIGN})

	done = allocation_api.allocate(
		pool_customers=names, strategy=allocation_model.LOAD_BALANCING, members=team.users[:2]
	)
	assert not done["dry_run"] and done["assigned_count"] == 4
	assert counts(names, team.users[:2]) == {team.users[0]: 2, team.users[1]: 2}


def test_members_must_be_sales_users_of_the_pool(team, make_user):
	outsider = make_user("Sales User")
	names = bulk_pool_customers(team.pool, 2)
	with pytest.raises(errors.PoolRuleError, match="not a member"):
		allocator.allocate(names, members=[outsider])
	with pytest.raises(errors.PoolRuleError, match="one pool at a time"):
		allocator.allocate([*names, *bulk_pool_customers(make_pool(members=team.users), 1)])


def test_a_large_batch_runs_as_a_background_job_with_the_same_outcome(team, run_jobs_now):
	names = bulk_pool_customers(team.pool, allocation_model.ENQUEUE_ABOVE + 20)
	frappe.set_user(team.admin)

	queued = allocation_api.allocate(pool_customers=names, strategy=allocation_model.ROUND_ROBIN)

	assert queued["queued"] and queued["count"] == len(names)
	got = counts(names, team.users)
	assert sum(got.values()) == len(names) and max(got.values()) - min(got.values()) <= 1
	frappe.set_user("Administrator")
	assert frappe.db.exists(
		"Notification Log", {"for_user": team.admin, "subject": ("like", "%Allocation finished%")}
	)
	assert frappe.db.exists(
		"Notification Log", {"for_user": team.users[0], "document_type": ("is", "not set")}
	)


def test_allocation_settings_are_validated_on_the_pool(make_user):
	a = make_user("Sales User")
	stranger = make_user("Sales User")
	with pytest.raises(errors.PoolRuleError, match="not a member"):
		make_pool(members=[a], allocation_rules=[{"territory": make_territory(), "user": stranger}])
	with pytest.raises(errors.PoolRuleError, match="cannot be negative"):
		make_pool(members=[a], score_weight_region=-1)
	pool = make_pool(members=[a])
	frappe.db.set_value("Customer Pool", pool, "allocation_pointer", a)
	doc = frappe.get_doc("Customer Pool", pool)
	doc.allocation_pointer = None  # an old copy in a form does not move the pointer
	doc.save()
	assert frappe.db.get_value("Customer Pool", pool, "allocation_pointer") == a


def test_the_score_inputs_come_from_the_last_90_days(make_user):
	a = make_user("Sales User")
	pool = make_pool(members=[a])
	old, recent = bulk_pool_customers(pool, 2, owner=a)
	log_change(old, ASSIGN, to_user=a, at=add_days(now_datetime(), -200))
	log_change(old, CONVERT, from_user=a, to_user=a, at=add_days(now_datetime(), -150))
	log_change(recent, ASSIGN, to_user=a)
	[member] = allocation_team.candidates(pool)
	allocation_team.load_score_inputs([member])
	assert (member.received_recently, member.converted_recently, member.conversion) == (1, 0, 0.0)


def test_an_allocation_racing_with_claims_leaves_every_customer_one_owner():
	"""A bulk allocation and claims of the same customers, each in its own connection, at once: the pool
	row then the customers are locked in the same order everywhere, so no deadlock, and each customer
	ends with exactly one owner and one ownership log entry."""
	from tests.conftest import connect, real_commit
	from tests.factories import new_user, purge

	members = [new_user("Sales User") for _ in range(3)]
	claimers = [new_user("Sales User") for _ in range(4)]
	pool = make_pool(members=members + claimers)
	names = bulk_pool_customers(pool, 120)
	real_commit()
	outcome: dict[str, object] = {}
	barrier = threading.Barrier(1 + len(claimers))

	def run(key: str, work) -> None:
		connect()
		try:
			barrier.wait(timeout=60)
			outcome[key] = work()
			frappe.db.commit()
		except Exception as e:
			frappe.db.rollback()
			outcome[key] = e
		finally:
			frappe.destroy()

	def allocate_all():
		return allocator.allocate(names, allocation_model.ROUND_ROBIN, members)

	def claim_some(user: str, mine: list[str]):
		def work():
			frappe.set_user(user)
			got = []
			for pc in mine:
				try:
					ownership.claim(pc)
					frappe.db.commit()
					got.append(pc)
				except errors.PoolRuleError:
					frappe.db.rollback()
			return got

		return work

	threads = [threading.Thread(target=run, args=("allocation", allocate_all))] + [
		threading.Thread(target=run, args=(user, claim_some(user, names[i::7][:10])))
		for i, user in enumerate(claimers)
	]
	try:
		for t in threads:
			t.start()
		for t in threads:
			t.join(timeout=180)
		result = outcome["allocation"]
		assert isinstance(result, allocation_model.AllocationResult), result
		claimed = {pc: user for user in claimers for pc in outcome[user]}
		frappe.db.rollback()
		final = owners(names)
		assert all(final[pc] for pc in names)  # nobody left out: claimed or allocated
		assert {pc: final[pc] for pc in claimed} == claimed
		assert result.assigned == {pc: u for pc, u in final.items() if pc not in claimed}
		assert {a.pool_customer for a in result.unassigned} == set(claimed)
		entries = frappe.db.sql(
			"""SELECT pool_customer, COUNT(*) FROM `tabPool Log` WHERE pool_customer IN %(n)s
			AND action IN ('Claim', 'Assign') GROUP BY pool_customer""",
			{"n": names},
		)
		assert len(entries) == len(names) and {count for _pc, count in entries} == {1}
	finally:
		frappe.db.rollback()
		frappe.db.sql("DELETE FROM `tabNotification Log` WHERE for_user IN %s", (members + claimers,))
		purge(pool, members + claimers)
		real_commit()


def test_a_customer_party_gets_its_account_manager_and_stays_converted(make_user):
	a = make_user("Sales User")
	pool = make_pool(members=[a])
	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": f"苏州{frappe.generate_hash(length=6)}环保科技有限公司",
			"customer_type": "Company",
			"customer_group": frappe.db.get_value("Customer Group", {"is_group": 0}),
		}
	)
	customer.flags.pool = pool
	customer.insert()
	pc = frappe.db.get_value("Pool Customer", {"customer": customer.name})
	assert frappe.db.get_value("Pool Customer", pc, "status") == IN_POOL

	allocator.allocate([pc])

	assert frappe.db.get_value("Pool Customer", pc, ["status", "owned_by"]) == ("Converted", a)
	assert frappe.db.get_value("Customer", customer.name, "account_manager") == a
	assert json.loads(frappe.db.get_value("Customer", customer.name, "_assign")) == [a]


def test_experience_counts_from_the_employees_date_of_joining(make_user):
	veteran, newcomer = make_user("Sales User"), make_user("Sales User")
	pool = make_pool(members=[veteran, newcomer], allocation_strategy=allocation_model.SCORE_BASED)
	frappe.get_doc(
		{
			"doctype": "Employee",
			"first_name": "老销售",
			"gender": frappe.db.get_value("Gender", {}),
			"date_of_birth": "1985-05-01",
			"date_of_joining": add_days(now_datetime(), -4 * 365).date(),
			"company": frappe.defaults.get_global_default("company"),
			"user_id": veteran,
			"status": "Active",
		}
	).insert(ignore_permissions=True)
	frappe.db.set_value(
		"Customer Pool",
		pool,
		{
			"score_weight_conversion": 0,
			"score_weight_capacity": 0,
			"score_weight_experience": 1,
			"score_weight_region": 0,
		},
	)
	[customer] = bulk_pool_customers(pool, 1)

	[choice] = allocator.allocate([customer], dry_run=True).allocations

	parts = {c["user"]: c["parts"]["experience"] for c in choice.candidates}
	assert choice.user == veteran and parts == {veteran: 1.0, newcomer: 0.0}


def test_rule_based_by_product_line_follows_the_item_group_tree(make_user):
	"""业务线: a rule on a product line (Item Group) takes its sub-groups too."""
	line = frappe.get_doc(
		{
			"doctype": "Item Group",
			"item_group_name": f"危废处置-{frappe.generate_hash(length=6)}",
			"is_group": 1,
		}
	).insert(ignore_permissions=True)
	sub = frappe.get_doc(
		{
			"doctype": "Item Group",
			"item_group_name": f"医废-{frappe.generate_hash(length=6)}",
			"parent_item_group": line.name,
		}
	).insert(ignore_permissions=True)
	a, b = make_user("Sales User"), make_user("Sales User")
	pool = make_pool(
		members=[a, b],
		allocation_strategy=allocation_model.RULE_BASED,
		allocation_rules=[{"product_line": line.name, "user": b}],
	)
	[waste] = bulk_pool_customers(pool, 1, product_line=sub.name)
	[other] = bulk_pool_customers(pool, 1)
	result = allocator.allocate([waste, other])
	assert result.assigned == {waste: b}
	[left] = result.unassigned
	assert left.pool_customer == other and "Matches no allocation rule" in left.reason
