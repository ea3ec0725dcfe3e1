"""Benchmark: the set-based regrade next to a per-customer ORM loop computing the same grading.

Run it from the bench's sites directory with the bench's Python, against a site of its own (it
writes N leads, pool customers and customers and 10·N submitted Sales Invoices with one item each
there; never the test site):

    cd frappe-bench/sites
    ../env/bin/python ../apps/crm_pool/benchmarks/grade.py --site SITE --count 100000 [--sample 200] [--clear]

Steps: the bulk pool customers of `crm_pool.bulk_demo` (N, reused across runs), each linked to a
bulk Customer (BULK-CUST-…, potential 0–100) with 10 submitted Sales Invoices over the last two
years (BULK-SINV-…: amounts varying per customer, one in 37 a credit note, half of the items with an
incoming rate), all inserted set-based (INSERT … SELECT over MariaDB's sequence tables). Then times
`regrade()` (committed, as the monthly job runs it) twice (the first run writes every grade, the
second only what changed), and a loop that grades a sample of the same customers one at a time with
the ORM (read the customer's invoices and items with frappe.get_all, compute the inputs in Python,
rank them against the population's sorted values, grade, write a Customer Grade Log with
`insert()` when the grade changed, and `doc.save()` the Pool Customer). Prints both times and the
per-customer ratio. `--clear` removes the invoices and customers (the bulk pool customers stay:
`bench --site SITE crm-pool-bulk --clear`).
"""

from __future__ import annotations

import argparse
import bisect
import os
import sys
import time

import frappe
from frappe.utils import date_diff, getdate, nowdate

CUSTOMER_PREFIX = "BULK-CUST-"
INVOICE_PREFIX = "BULK-SINV-"
INVOICES_PER_CUSTOMER = 10
CHUNK = 100_000


def connect(site: str) -> None:
	frappe.init(site=site, sites_path=os.getcwd())
	frappe.connect()
	frappe.set_user("Administrator")


def count_like(doctype: str, prefix: str) -> int:
	return frappe.db.sql(f"SELECT COUNT(*) FROM `tab{doctype}` WHERE name LIKE %(p)s", {"p": prefix + "%"})[
		0
	][0]


