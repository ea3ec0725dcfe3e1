"""Benchmark: what following the customer costs every change of owner (SPEC §5, §8).

    cd frappe-bench/sites && ../env/bin/python ../apps/crm_pool/benchmarks/share_follow.py SITE \
        [--shares 20000] [--assign 1000]

`crm_pool.sharing.shares.follow` runs at the end of every `write_owners` (claim, assignment, release,
recycling, transfer) and of every Lead → Customer conversion, over the open shares of the customers
that changed (with no scope: all open shares). This makes a pool with `--shares` in-pool customers,
one open share each (inserted set-based), then times `follow()` over all of them with nothing to
change, a claim with and without it, and a manager's assignment of `--assign`
customers at once. Everything happens in one transaction, rolled back at the end: nothing is left.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid

import frappe


def main() -> None:
	parser = argparse.ArgumentParser()
	parser.add_argument("site")
	parser.add_argument("--shares", type=int, default=20000)
	parser.add_argument("--assign", type=int, default=1000)
	options = parser.parse_args()
	frappe.init(site=options.site, sites_path=os.getcwd())
	frappe.connect()
	frappe.flags.in_test = True
	frappe.set_user("Administrator")
	frappe.local.db.commit = lambda: None  # one transaction, rolled back at the end
	try:
		run(options.shares, options.assign)
	finally:
		frappe.db.rollback()
		frappe.destroy()


def run(count: int, assign: int) -> None:
	from crm_pool.bulk_demo import insert_pool_customers, insert_sales_users
	from crm_pool.pool import ownership
	from crm_pool.sharing import shares

	tag = uuid.uuid4().hex[:6]
	seller = insert_sales_users(f"share-bench-{tag}", 1)[0]
	pool = frappe.get_doc(
		{"doctype": "Customer Pool", "pool_name": f"共享压测-{tag}", "members": [{"user": seller}]}
	).insert(ignore_permissions=True)
	t = time.perf_counter()
	pcs, _leads = insert_pool_customers(pool.name, count, prefix=f"SHARE{tag}")
	print(f"{count} in-pool customers: {time.perf_counter() - t:.1f} s")

	t, now = time.perf_counter(), frappe.utils.now_datetime()
	meta = (now, now, "Administrator", "Administrator")
	fixed = ("All Territories", "All Item Groups", "压测", "Shared")
	columns = "name, creation, modified, owner, modified_by, company_name, territory, business_line, "
	columns += "business_needed, status, pool_customer, sharer"
	for start in range(0, count, 1000):
		rows = [
			(f"CS-{tag}-{i:07d}", *meta, f"压测{i}", *fixed, pcs[i], "Administrator")
			for i in range(start, min(count, start + 1000))
		]
		frappe.db.sql(  # set-based: the open shares, a thousand rows per statement
			f"INSERT INTO `tabCustomer Share` ({columns}) VALUES "
			+ ", ".join(["(" + ", ".join(["%s"] * 12) + ")"] * len(rows)),
			[value for row in rows for value in row],
		)
	print(f"{count} open shares: {time.perf_counter() - t:.1f} s")

	for _ in range(3):
		t = time.perf_counter()
		shares.follow()
		print(f"follow(), nothing to change: {1000 * (time.perf_counter() - t):.1f} ms")
	for i, with_follow in enumerate((True, True, False, False)):
		original = shares.follow
		if not with_follow:
			shares.follow = lambda *scope: None
		t = time.perf_counter()
		ownership.claim(pcs[i], seller)
		elapsed = 1000 * (time.perf_counter() - t)
		shares.follow = original
		print(f"claim {'with' if with_follow else 'without'} follow(): {elapsed:.0f} ms")
	accepted = frappe.db.count("Customer Share", {"pool_customer": ("in", pcs[:2]), "status": "Accepted"})
	assert accepted == 2, accepted

	rows = [frappe._dict(name=name) for name in pcs[10 : 10 + assign]]
	t = time.perf_counter()
	ownership.set_owner_many(rows, seller, "Assign", reason="benchmark")
	print(f"assign {assign} at once (follow() included): {time.perf_counter() - t:.2f} s")
	accepted = frappe.db.count(
		"Customer Share", {"pool_customer": ("in", pcs[10 : 10 + assign]), "status": "Accepted"}
	)
	assert accepted == assign, accepted


if __name__ == "__main__":
	main()
