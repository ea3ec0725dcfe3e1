"""Benchmark: many clients claiming the same pool customers at once (SPEC §8).

    cd frappe-bench/sites && ../env/bin/python ../apps/crm_pool/benchmarks/claims.py SITE \
        [--clients 50] [--customers 1000] [--cap 40] [--path new|serialized]

Creates (and removes afterwards) a pool with `--customers` in-pool customers and `--clients` sales
users, each capped at `--cap` customers. Every client runs in its own process (as web workers do) with its own database
connection and tries to claim every customer, in its own random order, as fast as it can. Prints
claim latency percentiles (all attempts, then successful claims and refusals apart), throughput,
the server's row lock waits and deadlocks meanwhile, and checks the invariants: no customer has two
owners or two claim log entries, no client exceeds the cap.

`--path` chooses the claim path in the client processes as the site config key
`crm_pool_claim_path` does (default: whatever the site's config says): `new` (claims of one pool
in parallel) or `serialized` (the old path: the pool's row locked exclusively, `assign_to.add`).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import time
import uuid

import frappe


def connect(site: str) -> None:
	frappe.init(site=site, sites_path=os.getcwd())
	frappe.connect()
	frappe.flags.in_test = True  # no outbound look-ups, no mails


def set_up(clients: int, customers: int, cap: int) -> frappe._dict:
	"""Users, a pool and its customers, inserted set-based and committed."""
	from crm_pool.bulk_demo import insert_pool_customers, insert_sales_users

	tag = uuid.uuid4().hex[:6]
	users = insert_sales_users(f"bench-{tag}", clients)
	pool = frappe.get_doc(
		{
			"doctype": "Customer Pool",
			"pool_name": f"压测公海-{tag}",
			"require_review": 0,
			"max_owned": cap,
			"members": [{"user": u} for u in users],
		}
	).insert(ignore_permissions=True)
	pcs, leads = insert_pool_customers(pool.name, customers, prefix=f"CLAIMS{tag}")
	frappe.db.commit()
	return frappe._dict(tag=tag, users=users, pool=pool.name, pcs=pcs, leads=leads)


def tear_down(made: frappe._dict) -> None:
	frappe.db.sql("DELETE FROM `tabPool Log` WHERE pool = %s", made.pool)
	frappe.db.sql(
		"DELETE FROM `tabToDo` WHERE reference_type = 'Lead' AND reference_name IN %s", (made.leads,)
	)
	frappe.db.sql(
		"DELETE FROM `tabComment` WHERE reference_doctype = 'Lead' AND reference_name IN %s", (made.leads,)
	)
	frappe.db.sql("DELETE FROM `tabPool Customer` WHERE pool = %s", made.pool)
	frappe.db.sql("DELETE FROM `tabPool Claim Counter` WHERE pool = %s", made.pool)
	frappe.db.sql("DELETE FROM `tabLead` WHERE name IN %s", (made.leads,))
	frappe.db.sql("DELETE FROM `tabHas Role` WHERE parent IN %s", (made.users,))
	frappe.db.sql("DELETE FROM `tabUser` WHERE name IN %s", (made.users,))
	frappe.db.sql("DELETE FROM `tabCustomer Pool Member` WHERE parent = %s", made.pool)
	frappe.db.sql("DELETE FROM `tabCustomer Pool` WHERE name = %s", made.pool)
	frappe.db.commit()


def use_path(path: str | None) -> None:
	"""The claim path of this process, as the site config key would choose it."""
	from crm_pool.pool.locking import CLAIM_PATH_KEY

	if path:
		frappe.conf[CLAIM_PATH_KEY] = path


def run_client(site: str, user: str, pcs: list[str], seed: int, results, start, path) -> None:
	from crm_pool.core.errors import PoolRuleError
	from crm_pool.pool import ownership

	connect(site)
	use_path(path)
	frappe.set_user(user)
	order = pcs[:]
	random.Random(seed).shuffle(order)
	latencies, outcomes = [], []
	start.wait()
	try:
		for pc in order:
			t0 = time.perf_counter()
			try:
				ownership.claim(pc, own_transaction=True)  # as the API's claim
				frappe.db.commit()
				outcome = "claimed"
			except PoolRuleError as e:
				frappe.db.rollback()
				outcome = "cap" if "the most allowed" in str(e) else "taken"
			latencies.append(time.perf_counter() - t0)
			outcomes.append(outcome)
			frappe.local.message_log = []
	finally:
		results.put((latencies, outcomes))
		frappe.destroy()


def lock_status() -> dict[str, int]:
	"""The server's counters of row lock waits, the time waited (ms) and deadlocks."""
	rows = frappe.db.sql(
		"""SHOW GLOBAL STATUS WHERE Variable_name IN
		('Innodb_row_lock_waits', 'Innodb_row_lock_time', 'Innodb_deadlocks')"""
	)
	return {name: int(value) for name, value in rows}