def make_data(count: int) -> dict:
	"""Bulk pool customers, customers and invoices for `count` customers (missing ones only)."""
	from crm_pool import bulk_demo
	from crm_pool.grading.rules import ensure_default_rule

	started = time.monotonic()
	from crm_pool.grading.scores import add_indexes

	bulk_demo.make_bulk(count)
	ensure_default_rule()
	add_indexes()  # what migrate adds (Customer Grade Rule's on_doctype_update)
	company = frappe.defaults.get_global_default("company") or frappe.db.get_value("Company", {}, "name")
	currency = frappe.get_cached_value("Company", company, "default_currency")
	group = frappe.db.get_value("Customer Group", {"is_group": 0}, "name")
	territory = frappe.db.get_value("Territory", {"is_group": 0}, "name")
	item = frappe.db.get_value("Item", {"disabled": 0}, "name") or "BULK-ITEM"
	values = {"company": company, "currency": currency, "group": group, "territory": territory, "item": item}
	now = frappe.utils.now_datetime()
	values["now"] = now

	have = count_like("Customer", CUSTOMER_PREFIX)
	for start in range(have + 1, count + 1, CHUNK):
		end = min(start + CHUNK - 1, count)
		frappe.db.sql(
			f"""INSERT INTO `tabCustomer` (name, creation, modified, owner, modified_by, docstatus, idx,
				naming_series, customer_name, customer_type, customer_group, territory, potential_score)
			SELECT CONCAT('{CUSTOMER_PREFIX}', LPAD(seq, 7, '0')), %(now)s, %(now)s, 'Administrator',
				'Administrator', 0, 0, 'CUST-.YYYY.-', CONCAT('批量客户', seq), 'Company', %(group)s,
				%(territory)s, MOD(seq * 37, 101)
			FROM seq_{start}_to_{end}""",
			values,
		)
		frappe.db.commit()
	frappe.db.sql(
		f"""UPDATE `tabPool Customer` SET customer = CONCAT('{CUSTOMER_PREFIX}', RIGHT(name, 7))
		WHERE name LIKE %(p)s AND (customer IS NULL OR customer = '')""",
		{"p": bulk_demo.PC_PREFIX + "%"},
	)
	frappe.db.commit()

	invoices = count * INVOICES_PER_CUSTOMER
	have = count_like("Sales Invoice", INVOICE_PREFIX)
	for start in range(have + 1, invoices + 1, CHUNK):
		end = min(start + CHUNK - 1, invoices)
		customer = f"1 + (seq - 1) DIV {INVOICES_PER_CUSTOMER}"
		# amount: a customer's scale (1..20) × a varying invoice size; one in 37 a credit note
		amount = (  # the sequence is unsigned: signed before the sign
			f"CAST((1 + MOD({customer} * 7, 20)) * (500 + MOD(seq * 104729, 5000)) AS SIGNED)"
			" * IF(MOD(seq, 37) = 0, -1, 1)"
		)
		posting = f"DATE_SUB(CURDATE(), INTERVAL MOD(seq * 7919 + {customer} * 13, 730) DAY)"
		frappe.db.sql(
			f"""INSERT INTO `tabSales Invoice` (name, creation, modified, owner, modified_by, docstatus, idx,
				naming_series, customer, customer_name, company, posting_date, posting_time, due_date,
				currency, conversion_rate, selling_price_list, price_list_currency, plc_conversion_rate,
				is_return, total_qty, base_total, total, base_net_total, net_total, base_grand_total,
				grand_total, rounded_total, base_rounded_total, outstanding_amount, status, debit_to)
			SELECT CONCAT('{INVOICE_PREFIX}', LPAD(seq, 8, '0')), %(now)s, %(now)s, 'Administrator',
				'Administrator', 1, 0, 'ACC-SINV-.YYYY.-', CONCAT('{CUSTOMER_PREFIX}', LPAD({customer}, 7, '0')),
				CONCAT('批量客户', {customer}), %(company)s, {posting}, '12:00:00', {posting}, %(currency)s, 1,
				'Standard Selling', %(currency)s, 1, MOD(seq, 37) = 0, IF(MOD(seq, 37) = 0, -1, 1),
				{amount}, {amount}, {amount}, {amount}, {amount}, {amount}, {amount}, {amount}, 0,
				IF(MOD(seq, 37) = 0, 'Return', 'Paid'), ''
			FROM seq_{start}_to_{end}""",
			values,
		)
		frappe.db.sql(
			f"""INSERT INTO `tabSales Invoice Item` (name, creation, modified, owner, modified_by, docstatus,
				idx, parent, parenttype, parentfield, item_code, item_name, qty, stock_qty, conversion_factor,
				rate, base_rate, amount, base_amount, net_rate, net_amount, base_net_rate, base_net_amount,
				incoming_rate, uom, stock_uom)
			SELECT CONCAT('{INVOICE_PREFIX}', LPAD(seq, 8, '0'), '-1'), %(now)s, %(now)s, 'Administrator',
				'Administrator', 1, 1, CONCAT('{INVOICE_PREFIX}', LPAD(seq, 8, '0')), 'Sales Invoice', 'items',
				%(item)s, %(item)s, IF(MOD(seq, 37) = 0, -1, 1), IF(MOD(seq, 37) = 0, -1, 1), 1,
				ABS({amount}), ABS({amount}), {amount}, {amount}, ABS({amount}), {amount}, ABS({amount}), {amount},
				IF(MOD(seq, 2) = 0, ABS({amount}) * 0.6, 0), 'Nos', 'Nos'
			FROM seq_{start}_to_{end}""",
			values,
		)
		frappe.db.commit()
	return {
		"customers": count_like("Customer", CUSTOMER_PREFIX),
		"invoices": count_like("Sales Invoice", INVOICE_PREFIX),
		"seconds": round(time.monotonic() - started, 1),
	}


