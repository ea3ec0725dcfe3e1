"""Benchmark: the set-based return-visit planner (回访) next to a loop that plans the same visits one
document at a time.

Run it from the bench's sites directory with the bench's Python, against a site of its own (it
writes up to N leads and pool customers there; never the test site):

    cd frappe-bench/sites
    ../env/bin/python ../apps/crm_pool/benchmarks/visits.py --site SITE --count 100000 [--sample 200]

Steps: make the bulk data hold N pool customers (`crm_pool.bulk_demo`, reused across runs), put them
into their reference state (about 45% owned or locked), give them grades A/B/C (a function of the
name), remove the visits and Events of earlier runs, time the daily job `visits.run_daily()` (exclusive
managers by default, then one open visit per owned customer with its Event, committed), time a second
run (it must plan nothing), remove the visits, then time a loop over a sample of the same customers
that plans each visit through the ORM (load the customer, look for an open visit, insert the Return
Visit with `doc.insert()`, whose on_update adds its Event), and print the per-customer times and their ratio. The
visits and Events are removed at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import frappe
from frappe.utils import add_days, getdate, nowdate


def connect(site: str) -> None:
	frappe.init(site=site, sites_path=os.getcwd())
	frappe.connect()
	frappe.set_user("Administrator")


def clear_visits() -> None:
	"""Remove the bulk customers' visits and their Events (set-based)."""
	from crm_pool import bulk_demo

	like = {"p": bulk_demo.PC_PREFIX + "%"}
	frappe.db.sql(
		"""DELETE ep FROM `tabEvent Participants` ep JOIN `tabReturn Visit` rv ON ep.parent = rv.event
		WHERE rv.pool_customer LIKE %(p)s""",
		like,
	)
	frappe.db.sql(
		"""DELETE ev FROM `tabEvent` ev JOIN `tabReturn Visit` rv ON ev.name = rv.event
		WHERE rv.pool_customer LIKE %(p)s""",
		like,
	)
	frappe.db.sql("DELETE FROM `tabReturn Visit` WHERE pool_customer LIKE %(p)s", like)
	frappe.db.commit()


def reset() -> None:
	from crm_pool import bulk_demo

	bulk_demo.apply_state()
	frappe.db.sql(
		"""UPDATE `tabPool Customer` SET grade = ELT(1 + CRC32(name) %% 3, 'A', 'B', 'C'), exclusive_manager = NULL
		WHERE name LIKE %(p)s""",
		{"p": bulk_demo.PC_PREFIX + "%"},
	)
	frappe.db.sql(
		"DELETE FROM `tabPool Log` WHERE pool_customer LIKE %(p)s AND action = 'Exclusive Manager'",
		{"p": bulk_demo.PC_PREFIX + "%"},
	)
	clear_visits()


def plan_one_by_one(name: str, interval: dict) -> bool:
	"""The same plan for one customer through the ORM: what a naive job does for each customer."""
	pc = frappe.get_doc("Pool Customer", name)
	days = interval.get(pc.grade)
	if not pc.owned_by or not days or frappe.db.exists("Return Visit", {"open_key": pc.name}):
		return False
	planned = max(getdate(nowdate()), getdate(add_days(pc.claimed_at or pc.creation, days)))
	visit = frappe.get_doc(
		{
			"doctype": "Return Visit",
			"pool_customer": pc.name,
			"planned_date": planned,
			"assigned_to": pc.exclusive_manager or pc.owned_by,
		}
	)
	visit.flags.ignore_permissions = True
	visit.insert()
	return True


def main() -> None:
	parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	parser.add_argument("--site", default=os.environ.get("CRM_POOL_BENCH_SITE"))
	parser.add_argument("--count", type=int, default=100_000)
	parser.add_argument("--sample", type=int, default=200)
	opts = parser.parse_args()
	if not opts.site:
		sys.exit("give --site (or CRM_POOL_BENCH_SITE): a site of its own, never the test site")
	connect(opts.site)
	from crm_pool import bulk_demo
	from crm_pool.grading import service, visits

	service.ensure_policy()
	bulk_demo.make_bulk(opts.count)
	reset()
	owned = frappe.db.sql(
		"SELECT COUNT(*) FROM `tabPool Customer` WHERE name LIKE %(p)s AND owned_by IS NOT NULL",
		{"p": bulk_demo.PC_PREFIX + "%"},
	)[0][0]

	started = time.monotonic()
	first = visits.run_daily()
	frappe.db.commit()
	first_s = time.monotonic() - started
	started = time.monotonic()
	second = visits.run_daily()
	frappe.db.commit()
	second_s = time.monotonic() - started

	reset()
	interval = {g: row.visit_interval_days for g, row in service.policy().items()}
	sample = frappe.db.sql_list(
		"""SELECT name FROM `tabPool Customer` WHERE name LIKE %(p)s AND owned_by IS NOT NULL
		ORDER BY name LIMIT %(n)s""",
		{"p": bulk_demo.PC_PREFIX + "%", "n": opts.sample},
	)
	started = time.monotonic()
	looped = sum(plan_one_by_one(name, interval) for name in sample)
	frappe.db.commit()
	loop_s = time.monotonic() - started
	clear_visits()

	per_set = first_s / max(first["planned"], 1)
	per_loop = loop_s / max(looped, 1)
	print(f"pool customers: {opts.count:,}; owned: {owned:,}")
	print(
		f"run_daily: {first['planned']:,} visits planned, {first['exclusive_managers']:,} exclusive managers defaulted in {first_s:.1f} s"
	)
	print(f"second run: {second['planned']:,} planned (no duplicates) in {second_s:.1f} s")
	print(f"ORM loop: {looped} visits in {loop_s:.2f} s ({per_loop * 1000:.2f} ms each, with its Event)")
	print(
		f"per customer: set-based {per_set * 1000:.3f} ms, ORM loop {per_loop * 1000:.2f} ms: {per_loop / per_set:.0f}x"
	)
	frappe.destroy()


if __name__ == "__main__":
	main()