def summary(values: list[float]) -> str:
	if not values:
		return "none"
	return (
		f"p50 {percentile(values, 50) * 1000:.1f}  p95 {percentile(values, 95) * 1000:.1f}  "
		f"p99 {percentile(values, 99) * 1000:.1f}  max {max(values) * 1000:.1f}  "
		f"mean {statistics.mean(values) * 1000:.1f}  (n {len(values)})"
	)


def percentile(values: list[float], p: float) -> float:
	values = sorted(values)
	return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main() -> None:
	parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	parser.add_argument("site")
	parser.add_argument("--clients", type=int, default=50)
	parser.add_argument("--customers", type=int, default=1000)
	parser.add_argument("--cap", type=int, default=40)
	parser.add_argument("--path", choices=["new", "serialized"], help="default: the site config's")
	args = parser.parse_args()

	connect(args.site)
	use_path(args.path)
	from crm_pool.pool.locking import serialized_claims

	path = "serialized" if serialized_claims() else "new"
	made = set_up(args.clients, args.customers, args.cap)
	locks_before = lock_status()
	frappe.destroy()
	latencies: list[float] = []
	outcomes: list[str] = []
	ctx = multiprocessing.get_context("fork")
	start, results = ctx.Barrier(args.clients + 1), ctx.Queue()
	procs = [
		ctx.Process(target=run_client, args=(args.site, u, made.pcs, i, results, start, args.path))
		for i, u in enumerate(made.users)
	]
	for p in procs:
		p.start()
	start.wait()
	t0 = time.perf_counter()
	for _ in procs:
		lat, out = results.get()
		latencies += lat
		outcomes += out
	wall = time.perf_counter() - t0
	for p in procs:
		p.join()

	connect(args.site)
	try:
		locks = {k: v - locks_before.get(k, 0) for k, v in lock_status().items()}
		owners = frappe.db.sql(
			"SELECT owned_by, COUNT(*) FROM `tabPool Customer` WHERE pool = %s AND owned_by IS NOT NULL GROUP BY owned_by",
			made.pool,
		)
		double = frappe.db.sql(
			"SELECT pool_customer FROM `tabPool Log` WHERE pool = %s AND action = 'Claim' GROUP BY pool_customer HAVING COUNT(*) > 1",
			made.pool,
		)
		claimed = sum(n for _, n in owners)
		print(
			f"path {path}; clients {args.clients}, customers {args.customers}, cap {args.cap}: "
			f"{len(latencies)} claim attempts in {wall:.1f} s ({len(latencies) / wall:.0f}/s)"
		)
		print(
			f"outcomes: {outcomes.count('claimed')} claimed, {outcomes.count('taken')} already taken, {outcomes.count('cap')} over cap"
		)
		print(f"latency ms, all attempts: {summary(latencies)}")
		timed = list(zip(latencies, outcomes, strict=True))
		print(f"latency ms, claimed: {summary([t for t, o in timed if o == 'claimed'])}")
		print(f"latency ms, refused: {summary([t for t, o in timed if o != 'claimed'])}")
		print(
			f"row lock waits (server-wide) {locks['Innodb_row_lock_waits']}, "
			f"time waited {locks['Innodb_row_lock_time'] / 1000:.1f} s, deadlocks {locks['Innodb_deadlocks']}"
		)
		print(
			f"invariants: customers owned {claimed} (claims logged once each: {not double}), "
			f"most owned by one client {max((n for _, n in owners), default=0)} (cap {args.cap})"
		)
		assert not double and claimed == outcomes.count("claimed") and all(n <= args.cap for _, n in owners)
	finally:
		tear_down(made)
		frappe.destroy()


if __name__ == "__main__":
	main()
