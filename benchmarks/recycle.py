"""Benchmark: the set-based recycle job next to a loop of doc.save() applying the same rule.

Run it from the bench's sites directory with the bench's Python, against a site of its own (it
writes up to N leads and pool customers there; never the test site):

    cd frappe-bench/sites
    ../env/bin/python ../apps/crm_pool/benchmarks/recycle.py --site SITE --count 100000 [--sample 200]

The site may also come from CRM_POOL_BENCH_SITE. Steps: make the bulk data hold N pool customers
(`crm_pool.bulk_demo`, set-based, reused across runs), put them into their reference state, time
`send_reminders()` and `recycle_due()` (committed, as the daily job does), put them back, then time
a loop that recycles a sample of the same due customers one document at a time (load, check the
rule and the exemptions, write the log entry, clear the ERPNext owner, `doc.save()`), and print the
per-row times and their ratio. The data is left in its reference state (`--clear` removes it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import frappe
from frappe.utils import add_days, get_datetime, now_datetime


def connect(site: str) -> None:
	frappe.init(site=site, sites_path=os.getcwd())
	frappe.connect()
	frappe.set_user("Administrator")


def reset() -> float:
	"""Bulk data back to its reference state; drop the log entries of earlier runs. Returns seconds."""
	from crm_pool import bulk_demo

	started = time.monotonic()
	frappe.db.sql(
		"DELETE FROM `tabPool Log` WHERE pool_customer LIKE %(p)s", {"p": bulk_demo.PC_PREFIX + "%"}
	)
	bulk_demo.apply_state()
	frappe.db.commit()
	return time.monotonic() - started


def timed(fn, *args, **kwargs) -> tuple[object, float]:
	started = time.monotonic()
	result = fn(*args, **kwargs)
	frappe.db.commit()
	return result, time.monotonic() - started


def recycle_one_by_one(name: str, now) -> bool:
	"""The same rule, one document at a time: what a naive job does for each candidate."""
	from crm_pool.core import log, mirror
	from crm_pool.core.status import IN_POOL, RECYCLE
	from crm_pool.pool.followup import OPEN_OPPORTUNITY_STATUSES, RECYCLABLE

	doc = frappe.get_doc("Pool Customer", name)
	pool = frappe.get_doc("Customer Pool", doc.pool)
	grade_rule = next((r for r in pool.grade_rules if r.grade == doc.grade), None)
	followup_days = (grade_rule and grade_rule.no_followup_days) or pool.no_followup_days
	deal_days = (grade_rule and grade_rule.no_deal_days) or pool.no_deal_days
	claimed = get_datetime(doc.claimed_at) if doc.claimed_at else get_datetime(doc.creation)
	dues = []
	if followup_days:
		last = max(get_datetime(doc.last_followup_at or claimed), claimed)
		dues.append((add_days(last, followup_days), f"no_followup:{followup_days}d"))
	if deal_days:
		last = max(get_datetime(doc.last_deal_at or claimed), claimed)
		dues.append((add_days(last, deal_days), f"no_deal:{deal_days}d"))
	if doc.status not in RECYCLABLE or not dues:
		return False
	due, rule = min(dues)
	if due > now:
		return False
	if pool.exempt_with_deal and doc.last_deal_at:
		return False
	if pool.exempt_open_opportunity and frappe.db.exists(
		"Opportunity",
		{
			"party_name": ("in", [p for p in (doc.lead, doc.customer, doc.party) if p]),
			"status": ("in", OPEN_OPPORTUNITY_STATUSES),
			"docstatus": ("<", 2),
		},
	):
		return False
	previous = doc.owned_by
	log.log_change(
		doc.name, RECYCLE, from_user=previous, rule=rule, pool=doc.pool, customer_name=doc.customer_name
	)
	doc.update(
		{
			"status": IN_POOL,
			"previous_owner": previous,
			"owned_by": None,
			"owner_name": None,
			"released_at": now,
			"pool_entered_at": now,
			"claimed_at": None,
			"recycle_due_at": None,
			"reminder_sent_at": None,
		}
	)
	doc.set("collaborators", [])
	doc.save(ignore_permissions=True)
	mirror.mirror_owner(doc, previous)
	return True


def loop_baseline(sample: int) -> tuple[int, float]:
	"""Recycle `sample` due bulk customers one by one; returns (rows recycled, seconds)."""
	from crm_pool import bulk_demo
	from crm_pool.pool.followup import RECYCLABLE

	now = now_datetime()
	names = frappe.get_all(
		"Pool Customer",
		filters={
			"name": ("like", bulk_demo.PC_PREFIX + "%"),
			"status": ("in", RECYCLABLE),
			"recycle_due_at": ("<=", now),
		},
		order_by="name",
		limit=sample,
		pluck="name",
	)
	started = time.monotonic()
	done = sum(recycle_one_by_one(name, now) for name in names)
	frappe.db.commit()
	return done, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
	parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	parser.add_argument("--site", default=os.environ.get("CRM_POOL_BENCH_SITE"), help="site to run on")
	parser.add_argument("--count", type=int, default=100_000, help="pool customers (N)")
	parser.add_argument("--sample", type=int, default=200, help="customers recycled by the doc.save() loop")
	parser.add_argument("--clear", action="store_true", help="remove the bulk data afterwards")
	args = parser.parse_args(argv)
	if not args.site:
		parser.error("give --site or set CRM_POOL_BENCH_SITE")

	connect(args.site)
	try:
		from crm_pool import bulk_demo
		from crm_pool.pool import followup, recycle

		print(f"site {args.site}: making {args.count:,} pool customers ...", flush=True)
		made = bulk_demo.make_bulk(args.count)
		print(bulk_demo.format_summary(made), flush=True)

		reset()
		_, recompute_s = timed(followup.recompute_due_for_pool, bulk_demo.BULK_POOL)
		reset()
		due = bulk_demo.state_summary()["past_due"]
		reminders, remind_s = timed(recycle.send_reminders)
		result, recycle_s = timed(recycle.recycle_due)
		recycled = result["recycled"]

		reset()
		looped, loop_s = loop_baseline(args.sample)
		reset()
		if args.clear:
			print(f"cleared: {bulk_demo.clear_bulk()}")
	finally:
		frappe.destroy()

	set_row = recycle_s / max(recycled, 1)
	loop_row = loop_s / max(looped, 1)
	lines = [
		"",
		f"pool customers (N)                  {args.count:>12,}",
		f"past due before the run             {due:>12,}",
		f"recompute_due_for_pool (rule edit)  {recompute_s:>10.2f} s  ({recompute_s / args.count * 1e6:.1f} µs per pool customer)",
		f"send_reminders()                    {remind_s:>10.2f} s  ({reminders['reminded']:,} reminded, {reminders['owners']} owners)",
		f"recycle_due() set-based             {recycle_s:>10.2f} s  ({recycled:,} recycled, {result['owners']} owners notified)",
		f"  per recycled customer             {set_row * 1e3:>10.3f} ms",
		f"  per pool customer scanned         {recycle_s / args.count * 1e6:>10.2f} µs",
		f"loop of doc.save() over a sample    {loop_s:>10.2f} s  ({looped} recycled)",
		f"  per recycled customer             {loop_row * 1e3:>10.3f} ms",
		f"  extrapolated to {recycled:,} rows   {loop_row * recycled:>10.1f} s",
		f"ratio (loop / set-based, per row)   {loop_row / set_row if set_row else float('inf'):>10.1f} x",
	]
	print("\n".join(lines))
	return 0


if __name__ == "__main__":
	sys.exit(main())
