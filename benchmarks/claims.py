"""Benchmark: many clients claiming the same pool customers at once (SPEC §8).

    cd frappe-bench/sites && ../env/bin/python ../apps/crm_pool/benchmarks/claims.py SITE \
        [--clients 50] [--customers 1000] [--cap 40]

Creates (and removes afterwards) a pool with `--customers` in-pool customers and `--clients` sales
users, each capped at `--cap` customers. Every client runs in its own process (as web workers do) with its own database
connection and tries to claim every customer, in its own random order, as fast as it can. Prints
claim latency percentiles (successes and refusals alike), throughput, and checks the invariants:
no customer has two owners or two claim log entries, no client exceeds the cap.
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
	frappe.db.sql("DELETE FROM `tabPool Customer` WHERE pool = %s", made.pool)
	frappe.db.sql("DELETE FROM `tabPool Claim Counter` WHERE pool = %s", made.pool)
	frappe.db.sql("DELETE FROM `tabLead` WHERE name IN %s", (made.leads,))
	frappe.db.sql("DELETE FROM `tabHas Role` WHERE parent IN %s", (made.users,))
	frappe.db.sql("DELETE FROM `tabUser` WHERE name IN %s", (made.users,))
	frappe.db.sql("DELETE FROM `tabCustomer Pool Member` WHERE parent = %s", made.pool)
	frappe.db.sql("DELETE FROM `tabCustomer Pool` WHERE name = %s", made.pool)
	frappe.db.commit()


def run_client(site: str, user: str, pcs: list[str], seed: int, results, start) -> None:
	from crm_pool.core.errors import PoolRuleError
	from crm_pool.pool import ownership

	connect(site)
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


def percentile(values: list[float], p: float) -> float:
	values = sorted(values)
	return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main() -> None:
	parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	parser.add_argument("site")
	parser.add_argument("--clients", type=int, default=50)
	parser.add_argument("--customers", type=int, default=1000)
	parser.add_argument("--cap", type=int, default=40)
	args = parser.parse_args()

	connect(args.site)
	made = set_up(args.clients, args.customers, args.cap)
	frappe.destroy()
	latencies: list[float] = []
	outcomes: list[str] = []
	ctx = multiprocessing.get_context("fork")
	start, results = ctx.Barrier(args.clients + 1), ctx.Queue()
	procs = [
		ctx.Process(target=run_client, args=(args.site, u, made.pcs, i, results, start))
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
			f"clients {args.clients}, customers {args.customers}, cap {args.cap}: {len(latencies)} claim attempts in {wall:.1f} s "
			f"({len(latencies) / wall:.0f}/s)"
		)
		print(
			f"outcomes: {outcomes.count('claimed')} claimed, {outcomes.count('taken')} already taken, {outcomes.count('cap')} over cap"
		)
		print(
			f"latency ms: p50 {percentile(latencies, 50) * 1000:.1f}  p95 {percentile(latencies, 95) * 1000:.1f}  "
			f"p99 {percentile(latencies, 99) * 1000:.1f}  max {max(latencies) * 1000:.1f}  mean {statistics.mean(latencies) * 1000:.1f}"
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
