"""Benchmark: every Script Report of module "CRM Pool" over a month's window, as a manager and as a
sales user, next to the naive Frappe path (rows through frappe.get_list, grouped in Python).

Run it from the bench's sites directory with the bench's Python, against a site of its own (it
writes up to N leads, pool customers and their history there; never the test site):

    cd frappe-bench/sites
    ../env/bin/python ../apps/crm_pool/benchmarks/reports.py --site SITE --count 100000 [--runs 3]

The site may also come from CRM_POOL_BENCH_SITE. Steps: make the bulk data hold N pool customers in
their reference state (`crm_pool.bulk_demo.make_bulk`) and their history (`make_bulk_history`: about
3 Pool Log entries and 2 Customer Grade Log entries per customer over the last 90 days, follow-ups
since the claim); then, for each Script Report of the module (read from the Report doctype at run
time, so reports added later are timed too), run its `execute(filters)` `--runs` times as the demo
manager (Pool Manager: every customer) and as a demo sales user, with the filters of the last 30
days; and the naive paths of the performance and history reports the same way. Prints a table of
median and max seconds and the rows returned.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict

import frappe
from frappe.utils import add_days, add_months, get_first_day, nowdate

MANAGER = "wang.manager@"  # demo users: by prefix (the demo's e-mail domain)
SALES_USER = "zhang.wei@"


def connect(site: str) -> None:
	frappe.init(site=site, sites_path=os.getcwd())
	frappe.connect()
	frappe.set_user("Administrator")


def demo_user(prefix: str) -> str:
	from crm_pool import demo

	return next(u.email for u in demo.DEMO_USERS if u.email.startswith(prefix))


def month_filters() -> dict:
	"""The filters of a month's window for every report (each reads those it knows)."""
	today = nowdate()
	company = frappe.defaults.get_global_default("company") or frappe.db.get_value("Company", {}, "name")
	return {
		"from_date": add_days(today, -30),
		"to_date": today,
		"from_month": get_first_day(add_months(today, -1)),
		"to_month": get_first_day(today),
		"company": company,
	}


# Per report, filters a person would set: the history of one salesperson.
EXTRA_FILTERS = {"Ownership History": lambda sales_user: {"user": sales_user}}


def script_reports() -> list[frappe._dict]:
	return frappe.get_all(
		"Report",
		filters={"module": "CRM Pool", "report_type": "Script Report", "disabled": 0},
		fields=["name", "module"],
		order_by="name",
	)


def report_execute(report: frappe._dict):
	from frappe.core.doctype.report.report import get_report_module_dotted_path

	return frappe.get_attr(get_report_module_dotted_path(report.module, report.name) + ".execute")


def rows_of(result) -> int:
	"""Rows of a report's (columns, data, …) or of a plain list of rows."""
	is_report = isinstance(result, tuple) or (result and isinstance(result[0], list))
	data = result[1] if is_report and len(result) > 1 else result
	return len(data or [])


def timed_runs(user: str, fn, runs: int) -> tuple[list[float], int | str]:
	"""Seconds of `runs` calls of fn() as `user` (each from a fresh cache of nothing but the DB's), and
	the rows of the last one (or the error)."""
	times, rows = [], 0
	for _ in range(runs):
		frappe.set_user(user)
		started = time.perf_counter()
		try:
			rows = rows_of(fn())
		except Exception as e:
			frappe.db.rollback()
			return [time.perf_counter() - started], f"error: {type(e).__name__}: {str(e)[:80]}"
		finally:
			frappe.set_user("Administrator")
		times.append(time.perf_counter() - started)
	return times, rows


# --- the naive Frappe paths -------------------------------------------------------------------------


