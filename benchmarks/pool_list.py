"""Benchmark: the pool board's first page through the REST API (SPEC §8: p95 under 200 ms at
1,000,000 pool customers).

    cd frappe-bench/sites
    ../env/bin/python ../apps/crm_pool/benchmarks/pool_list.py --site SITE [--requests 200] [--user EMAIL]

Run it on a site holding the bulk demo data (`bench --site SITE crm-pool-bulk --count 1000000`).
It serves the site with Frappe's own web server on a free loopback port, signs in as a sales user
(default: a demo sales user; API key and secret generated for the run), and requests first pages
(20 rows, newest first) of /api/resource/Pool Customer as the pool board does: in-pool customers of
the user's pools, filtered in turn by pool, territory, industry and days in pool. Prints the row
count the user can see, then p50/p95/p99/max per filter and overall. The sales user's record-level
permission condition is part of every query.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import frappe
from frappe.utils import add_days, nowdate

FIELDS = ["name", "customer_name", "status", "pool", "territory", "mobile_masked", "owned_by", "modified"]


def free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def serve(site: str) -> tuple[subprocess.Popen, str]:
	port = free_port()
	proc = subprocess.Popen(
		[
			sys.executable,
			"-m",
			"frappe.utils.bench_helper",
			"frappe",
			"--site",
			site,
			"serve",
			"--port",
			str(port),
			"--noreload",
			"--nothreading",
		],
		cwd=os.getcwd(),
		stdout=subprocess.DEVNULL,
		stderr=subprocess.DEVNULL,
	)
	url = f"http://127.0.0.1:{port}"
	for _ in range(200):
		try:
			urllib.request.urlopen(url + "/api/method/ping", timeout=2)
			return proc, url
		except OSError:
			time.sleep(0.3)
	proc.kill()
	raise SystemExit("the web server did not start")


def percentile(values: list[float], p: float) -> float:
	values = sorted(values)
	return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main() -> None:
	parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	parser.add_argument("--site", default=os.environ.get("CRM_POOL_BENCH_SITE"))
	parser.add_argument("--requests", type=int, default=200, help="requests per filter")
	parser.add_argument("--user", default="zhang.wei@demo.crm-pool.cn")
	args = parser.parse_args()

	frappe.init(site=args.site, sites_path=os.getcwd())
	frappe.connect()
	from frappe.core.doctype.user.user import generate_keys

	from crm_pool.core.settings import user_pools

	frappe.set_user("Administrator")
	secret = generate_keys(args.user)["api_secret"]
	auth = f"token {frappe.db.get_value('User', args.user, 'api_key')}:{secret}"
	pools = user_pools(args.user)
	pool_sizes = dict(
		frappe.db.sql("SELECT pool, COUNT(*) FROM `tabPool Customer` WHERE status = 'In Pool' GROUP BY pool")
	)
	biggest = max(pools, key=lambda p: pool_sizes.get(p, 0))
	territory, industry = frappe.db.get_value(
		"Pool Customer", {"pool": biggest, "status": "In Pool"}, ["territory", "industry"]
	)
	total = frappe.db.count("Pool Customer")
	month_ago, days_ago = add_days(nowdate(), -30), add_days(nowdate(), -3)
	frappe.db.commit()
	frappe.destroy()

	base = [["status", "=", "In Pool"]]
	cases = {
		"pool": [*base, ["pool", "=", biggest]],
		"territory": [*base, ["territory", "=", territory]],
		"industry": [*base, ["industry", "=", industry]],
		"days in pool >= 3": [*base, ["pool_entered_at", "between", ["2000-01-01", days_ago]]],
		"days in pool >= 30": [*base, ["pool_entered_at", "between", ["2000-01-01", month_ago]]],
		"board default": base,
	}
	proc, url = serve(args.site)
	try:
		everything: list[float] = []
		print(f"site {args.site}: {total:,} pool customers; user {args.user}, member of {len(pools)} pools")
		for label, filters in cases.items():
			query = urllib.parse.urlencode(
				{
					"fields": json.dumps(FIELDS),
					"filters": json.dumps(filters),
					"order_by": "modified desc",
					"limit_page_length": 20,
				}
			)
			request = urllib.request.Request(
				f"{url}/api/resource/Pool%20Customer?{query}", headers={"Authorization": auth}
			)
			times, rows = [], 0
			for _ in range(args.requests):
				t0 = time.perf_counter()
				with urllib.request.urlopen(request, timeout=60) as response:
					rows = len(json.loads(response.read())["data"])
				times.append((time.perf_counter() - t0) * 1000)
			everything += times
			print(
				f"  {label:<20} rows {rows:>2}  p50 {percentile(times, 50):6.1f} ms  p95 {percentile(times, 95):6.1f} ms"
				f"  p99 {percentile(times, 99):6.1f} ms  max {max(times):6.1f} ms"
			)
		print(
			f"  {'all':<20}          p50 {percentile(everything, 50):6.1f} ms  p95 {percentile(everything, 95):6.1f} ms"
			f"  p99 {percentile(everything, 99):6.1f} ms  mean {statistics.mean(everything):6.1f} ms"
		)
	finally:
		proc.terminate()
		proc.wait(10)


if __name__ == "__main__":
	main()