def clear_data() -> None:
	frappe.db.sql("DELETE FROM `tabSales Invoice Item` WHERE parent LIKE %(p)s", {"p": INVOICE_PREFIX + "%"})
	frappe.db.sql("DELETE FROM `tabSales Invoice` WHERE name LIKE %(p)s", {"p": INVOICE_PREFIX + "%"})
	frappe.db.sql(
		"UPDATE `tabPool Customer` SET customer = NULL WHERE customer LIKE %(p)s",
		{"p": CUSTOMER_PREFIX + "%"},
	)
	frappe.db.sql("DELETE FROM `tabCustomer` WHERE name LIKE %(p)s", {"p": CUSTOMER_PREFIX + "%"})
	frappe.db.sql("DELETE FROM `tabCustomer Grade Log` WHERE run LIKE 'GR-%%' OR run LIKE 'LOOP-%%'")
	frappe.db.commit()


def timed(fn, *args, **kwargs) -> tuple[object, float]:
	started = time.monotonic()
	result = fn(*args, **kwargs)
	frappe.db.commit()
	return result, time.monotonic() - started


def grade_one_by_one(name: str, rule, population: dict[str, list[float]], today: str) -> bool:
	"""The default rule's grading of one customer with the ORM: what a naive job does per customer.
	Returns whether the grade changed."""
	from crm_pool.grading.rules import INPUTS

	doc = frappe.get_doc("Pool Customer", name)
	start = frappe.utils.add_months(today, -rule.window_months)
	invoices = frappe.get_all(
		"Sales Invoice",
		filters={"customer": doc.customer, "docstatus": 1},
		fields=["name", "posting_date", "base_net_total", "is_return"],
	)
	window = [i for i in invoices if getdate(i.posting_date) > getdate(start)]
	bought = [i for i in invoices if not i.is_return]
	monetary = sum(i.base_net_total for i in window)
	frequency = sum(1 for i in window if not i.is_return)
	recency = date_diff(today, max(i.posting_date for i in bought)) if bought else None
	months = len({getdate(i.posting_date).strftime("%Y%m") for i in window if not i.is_return})
	items = frappe.get_all(
		"Sales Invoice Item",
		filters={"parent": ("in", [i.name for i in window] or [""]), "incoming_rate": (">", 0)},
		fields=["base_net_amount", "incoming_rate", "stock_qty"],
	)
	profit = sum(r.base_net_amount - r.incoming_rate * r.stock_qty for r in items) if items else None
	potential = frappe.db.get_value("Customer", doc.customer, "potential_score") or 0
	values = {
		"monetary": monetary,
		"frequency": frequency,
		"recency": -(recency if recency is not None else 10**9),
		"profit": profit,
		"repeat": months,
		"potential": potential,
	}
	scores = {}
	for key in INPUTS:
		if values[key] is None:
			continue
		ranked = population[key]
		scores[key] = 100 * bisect.bisect_left(ranked, values[key]) / max(len(ranked) - 1, 1)
	weights = {k: rule.weights[k] for k in scores}
	score = sum(weights[k] * scores[k] for k in scores) / (sum(weights.values()) or 1)
	grade = next(g.code for g in rule.grades if score >= g.threshold or g is rule.grades[-1])
	changed = grade != doc.grade
	if changed:
		frappe.get_doc(
			{
				"doctype": "Customer Grade Log",
				"pool_customer": doc.name,
				"customer_name": doc.customer_name,
				"from_grade": doc.grade,
				"to_grade": grade,
				"why": "Score",
				"run": "LOOP-benchmark",
				"at": frappe.utils.now_datetime(),
				"score": score,
			}
		).insert(ignore_permissions=True)
	doc.grade, doc.grade_score = grade, score
	for key, value in scores.items():
		doc.set(f"score_{key}", value)
	doc.flags.ignore_permissions = True
	doc.save()
	return changed


