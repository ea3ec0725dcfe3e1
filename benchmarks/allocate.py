"""Benchmark: bulk allocation (调配) of 10,000 pool customers, next to Frappe's own Assignment Rule
(round robin) assigning the same leads through its usual path (SPEC §3, §8).

    cd frappe-bench/sites && ../env/bin/python ../apps/crm_pool/benchmarks/allocate.py SITE \
        [--customers 10000] [--members 7] [--strategies "Round Robin,Load Balancing,Rule Based,Score Based"] \
        [--frappe-sample 0]

Creates (and removes afterwards) `--members` sales users, each covering a territory of its own, a
pool with them as members, and `--customers` leads with their in-pool Pool Customers (set-based,
spread over the territories and grades A/B/C).

1. crm_pool: `crm_pool.allocation.allocate.allocate(all customers, strategy)` once per strategy, each
   timed with its commit: locks, plan in memory, Pool Log (INSERT … SELECT), pool customers,
   Lead.lead_owner, ToDo rows and `_assign` (set-based), recycle due dates, one notification per
   member. The invariants are checked, then everything is reset for the next run.
2. Frappe: an Assignment Rule (Round Robin over the same users, for exactly these leads) and
   `frappe.automation.doctype.assignment_rule.assignment_rule.apply(doc)` per lead, as Frappe runs
   it on every save (`doc_events` "*" on_update): rule look-up, `assign_to.add` (ToDo insert with
   its hooks, `_assign`, the assignment comment), `last_user` update, and the commit that ends the
   save's request. Loading each lead is not timed (on save the document is in memory already).
   `--frappe-sample N` times N leads and extrapolates.

Both runs have notifications switched off for the benchmark users (Notification Settings), so
neither pays for system notifications; mail is muted (frappe.flags.in_test).
"""

from __future__ import annotations

import argparse
import os
import time
import uuid

import frappe

STRATEGIES = ("Round Robin", "Load Balancing", "Rule Based", "Score Based")


def connect(site: str) -> None:
	frappe.init(site=site, sites_path=os.getcwd())
	frappe.connect()
	frappe.flags.in_test = True  # no outbound look-ups, no mails
	frappe.set_user("Administrator")


def set_up(customers: int, members: int) -> frappe._dict:
	"""Territories, users, a pool and its customers, inserted set-based and committed."""
	from crm_pool.bulk_demo import insert_pool_customers, insert_sales_users

	tag = uuid.uuid4().hex[:6]
	root = frappe.db.get_value("Territory", {"parent_territory": ("in", ("", None))}, "name")
	territories = [
		frappe.get_doc(
			{"doctype": "Territory", "territory_name": f"压测区域{tag}-{i}", "parent_territory": root}
		)
		.insert(ignore_permissions=True)
		.name
		for i in range(members)
	]
	users = insert_sales_users(f"alloc-{tag}", members, notifications=False)
	pool = frappe.get_doc(
		{
			"doctype": "Customer Pool",
			"pool_name": f"分配压测公海-{tag}",
			"require_review": 0,
			"members": [{"user": u, "territory": t} for u, t in zip(users, territories, strict=True)],
		}
	).insert(ignore_permissions=True)
	pcs, leads = insert_pool_customers(
		pool.name,
		customers,
		prefix=f"BENCHA-{tag}",
		row_fields=lambda i: {"territory": territories[i % members], "grade": "ABC"[i % 3]},
	)
	frappe.db.commit()
	return frappe._dict(tag=tag, users=users, pool=pool.name, pcs=pcs, leads=leads, territories=territories)


def reset(made: frappe._dict) -> None:
	"""Back to the start: every customer in the pool, no owners, no assignments, no logs of the runs."""
	like = f"BENCHA-{made.tag}-%"
	frappe.db.sql("DELETE FROM `tabPool Log` WHERE pool = %s AND action = 'Assign'", made.pool)
	frappe.db.sql(
		"""UPDATE `tabPool Customer` SET status = 'In Pool', owned_by = NULL, owner_name = NULL,
		claimed_at = NULL, recycle_due_at = NULL WHERE pool = %s""",
		made.pool,
	)
	frappe.db.sql("UPDATE `tabLead` SET lead_owner = NULL, _assign = NULL WHERE name LIKE %s", like)
	frappe.db.sql("DELETE FROM `tabToDo` WHERE reference_type = 'Lead' AND reference_name LIKE %s", like)
	frappe.db.sql(
		"DELETE FROM `tabComment` WHERE reference_doctype = 'Lead' AND reference_name LIKE %s", like
	)
	frappe.db.sql("DELETE FROM `tabNotification Log` WHERE for_user IN %s", (made.users,))
	frappe.db.sql("UPDATE `tabCustomer Pool` SET allocation_pointer = NULL WHERE name = %s", made.pool)
	frappe.db.commit()


def tear_down(made: frappe._dict) -> None:
	reset(made)
	frappe.db.sql("DELETE FROM `tabAssignment Rule User` WHERE parent LIKE %s", f"分配压测-{made.tag}%")
	frappe.db.sql("DELETE FROM `tabAssignment Rule` WHERE name LIKE %s", f"分配压测-{made.tag}%")
	frappe.db.sql("DELETE FROM `tabPool Log` WHERE pool = %s", made.pool)
	frappe.db.sql("DELETE FROM `tabPool Customer` WHERE pool = %s", made.pool)
	frappe.db.sql("DELETE FROM `tabLead` WHERE name LIKE %s", f"BENCHA-{made.tag}-%")
	frappe.db.sql("DELETE FROM `tabCustomer Pool Member` WHERE parent = %s", made.pool)
	frappe.db.sql("DELETE FROM `tabCustomer Pool` WHERE name = %s", made.pool)
	frappe.db.sql("DELETE FROM `tabNotification Settings` WHERE name IN %s", (made.users,))
	frappe.db.sql("DELETE FROM `tabHas Role` WHERE parent IN %s", (made.users,))
	frappe.db.sql("DELETE FROM `tabUser` WHERE name IN %s", (made.users,))
	frappe.db.commit()
	for territory in made.territories:
		frappe.delete_doc("Territory", territory, force=True, ignore_permissions=True)
	frappe.clear_cache(doctype="Assignment Rule")
	frappe.db.commit()


