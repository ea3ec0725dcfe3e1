"""Benchmark: a month's referral rewards computed set-based (`crm_pool.sharing.rewards.compute`) next
to a naive per-share ORM loop computing the same counts (SPEC §8: 10,000 shares and 100,000 invoices
under 10 s, set-based).

Run it from the bench's sites directory with the bench's Python, on a site with the seed's rules
(it writes its own rows, all named BENCH-RW-…, and removes them afterwards):

    cd frappe-bench/sites
    ../env/bin/python ../apps/crm_pool/benchmarks/rewards.py --site SITE [--shares 10000] \
        [--orders 20000] [--invoices 100000] [--sample 200] [--keep] [--clear]

Steps: three business lines (危废处置 and 检测 with the seed's rules, 环评咨询 without) get one item
each; N customers, N converted shares (one per customer, a third per line, 500 sharers, estimated
revenue 0–119 万元), the submitted Sales Orders and Sales Invoices of those customers in last month
(one item of the customer's line each, 1,000–50,999 元) are inserted with `INSERT … SELECT` over
MariaDB's sequence tables. Then `compute()` of last month is timed (committed, as the monthly job
runs it), and a loop over a sample of the shares does the same per share with the ORM: load the
share and its rule (get_doc), read the customer's orders and invoices of the month and their items
(get_all), check each item's line (lft/rgt) and whether the document was counted before (exists),
add up per sharer, match the tiers in Python and insert each sampled sharer's reward with
`doc.insert()` (rolled back). Per-share time, extrapolated to all shares, and the ratio are printed.
Everything BENCH-RW-… is deleted at the end (unless --keep); --clear only deletes.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict
from decimal import Decimal

import frappe
from frappe.utils import add_months, get_first_day, get_last_day, getdate, nowdate

P = "BENCH-RW-"
SHARERS = 500
LINES = ("危废处置", "检测", "环评咨询")
CHUNK = 50_000


def connect(site: str) -> None:
	frappe.init(site=site, sites_path=os.getcwd())
	frappe.connect()
	frappe.set_user("Administrator")


def period() -> tuple:
	start = getdate(get_first_day(add_months(nowdate(), -1)))
	return start, getdate(get_last_day(start))


def make_data(shares: int, orders: int, invoices: int) -> dict:
	"""Lines, items, customers, shares, orders and invoices (all BENCH-RW-…), committed."""
	from crm_pool.sharing.rules import ensure_business_lines

	started = time.monotonic()
	ensure_business_lines()
	root = frappe.db.get_value("Item Group", {"is_group": 1, "parent_item_group": ("in", ("", None))})
	if not frappe.db.exists("Item Group", LINES[2]):
		frappe.get_doc(
			{"doctype": "Item Group", "item_group_name": LINES[2], "parent_item_group": root, "is_group": 0}
		).insert(ignore_permissions=True)
	uom = "Nos" if frappe.db.exists("UOM", "Nos") else frappe.db.get_value("UOM", {}, "name")
	for i, line in enumerate(LINES):
		if not frappe.db.exists("Item", f"{P}ITEM-{i}"):
			frappe.get_doc(
				{
					"doctype": "Item",
					"item_code": f"{P}ITEM-{i}",
					"item_name": f"基准测试服务-{line}",
					"item_group": line,
					"stock_uom": uom,
					"is_stock_item": 0,
					"include_item_in_manufacturing": 0,
				}
			).insert(ignore_permissions=True)
	company = frappe.defaults.get_global_default("company") or frappe.db.get_value("Company", {}, "name")
	start, end = period()
	days = (end - start).days + 1
	values = {
		"company": company,
		"currency": frappe.get_cached_value("Company", company, "default_currency"),
		"group": frappe.db.get_value("Customer Group", {"is_group": 0}, "name"),
		"territory": frappe.db.get_value("Territory", {"is_group": 0}, "name"),
		"now": frappe.utils.now_datetime(),
		"start": start,
		"l0": LINES[0],
		"l1": LINES[1],
		"l2": LINES[2],
	}
	line_of = "ELT(1 + MOD({c}, 3), %(l0)s, %(l1)s, %(l2)s)"
	item_of = f"CONCAT('{P}ITEM-', MOD({{c}}, 3))"
	for lo in range(1, shares + 1, CHUNK):
		hi = min(lo + CHUNK - 1, shares)
		frappe.db.sql(
			f"""INSERT INTO `tabCustomer` (name, creation, modified, owner, modified_by, docstatus, idx,
				naming_series, customer_name, customer_type, customer_group, territory)
			SELECT CONCAT('{P}CUST-', LPAD(seq, 6, '0')), %(now)s, %(now)s, 'Administrator',
				'Administrator', 0, 0, 'CUST-.YYYY.-', CONCAT('基准共享客户', seq), 'Company', %(group)s,
				%(territory)s
			FROM seq_{lo}_to_{hi}""",
			values,
		)
		frappe.db.sql(
			f"""INSERT INTO `tabCustomer Share` (name, creation, modified, owner, modified_by, docstatus,
				idx, company_name, territory, business_line, business_needed, estimated_revenue, status,
				sharer, customer, converted_on)
			SELECT CONCAT('{P}CS-', LPAD(seq, 6, '0')), %(now)s, %(now)s, 'Administrator',
				'Administrator', 0, 0, CONCAT('基准共享客户', seq), %(territory)s, {line_of.format(c="seq")},
				'基准测试', MOD(seq * 7, 120), 'Converted',
				CONCAT('bench-rw-', MOD(seq, {SHARERS}), '@crm-pool.invalid'),
				CONCAT('{P}CUST-', LPAD(seq, 6, '0')), %(now)s
			FROM seq_{lo}_to_{hi}""",
			values,
		)
		frappe.db.commit()
	for doctype, child, count, date_col, prefix in (
		("Sales Order", "Sales Order Item", orders, "transaction_date", "SO"),
		("Sales Invoice", "Sales Invoice Item", invoices, "posting_date", "SINV"),
	):
		for lo in range(1, count + 1, CHUNK):
			hi = min(lo + CHUNK - 1, count)
			c = f"(1 + MOD(seq * 7919, {shares}))"  # the customer (and its share) of document seq
			amount = "(1000 + MOD(seq * 104729, 50000))"
			on = f"DATE_ADD(%(start)s, INTERVAL MOD(seq, {days}) DAY)"
			extra_cols, extra_vals = (
				("delivery_date, order_type, status", f"{on}, 'Sales', 'To Deliver and Bill'")
				if doctype == "Sales Order"
				else (
					"posting_time, due_date, is_return, status, debit_to",
					f"'12:00:00', {on}, 0, 'Unpaid', ''",
				)
			)
			frappe.db.sql(
				f"""INSERT INTO `tab{doctype}` (name, creation, modified, owner, modified_by, docstatus, idx,
					naming_series, customer, customer_name, company, {date_col}, currency, conversion_rate,
					selling_price_list, price_list_currency, plc_conversion_rate, total_qty, base_total,
					total, base_net_total, net_total, base_grand_total, grand_total, {extra_cols})
				SELECT CONCAT('{P}{prefix}-', LPAD(seq, 7, '0')), %(now)s, %(now)s, 'Administrator',
					'Administrator', 1, 0, 'BENCH-', CONCAT('{P}CUST-', LPAD({c}, 6, '0')),
					CONCAT('基准共享客户', {c}), %(company)s, {on}, %(currency)s, 1, 'Standard Selling',
					%(currency)s, 1, 1, {amount}, {amount}, {amount}, {amount}, {amount}, {amount},
					{extra_vals}
				FROM seq_{lo}_to_{hi}""",
				values,
			)
			frappe.db.sql(
				f"""INSERT INTO `tab{child}` (name, creation, modified, owner, modified_by, docstatus, idx,
					parent, parenttype, parentfield, item_code, item_name, item_group, qty, stock_qty,
					conversion_factor, rate, base_rate, amount, base_amount, net_rate, net_amount,
					base_net_rate, base_net_amount, uom, stock_uom)
				SELECT CONCAT('{P}{prefix}-', LPAD(seq, 7, '0'), '-1'), %(now)s, %(now)s, 'Administrator',
					'Administrator', 1, 1, CONCAT('{P}{prefix}-', LPAD(seq, 7, '0')), '{doctype}', 'items',
					{item_of.format(c=c)}, {item_of.format(c=c)}, {line_of.format(c=c)}, 1, 1, 1,
					{amount}, {amount}, {amount}, {amount}, {amount}, {amount}, {amount}, {amount}, 'Nos', 'Nos'
				FROM seq_{lo}_to_{hi}""",
				values,
			)
			frappe.db.commit()
	return {
		"shares": count_like("Customer Share", P + "CS-"),
		"orders": count_like("Sales Order", P + "SO-"),
		"invoices": count_like("Sales Invoice", P + "SINV-"),
		"seconds": round(time.monotonic() - started, 1),
	}


def count_like(doctype: str, prefix: str) -> int:
	return frappe.db.sql(f"SELECT COUNT(*) FROM `tab{doctype}` WHERE name LIKE %s", prefix + "%")[0][0]


def clear_data() -> None:
	frappe.db.sql(
		"""DELETE rl FROM `tabReferral Reward Line` rl JOIN `tabReferral Reward` r ON r.name = rl.parent
		WHERE r.sharer LIKE 'bench-rw-%%'"""
	)
	frappe.db.sql("DELETE FROM `tabReferral Reward` WHERE sharer LIKE 'bench-rw-%%'")
	for table, column in (
		("Sales Order Item", "parent"),
		("Sales Order", "name"),
		("Sales Invoice Item", "parent"),
		("Sales Invoice", "name"),
		("Customer Share", "name"),
		("Customer", "name"),
		("Item", "name"),
	):
		frappe.db.sql(f"DELETE FROM `tab{table}` WHERE `{column}` LIKE %s", P + "%")
	frappe.db.commit()


def one_by_one(shares: list[str], start, end) -> int:
	"""The naive computation for `shares`: per share, the ORM; per sampled sharer, `doc.insert()`.
	Returns the number of rewards it would write."""
	from crm_pool.sharing import rules as reward_rules
	from crm_pool.sharing.model import CONTRACT, REVENUE, REWARD_LINE, contract_key

	per_sharer: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: [0, Decimal(0)]))
	for name in shares:
		share = frappe.get_doc("Customer Share", name)
		if not frappe.db.exists("Referral Reward Rule", share.business_line):
			continue
		rule = frappe.get_doc("Referral Reward Rule", share.business_line)
		lft, rgt = frappe.db.get_value("Item Group", rule.business_line, ["lft", "rgt"])
		measures = per_sharer[share.sharer][rule.name]
		for doctype, date_field in (("Sales Order", "transaction_date"), ("Sales Invoice", "posting_date")):
			docs = frappe.get_all(
				doctype,
				filters={
					"customer": share.customer,
					"docstatus": 1,
					"company": frappe.defaults.get_global_default("company"),
					date_field: ("between", (start, end)),
				},
				pluck="name",
			)
			for doc in docs:
				items = frappe.get_all(
					f"{doctype} Item", filters={"parent": doc}, fields=["item_group", "base_net_amount"]
				)
				mine = [
					i
					for i in items
					if lft <= frappe.get_cached_value("Item Group", i.item_group, "lft")
					and frappe.get_cached_value("Item Group", i.item_group, "rgt") <= rgt
				]
				kind = CONTRACT if doctype == "Sales Order" else REVENUE
				if not mine or frappe.db.exists(
					REWARD_LINE, {"contract_key": contract_key(kind, doctype, doc)}
				):
					continue
				if kind == CONTRACT:
					measures[0] += 1
				elif rule.revenue_basis == "Actual":
					measures[1] += Decimal(str(sum(i.base_net_amount for i in mine))) / 10000
		if rule.revenue_basis == "Estimated" and measures[0]:
			measures[1] += Decimal(str(share.estimated_revenue or 0))
	written = 0
	for sharer, by_rule in per_sharer.items():
		amount = 0
		for rule_name, (contracts, revenue) in by_rule.items():
			rule = frappe.get_cached_doc("Referral Reward Rule", rule_name)
			for tier in rule.tiers:
				if reward_rules.tier_matches(reward_rules.tier_of(tier), contracts, revenue):
					amount = max(amount, tier.reward_amount)
		if amount:
			frappe.get_doc(
				{
					"doctype": "Referral Reward",
					"sharer": sharer,
					"company": frappe.defaults.get_global_default("company"),
					"period_start": start,
					"period_end": end,
					"reward_amount": amount,
				}
			).insert(ignore_permissions=True, ignore_links=True)
			written += 1
	return written


def main() -> None:
	parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	parser.add_argument("--site", default=os.environ.get("CRM_POOL_BENCH_SITE"))
	parser.add_argument("--shares", type=int, default=10_000)
	parser.add_argument("--orders", type=int, default=20_000)
	parser.add_argument("--invoices", type=int, default=100_000)
	parser.add_argument("--sample", type=int, default=200)
	parser.add_argument("--keep", action="store_true", help="keep the BENCH-RW-… rows")
	parser.add_argument("--clear", action="store_true", help="only delete the BENCH-RW-… rows")
	args = parser.parse_args()
	connect(args.site)
	try:
		clear_data()
		if args.clear:
			print("cleared")
			return
		print("data:", make_data(args.shares, args.orders, args.invoices))
		from crm_pool.sharing import rewards

		start, end = period()
		# as the monthly job runs it: every sharer (a site of its own: its other drafts of last month
		# are recomputed too), committed
		began = time.monotonic()
		summary = rewards.compute(start, end)
		frappe.db.commit()
		set_based = time.monotonic() - began
		print(f"set-based compute(): {set_based:.2f} s for {args.shares} shares: {summary}")
		began = time.monotonic()
		summary = rewards.compute(start, end)
		frappe.db.commit()
		print(f"recompute (drafts deleted and written again): {time.monotonic() - began:.2f} s: {summary}")
		sharers = [f"bench-rw-{i}@crm-pool.invalid" for i in range(0, SHARERS, 10)]
		began = time.monotonic()
		summary = rewards.compute(start, end, sharers=sharers)
		frappe.db.commit()
		print(f"recompute of {len(sharers)} sharers: {time.monotonic() - began:.2f} s: {summary}")
		# the naive loop starts from the same state: no rewards of the period
		frappe.db.sql(
			"""DELETE rl FROM `tabReferral Reward Line` rl JOIN `tabReferral Reward` r ON r.name = rl.parent
			WHERE r.sharer LIKE 'bench-rw-%%'"""
		)
		frappe.db.sql("DELETE FROM `tabReferral Reward` WHERE sharer LIKE 'bench-rw-%%'")
		frappe.db.commit()
		sample = [f"{P}CS-{i:06d}" for i in range(1, args.shares + 1, max(1, args.shares // args.sample))]
		began = time.monotonic()
		written = one_by_one(sample, start, end)
		loop = time.monotonic() - began
		frappe.db.rollback()
		per_share = loop / len(sample)
		extrapolated = per_share * args.shares
		print(
			f"naive ORM loop: {loop:.2f} s for {len(sample)} shares ({written} rewards inserted), "
			f"{per_share * 1000:.1f} ms/share → {extrapolated:.0f} s for {args.shares} shares"
		)
		print(f"ratio (naive extrapolated / set-based): {extrapolated / set_based:.0f}x")
	finally:
		frappe.db.rollback()
		if not args.keep:
			clear_data()
		frappe.destroy()


if __name__ == "__main__":
	main()