def loop_baseline(sample: int) -> tuple[int, float, int]:
	"""Grade `sample` bulk customers one by one with the ORM; returns (customers, seconds, changed). The
	population's sorted input values (which a per-customer job needs to rank against) are read first
	and not counted."""
	from crm_pool import bulk_demo
	from crm_pool.grading import scores
	from crm_pool.grading.rules import enabled_rules, load

	rule = load(enabled_rules()[-1])
	today = nowdate()
	names = frappe.get_all(
		"Pool Customer",
		filters={"name": ("like", bulk_demo.PC_PREFIX + "%")},
		order_by="name",
		limit=sample,
		pluck="name",
	)
	# the population's values, for ranking (set-based, not timed)
	from crm_pool.core.setbased import work_table

	population: dict[str, list[float]] = {}
	with (
		work_table(scores.TABLE, scores.TABLE_COLUMNS),
		work_table(scores.INVOICES, scores.INVOICE_COLUMNS),
		work_table(scores.COSTS, scores.COST_COLUMNS),
	):
		scores.add_population(rule)
		scores.add_inputs({rule.window_months}, today)
		for key, column in (
			("monetary", "monetary"),
			("frequency", "frequency"),
			("recency", "-COALESCE(recency_days, 1000000000)"),
			("profit", "profit"),
			("repeat", "months"),
			("potential", "potential"),
		):
			population[key] = sorted(
				float(v)
				for (v,) in frappe.db.sql(f"SELECT {column} FROM `{scores.TABLE}` WHERE {column} IS NOT NULL")
			)
	started = time.monotonic()
	changed = sum(grade_one_by_one(name, rule, population, today) for name in names)
	frappe.db.commit()
	return len(names), time.monotonic() - started, changed


def main(argv: list[str] | None = None) -> int:
	parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	parser.add_argument("--site", default=os.environ.get("CRM_POOL_BENCH_SITE"), help="site to run on")
	parser.add_argument("--count", type=int, default=100_000, help="customers (N); 10·N invoices")
	parser.add_argument("--sample", type=int, default=200, help="customers graded by the ORM loop")
	parser.add_argument("--clear", action="store_true", help="remove the invoices and customers afterwards")
	args = parser.parse_args(argv)
	if not args.site:
		parser.error("give --site or set CRM_POOL_BENCH_SITE")

	connect(args.site)
	try:
		from crm_pool.grading.regrade import regrade

		print(
			f"site {args.site}: making {args.count:,} customers, {args.count * 10:,} invoices ...", flush=True
		)
		made = make_data(args.count)
		print(f"data: {made}", flush=True)
		first, first_s = timed(regrade)
		second, second_s = timed(regrade)
		looped, loop_s, loop_changed = loop_baseline(args.sample)
		if args.clear:
			clear_data()
	finally:
		frappe.destroy()

	graded = second["graded"]
	set_row = second_s / max(graded, 1)
	loop_row = loop_s / max(looped, 1)
	lines = [
		"",
		f"customers graded (N)                {graded:>12,}",
		f"submitted invoices                  {made['invoices']:>12,}",
		f"regrade(), first run                {first_s:>10.2f} s  ({first['changed']:,} grades changed)",
		f"regrade(), second run               {second_s:>10.2f} s  ({second['changed']:,} grades changed)",
		f"  parts of the first run (s)        {first['seconds']}",
		f"  parts of the second run (s)       {second['seconds']}",
		f"  per customer                      {set_row * 1e3:>10.3f} ms",
		f"ORM loop over a sample              {loop_s:>10.2f} s  ({looped} customers, {loop_changed} changed)",
		f"  per customer                      {loop_row * 1e3:>10.3f} ms",
		f"  extrapolated to {graded:,}        {loop_row * graded:>10.1f} s",
		f"ratio (loop / set-based, per row)   {loop_row / set_row if set_row else float('inf'):>10.1f} x",
	]
	print("\n".join(lines))
	return 0


if __name__ == "__main__":
	sys.exit(main())