def naive_performance(filters: dict) -> list[dict]:
	"""Salesperson Performance the naive way: the window's Pool Log rows and the customers got in it
	through frappe.get_list (permissions applied), counted and their medians taken in Python."""
	from crm_pool.core.status import ASSIGN, CLAIM, CONVERT, RECYCLE, RELEASE
	from crm_pool.insight.performance import people_in_scope, window

	start, end = window(frappe._dict(filters))
	people, _pools = people_in_scope(frappe.session.user)
	log = frappe.get_list(
		"Pool Log",
		filters=[
			["at", ">=", start],
			["at", "<", end],
			["action", "in", [CLAIM, ASSIGN, RELEASE, RECYCLE, CONVERT]],
		],
		fields=["action", "from_user", "to_user"],
		limit_page_length=0,
	)
	counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
	for entry in log:
		person = entry.to_user if entry.action in (CLAIM, ASSIGN, CONVERT) else entry.from_user
		if person and (people is None or person in people):
			counts[person][entry.action] += 1
	customers = frappe.get_list(
		"Pool Customer",
		filters=[["claimed_at", ">=", start], ["claimed_at", "<", end], ["owned_by", "is", "set"]],
		fields=["owned_by", "claimed_at", "first_followup_at", "followups_since_claim"],
		limit_page_length=0,
	)
	hours: dict[str, list[float]] = defaultdict(list)
	for c in customers:
		if c.first_followup_at and c.first_followup_at >= c.claimed_at:
			hours[c.owned_by].append((c.first_followup_at - c.claimed_at).total_seconds() / 3600)
	return [
		{
			"salesperson": p,
			**counts.get(p, {}),
			"median": statistics.median(hours[p]) if hours.get(p) else None,
		}
		for p in sorted(set(counts) | set(hours))
		if people is None or p in people
	]


def naive_history(filters: dict, user: str) -> list[dict]:
	"""Ownership History the naive way: frappe.get_list of the Pool Log with OR filters on the user."""
	return frappe.get_list(
		"Pool Log",
		filters=[["at", ">=", filters["from_date"]], ["at", "<", add_days(filters["to_date"], 1)]],
		or_filters=[["from_user", "=", user], ["to_user", "=", user], ["by_user", "=", user]],
		fields=[
			"name",
			"at",
			"action",
			"pool_customer",
			"from_user",
			"to_user",
			"by_user",
			"pool",
			"rule",
			"reason",
		],
		order_by="at desc",
		limit_page_length=2000,
	)


def main(argv: list[str] | None = None) -> int:
	parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	parser.add_argument("--site", default=os.environ.get("CRM_POOL_BENCH_SITE"), help="site to run on")
	parser.add_argument("--count", type=int, default=100_000, help="pool customers (N)")
	parser.add_argument("--runs", type=int, default=3, help="runs per report and user")
	parser.add_argument(
		"--skip-data", action="store_true", help="reuse the bulk data and history as they are"
	)
	args = parser.parse_args(argv)
	if not args.site:
		parser.error("give --site or set CRM_POOL_BENCH_SITE")

	connect(args.site)
	results = []
	try:
		from crm_pool import bulk_demo

		if not args.skip_data:
			print(f"site {args.site}: making {args.count:,} pool customers ...", flush=True)
			print(bulk_demo.format_summary(bulk_demo.make_bulk(args.count)), flush=True)
			print(f"history: {bulk_demo.make_bulk_history()}", flush=True)
		frappe.db.sql("ANALYZE TABLE `tabPool Log`, `tabPool Customer`, `tabCustomer Grade Log`")
		log_rows = frappe.db.sql("SELECT COUNT(*) FROM `tabPool Log`")[0][0]
		manager, sales_user = demo_user(MANAGER), demo_user(SALES_USER)
		filters = month_filters()
		print(
			f"Pool Log rows: {log_rows:,}; window {filters['from_date']} .. {filters['to_date']}", flush=True
		)
		for report in script_reports():
			execute = report_execute(report)
			report_filters = frappe._dict(filters, **EXTRA_FILTERS.get(report.name, lambda u: {})(sales_user))
			for label, user in (("manager", manager), ("sales user", sales_user)):
				times, rows = timed_runs(
					user, lambda execute=execute, f=report_filters: execute(frappe._dict(f)), args.runs
				)
				results.append((report.name, "execute()", label, times, rows))
				print(f"  {report.name} / {label}: {max(times):.2f} s max", flush=True)
		for label, user in (("manager", manager), ("sales user", sales_user)):
			times, rows = timed_runs(user, lambda: naive_performance(filters), args.runs)
			results.append(("Salesperson Performance", "naive get_list", label, times, rows))
			times, rows = timed_runs(user, lambda: naive_history(filters, sales_user), args.runs)
			results.append(("Ownership History", "naive get_list", label, times, rows))
	finally:
		frappe.destroy()

	print(f"\npool customers (N) {args.count:,}; {args.runs} runs each; seconds\n")
	print("| report | path | as | median | max | rows |\n| --- | --- | --- | ---: | ---: | ---: |")
	for name, path, label, times, rows in sorted(results, key=lambda r: (r[0], r[1] != "execute()", r[2])):
		print(f"| {name} | {path} | {label} | {statistics.median(times):.3f} | {max(times):.3f} | {rows} |")
	return 0


if __name__ == "__main__":
	sys.exit(main())