def run_crm_pool(made: frappe._dict, strategy: str) -> float:
	from crm_pool.allocation.allocate import allocate

	t0 = time.perf_counter()
	result = allocate(made.pcs, strategy)
	frappe.db.commit()
	seconds = time.perf_counter() - t0

	given = result.counts
	owned = dict(
		frappe.db.sql(
			"SELECT owned_by, COUNT(*) FROM `tabPool Customer` WHERE pool = %s AND owned_by IS NOT NULL GROUP BY owned_by",
			made.pool,
		)
	)
	logs = frappe.db.sql(
		"SELECT COUNT(*) FROM `tabPool Log` WHERE pool = %s AND action = 'Assign'", made.pool
	)[0][0]
	todos = frappe.db.sql(
		"SELECT COUNT(*) FROM `tabToDo` WHERE reference_type = 'Lead' AND reference_name LIKE %s AND status = 'Open'",
		f"BENCHA-{made.tag}-%",
	)[0][0]
	mirrored = frappe.db.sql(
		"""SELECT COUNT(*) FROM `tabPool Customer` pc JOIN `tabLead` l ON l.name = pc.lead
		WHERE pc.pool = %s AND l.lead_owner = pc.owned_by AND l._assign LIKE CONCAT('%%', pc.owned_by, '%%')""",
		made.pool,
	)[0][0]
	assigned = len(result.allocations)
	print(
		f"crm_pool {strategy:<15} {seconds:7.2f} s  {assigned} assigned, {len(result.unassigned)} left; "
		f"per member {min(given.values())}–{max(given.values())}; log entries {logs}, open ToDos {todos}, "
		f"Lead owner + _assign mirrored {mirrored}"
	)
	assert owned == {u: n for u, n in given.items() if n} and logs == todos == mirrored == assigned
	if strategy == "Round Robin":
		assert max(given.values()) - min(given.values()) <= 1
	reset(made)
	return seconds


def run_frappe_assignment_rule(made: frappe._dict, sample: int) -> tuple[float, int]:
	"""Frappe's Assignment Rule, Round Robin over the same users, applied per lead as on save."""
	from frappe.automation.doctype.assignment_rule.assignment_rule import apply

	rule = frappe.get_doc(
		{
			"doctype": "Assignment Rule",
			"name": f"分配压测-{made.tag}",
			"document_type": "Lead",
			"rule": "Round Robin",
			"priority": 99,
			"description": "分配压测",
			"assign_condition": f"name.startswith('BENCHA-{made.tag}-')",
			"users": [{"user": u} for u in made.users],
			"assignment_days": [
				{"day": day}
				for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
			],
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	leads = made.leads[:sample] if sample else made.leads
	try:
		seconds = 0.0
		for name in leads:
			doc = frappe.get_doc("Lead", name)  # a saved document is in memory already: not timed
			t0 = time.perf_counter()
			apply(doc)
			frappe.db.commit()  # each save is a request of its own, with its own transaction
			seconds += time.perf_counter() - t0
		counts = dict(
			frappe.db.sql(
				"""SELECT allocated_to, COUNT(*) FROM `tabToDo` WHERE reference_type = 'Lead'
				AND reference_name LIKE %s AND status = 'Open' GROUP BY allocated_to""",
				f"BENCHA-{made.tag}-%",
			)
		)
		print(
			f"Frappe Assignment Rule (Round Robin) {seconds:7.2f} s for {len(leads)} leads "
			f"({seconds / len(leads) * 1000:.1f} ms each); per user {min(counts.values())}–{max(counts.values())}, "
			f"ToDos {sum(counts.values())}"
		)
		assert sum(counts.values()) == len(leads)
	finally:
		frappe.db.rollback()
		frappe.delete_doc("Assignment Rule", rule.name, force=True, ignore_permissions=True)
		frappe.db.commit()
		reset(made)
	return seconds, len(leads)


def main() -> None:
	parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	parser.add_argument("site")
	parser.add_argument("--customers", type=int, default=10000)
	parser.add_argument("--members", type=int, default=7)
	parser.add_argument("--strategies", default=",".join(STRATEGIES))
	parser.add_argument(
		"--frappe-sample", type=int, default=0, help="time this many leads and extrapolate (0: all)"
	)
	args = parser.parse_args()

	connect(args.site)
	t0 = time.perf_counter()
	made = set_up(args.customers, args.members)
	print(
		f"set-up: {args.customers} leads + pool customers, {args.members} members in {time.perf_counter() - t0:.1f} s"
	)
	try:
		times = {s: run_crm_pool(made, s) for s in args.strategies.split(",") if s}
		frappe_seconds, done = run_frappe_assignment_rule(made, args.frappe_sample)
		frappe_total = frappe_seconds * len(made.leads) / done
		if done < len(made.leads):
			print(f"Frappe extrapolated to {len(made.leads)} leads: {frappe_total:.1f} s")
		for strategy, seconds in times.items():
			print(
				f"{strategy}: crm_pool {seconds:.2f} s vs Frappe Assignment Rule {frappe_total:.1f} s "
				f"for {len(made.leads)} customers: {frappe_total / seconds:.0f}x"
			)
	finally:
		tear_down(made)
		frappe.destroy()


if __name__ == "__main__":
	main()
