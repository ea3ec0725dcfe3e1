"""Benchmark: claims through the production web server, each user with their own session (SPEC §8).

    cd frappe-bench/sites && ../env/bin/python ../apps/crm_pool/benchmarks/claims_http.py SITE \
        [--url http://127.0.0.1:80] [--users 50] [--customers 1000] [--cap 40] [--duration 60] \
        [--rate 1.0] [--step-seconds 10] [--step-factor 1.3] [--paths serialized,new] \
        [--phases open,burst,saturation] [--start-rate 2] [--noop-start-rate 40] [--attempt-start-rate 20] \
        [--rounds 1]

Against a server started by `scripts/up --production` (nginx in front of gunicorn: give nginx's port;
gunicorn's own port works too, the Host header names the site). It creates (and removes afterwards)
`--users` sales users with a password, each logged in over HTTP with its own session (cookie), and
for each phase a pool of `--customers` in-pool customers with an owned cap of `--cap`, all set-based
with the helpers of benchmarks/claims.py. Then, for each claim path (the site config key
`crm_pool_claim_path`: "serialized" = the pool-row lock and `assign_to.add`, absent = the new path):

1. open loop: every user attempts about `--rate` claims per second (Poisson arrivals, each request
   sent at its arrival time whether or not the earlier ones were answered) for `--duration` seconds;
2. burst: every user claims the same customer at the same instant (one answer each within 1 s, one
   winner);
3. saturation: the offered rate (open loop, Poisson) raised step by step (×`--step-factor`,
   `--step-seconds` each but at least 60 requests) until p99 passes 300 ms, for
   a) the authenticated no-op `frappe.auth.get_logged_user` (Frappe's floor: a request that does
      nothing but resume its session),
   b) successful claims: a fresh pool each step, with enough customers (and a cap high enough) that
      the step's attempts do not run out of them,
   c) claim attempts: every step on the same `--customers` customers, which the first steps take:
      from then on the attempts are refusals ("already claimed"), what most attempts are once a
      pool is taken;
   the throughput of the last step under 300 ms of each, and the ratios of b) and c) to a). The
   three searches take their steps in turn (a step of a), of b), of c), then the next of each), so
   that a ratio compares figures of the same minutes on a machine whose speed moves
   (`--no-interleave`: one search after the other). The no-op's capacity with all users back to
   back (closed loop) is printed too. With `--rounds N` the saturation runs N times and prints each
   round's ratios and their medians (one round moves by ±15% on a machine whose speed moves); the
   round with the median ratio of successful claims is the one compared with the other path.

`--phases` picks among open, burst and saturation (all by default; one alone is handy under a
profiler).

A user picks a customer it believes is still in the pool (the board it would be looking at: every
success and every "already claimed" answer seen by any user updates it), at random; when none is
left, any customer of the pool. Latency is measured from the arrival time (includes any delay of the
load generator). Prints p50/p95/p99/max for successes and refusals separately, checks the invariants
(one owner and one claim log entry per customer, the owner the user who got the success, no cap
exceeded, every refusal a 4xx with a message, no 5xx), and the ratios of the two paths.

The load generator is one asyncio event loop with a minimal HTTP/1.1 keep-alive client of its own
(no dependency: neither aiohttp nor httpx is in the bench's env; `requests` would need a thread per
request in flight), so it takes little of the CPU the server shares with it.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import random
import resource
import statistics
import sys
import time
import urllib.parse
import uuid

import frappe

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import claims

PASSWORD = "Claims-http-" + uuid.uuid4().hex[:12]
CLAIM = "/api/method/crm_pool.api.pool.claim"
NOOP = "/api/method/frappe.auth.get_logged_user"
P99_LIMIT = 0.300
ARGS = argparse.Namespace(step_seconds=10)


# --- a minimal HTTP/1.1 client (keep-alive, Content-Length or chunked bodies) -------------------


class Connection:
	def __init__(self, host: str, port: int):
		self.host, self.port = host, port
		self.reader = self.writer = None

	async def request(self, method: str, path: str, headers: dict, body: bytes = b""):
		for attempt in (0, 1):
			fresh = self.writer is None
			if fresh:
				self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
			head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
			head += f"Content-Length: {len(body)}\r\n\r\n"
			try:
				self.writer.write(head.encode() + body)
				await self.writer.drain()
				status_line = await self.reader.readline()
				if not status_line:
					raise ConnectionResetError
			except (ConnectionError, OSError):
				self.close()
				if fresh or attempt:  # a reused keep-alive connection the server closed: once more
					raise
				continue
			return await self._response(status_line)

	async def _response(self, status_line: bytes):
		status = int(status_line.split()[1])
		headers: dict[str, list[str]] = {}
		while (line := await self.reader.readline()) not in (b"\r\n", b"\n", b""):
			k, _, v = line.decode("latin-1").partition(":")
			headers.setdefault(k.strip().lower(), []).append(v.strip())
		if "chunked" in ",".join(headers.get("transfer-encoding", [])):
			body = b""
			while size := int((await self.reader.readline()).split(b";")[0], 16):
				body += await self.reader.readexactly(size)
				await self.reader.readline()
			while (await self.reader.readline()) not in (b"\r\n", b"\n", b""):
				pass
		else:
			body = await self.reader.readexactly(int(headers.get("content-length", ["0"])[0]))
		if "close" in ",".join(headers.get("connection", [])).lower():
			self.close()
		return status, headers, body

	def close(self):
		if self.writer:
			self.writer.close()
		self.reader = self.writer = None


class Client:
	"""One user: a session cookie and as many keep-alive connections as requests in flight."""

	def __init__(self, host: str, port: int, site: str, user: str):
		self.host, self.port, self.site, self.user = host, port, site, user
		self.idle: list[Connection] = []
		self.cookie = ""

	async def call(self, path: str, data: dict | None = None):
		conn = self.idle.pop() if self.idle else Connection(self.host, self.port)
		headers = {"Host": self.site, "Accept": "application/json"}
		if self.cookie:
			headers["Cookie"] = self.cookie
		body = b""
		if data is not None:
			body = urllib.parse.urlencode(data).encode()
			headers["Content-Type"] = "application/x-www-form-urlencoded"
		try:
			status, hdrs, raw = await conn.request("POST", path, headers, body)
		except Exception:
			conn.close()
			raise
		self.idle.append(conn)
		return status, hdrs, raw

	async def login(self):
		status, hdrs, raw = await self.call("/api/method/login", {"usr": self.user, "pwd": PASSWORD})
		sid = [c.split(";")[0] for c in hdrs.get("set-cookie", []) if c.startswith("sid=")]
		if status != 200 or not sid:
			raise SystemExit(f"login of {self.user} failed: {status} {raw[:300]!r}")
		self.cookie = sid[0]

	async def logout(self):
		await self.call("/api/method/logout", {})
		for c in self.idle:
			c.close()
		self.idle = []


def message_of(raw: bytes) -> str:
	"""The message Frappe shows for a refusal (its `_server_messages`, else `exception`)."""
	try:
		data = json.loads(raw)
	except ValueError:
		return ""
	msgs = []
	for m in json.loads(data.get("_server_messages") or "[]"):
		try:
			m = json.loads(m)
		except ValueError:
			pass
		msgs.append(m.get("message", "") if isinstance(m, dict) else str(m))
	return " ".join(x for x in msgs if x) or (data.get("exception") or "").split(":", 1)[-1].strip()


# --- set-up, checks, tear-down (in-process Frappe connection) ------------------------------------


def set_up_users(tag: str, count: int) -> list[str]:
	from frappe.utils.password import update_password

	from crm_pool.bulk_demo import insert_sales_users

	users = insert_sales_users(f"httpb-{tag}", count)
	for u in users:
		update_password(u, PASSWORD, logout_all_sessions=False)
	frappe.db.commit()
	return users


def make_pool(tag: str, users: list[str], customers: int, cap: int, label: str) -> frappe._dict:
	from crm_pool.bulk_demo import insert_pool_customers

	name = f"{tag}{label}"
	pool = frappe.get_doc(
		{
			"doctype": "Customer Pool",
			"pool_name": f"HTTP压测公海-{name}",
			"require_review": 0,
			"max_owned": cap,
			"members": [{"user": u} for u in users],
		}
	).insert(ignore_permissions=True)
	pcs, leads = insert_pool_customers(pool.name, customers, prefix=f"CH{name}")
	frappe.db.commit()
	return frappe._dict(tag=tag, users=users, pool=pool.name, pcs=pcs, leads=leads, cap=cap)


def tear_down(pools: list[frappe._dict], users: list[str]) -> None:
	frappe.db.rollback()
	for made in pools:
		for table, col in (
			("Comment", "reference_name"),
			("Email Queue", "reference_name"),
			("Version", "docname"),
		):
			frappe.db.sql(f"DELETE FROM `tab{table}` WHERE {col} IN %s", (made.leads + made.pcs,))
		claims.tear_down(made)
	if users:
		frappe.db.sql("DELETE FROM `tabNotification Log` WHERE for_user IN %s", (users,))
		frappe.db.sql("DELETE FROM `tabSessions` WHERE user IN %s", (users,))
		frappe.db.sql("DELETE FROM `tabActivity Log` WHERE user IN %s", (users,))
		frappe.db.sql("DELETE FROM `__Auth` WHERE doctype = 'User' AND name IN %s", (users,))
		frappe.db.sql("DELETE FROM `tabHas Role` WHERE parent IN %s", (users,))
		frappe.db.sql("DELETE FROM `tabUser` WHERE name IN %s", (users,))
	frappe.db.commit()


def check_invariants(made: frappe._dict, results: list[tuple]) -> list[str]:
	"""Broken invariants of one pool after a phase, as sentences (empty: all hold)."""
	frappe.db.rollback()  # a fresh snapshot: see what the server committed
	problems = []
	owners = dict(
		frappe.db.sql(
			"SELECT name, owned_by FROM `tabPool Customer` WHERE pool = %s AND owned_by IS NOT NULL",
			made.pool,
		)
	)
	logs = frappe.db.sql(
		"SELECT pool_customer, COUNT(*) FROM `tabPool Log` WHERE pool = %s AND action = 'Claim' GROUP BY pool_customer",
		made.pool,
	)
	if any(n > 1 for _, n in logs):
		problems.append(f"{sum(n > 1 for _, n in logs)} customers with two claim log entries")
	if len(logs) != len(owners):
		problems.append(f"{len(logs)} customers with a claim log entry but {len(owners)} owned")
	wins = [(user, pc) for user, pc, kind, *_ in results if kind == "ok"]
	lost = sum(kind == "error" for _, _, kind, *_ in results)  # answers lost: their claims may have run
	if len({pc for _, pc in wins}) != len(wins):
		problems.append("one customer answered as claimed to two requests")
	if not len(wins) <= len(owners) <= len(wins) + lost:
		problems.append(
			f"{len(wins)} successes answered ({lost} answers lost) but {len(owners)} customers owned"
		)
	if any(owners.get(pc) != user for user, pc in wins):
		problems.append("a success answered to a user who does not own the customer")
	per_user: dict[str, int] = {}
	for u in owners.values():
		per_user[u] = per_user.get(u, 0) + 1
	if per_user and max(per_user.values()) > made.cap:
		problems.append(f"a user owns {max(per_user.values())} customers, over the cap {made.cap}")
	bad = [r for r in results if r[2] == "error"]
	if bad:
		problems.append(f"{len(bad)} answers neither a success nor a 4xx refusal with a message: {bad[0][4]}")
	return problems


# --- load --------------------------------------------------------------------------------------


class Board:
	"""What users believe is still in the pool (the pool board they would be looking at)."""

	def __init__(self, pcs: list[str], rng: random.Random):
		self.all, self.free, self.rng = pcs, set(pcs), rng

	def pick(self) -> str:
		return self.rng.choice(tuple(self.free)) if self.free else self.rng.choice(self.all)


async def claim_once(client: Client, pc: str, board: Board, t_arrival: float, results: list):
	try:
		status, _, raw = await client.call(CLAIM, {"pool_customer": pc})
	except Exception as e:
		results.append(
			(client.user, pc, "error", time.perf_counter() - t_arrival, f"{type(e).__name__}: {e}")
		)
		return
	latency = time.perf_counter() - t_arrival
	if status == 200:
		board.free.discard(pc)
		results.append((client.user, pc, "ok", latency, ""))
		return
	msg = message_of(raw)
	if 400 <= status < 500 and msg:
		if "most allowed" not in msg and "上限" not in msg:  # not a cap of this user's
			board.free.discard(pc)  # taken (or otherwise not claimable): off the board
		results.append((client.user, pc, "refused", latency, f"{status} {msg}"))
	else:
		results.append((client.user, pc, "error", latency, f"{status} {raw[:200]!r}"))


async def open_loop(clients: list[Client], fire, rate_per_user: float, seconds: float, seed: int):
	"""Each user: Poisson arrivals at `rate_per_user`/s for `seconds`; each request sent at its time,
	whether or not the user's earlier ones were answered: `fire(client, t_arrival, results)`."""
	results: list = []
	tasks: list = []
	t0 = time.perf_counter()

	async def user_loop(client: Client, rng: random.Random):
		t = rng.expovariate(rate_per_user)
		while t < seconds:
			delay = t0 + t - time.perf_counter()
			if delay > 0:
				await asyncio.sleep(delay)
			tasks.append(asyncio.ensure_future(fire(client, t0 + t, results)))
			t += rng.expovariate(rate_per_user)

	await asyncio.gather(*(user_loop(c, random.Random(seed * 1000 + i)) for i, c in enumerate(clients)))
	await asyncio.gather(*tasks)
	return results, time.perf_counter() - t0


def claims_of(board: Board):
	return lambda client, t, results: claim_once(client, board.pick(), board, t, results)


async def noop_once(client: Client, t_arrival: float, results: list):
	try:
		status, _, raw = await client.call(NOOP)
		kind = "ok" if status == 200 and client.user.encode() in raw else "error"
		detail = "" if kind == "ok" else f"{status} {raw[:200]!r}"
	except Exception as e:
		kind, detail = "error", f"{type(e).__name__}: {e}"
	results.append((client.user, None, kind, time.perf_counter() - t_arrival, detail))


async def burst(clients: list[Client], pc: str):
	results: list = []
	board = Board([pc], random.Random(0))
	for c in clients:  # one open connection each, so that all requests leave at once
		await c.call(NOOP)
	t0 = time.perf_counter()
	await asyncio.gather(*(claim_once(c, pc, board, t0, results) for c in clients))
	return results


async def closed_loop_noop(clients: list[Client], seconds: float):
	"""Every user back to back: the server's throughput for an authenticated request doing nothing."""
	lat: list[float] = []
	end = time.perf_counter() + seconds

	async def loop(c: Client):
		while time.perf_counter() < end:
			t = time.perf_counter()
			status, _, _ = await c.call(NOOP)
			if status == 200:
				lat.append(time.perf_counter() - t)

	t0 = time.perf_counter()
	await asyncio.gather(*(loop(c) for c in clients))
	return lat, time.perf_counter() - t0


# --- reporting ---------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
	values = sorted(values)
	return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] if values else float("nan")


def stats(values: list[float]) -> str:
	if not values:
		return "none"
	ms = [v * 1000 for v in values]
	return (
		f"{len(ms):5d}  p50 {pct(ms, 50):7.1f}  p95 {pct(ms, 95):7.1f}  p99 {pct(ms, 99):7.1f}  "
		f"max {max(ms):7.1f} ms"
	)


def summarize(label: str, results: list, wall: float, offered: float = float("nan")) -> dict:
	ok = [r[3] for r in results if r[2] == "ok"]
	ref = [r[3] for r in results if r[2] == "refused"]
	every = [r[3] for r in results]
	print(f"  {label}: {len(results)} attempts in {wall:.1f} s ({len(results) / wall:.1f}/s)")
	print(f"    successes {stats(ok)}")
	print(f"    refusals  {stats(ref)}")
	kinds: dict[str, int] = {}
	for r in results:
		if r[2] == "refused":
			k = r[4][:60]
			kinds[k] = kinds.get(k, 0) + 1
	for k, n in sorted(kinds.items(), key=lambda x: -x[1])[:3]:
		print(f"      {n} × {k}")
	return {
		"offered": offered,
		"attempts_per_s": len(results) / wall,
		"ok_per_s": len(ok) / wall,
		"p99": pct(every, 99),
		"p99_ok": pct(ok, 99),
		"p99_refused": pct(ref, 99),
	}


async def saturate(
	step_fn, start_rate: float, args, problems: list | None = None, turn: asyncio.Lock | None = None
) -> dict | None:
	"""Raise the offered rate step by step (×`--step-factor`) until p99 passes 300 ms (from a lower
	rate if the first is over it already), then once more in finer steps (×1.1) from the last rate
	under 300 ms up to the one over it; the summary of the
	last step with p99 ≤ 300 ms. A step over 300 ms is run once more before it counts (the cores are
	shared: one hiccup of another process should not end the search). `turn`: a lock the searches
	run concurrently share, each step taken under it; asyncio's lock wakes its waiters in order, so
	the searches take their steps in turn (one of each, then the next of each)."""
	best, step = None, 0
	turn = turn or asyncio.Lock()

	async def search(rate: float, factor: float, until: float) -> float | None:
		nonlocal best, step
		retried = False
		while step < args.max_steps and rate < until:
			step += 1
			async with turn:
				summary, broken = await step_fn(rate, step)
			if problems is not None:
				problems.extend(broken)
			if summary["p99"] > P99_LIMIT:
				if retried:
					return rate
				retried = True
				print("    (over 300 ms: once more at this rate)")
				continue
			best, retried = summary, False
			rate *= factor
		return None

	over = await search(start_rate, args.step_factor, float("inf"))
	rate = start_rate
	while not best and step < args.max_steps:  # over 300 ms at the first rate: down until under it
		rate /= args.step_factor
		print("    (over 300 ms at the first rate: a lower one)")
		over = await search(rate, args.step_factor, over * 0.99) or over
	if over and best and args.step_factor > 1.15:
		print("    (finer steps from the last rate under 300 ms)")
		await search(best["offered"] * 1.1, 1.1, over * 0.99)
	return best


def step_seconds(rate: float) -> float:
	"""A step lasts --step-seconds, longer at low rates: at least 60 requests, so that p99 is not
	just the slowest of a handful."""
	return max(ARGS.step_seconds, 60 / rate)


def set_claim_path(site: str, path: str | None) -> None:
	"""What `bench --site SITE set-config crm_pool_claim_path serialized` (or its removal) does."""
	from frappe.installer import update_site_config

	update_site_config("crm_pool_claim_path", path or "None", site_config_path=f"{site}/site_config.json")


async def run_path(args, site: str, clients: list[Client], tag: str, label: str, pools: list) -> dict:
	users = [c.user for c in clients]
	out: dict = {}
	problems: list[str] = []

	def pool(name: str, customers: int | None = None, cap: int | None = None) -> frappe._dict:
		made = make_pool(tag, users, customers or args.customers, cap or args.cap, f"{label[:1]}{name}")
		pools.append(made)
		return made

	# Warm-up, not counted: every web worker serves claims and the no-op before anything is measured
	# (a worker's first claim imports the app's modules and reads its caches: hundreds of ms; a
	# server just (re)started, or whose workers gunicorn just renewed, would otherwise show that).
	warm = pool("w")
	res, _wall = await open_loop(clients, claims_of(Board(warm.pcs, random.Random(0))), 0.4, 5, 999)
	res2, _wall = await open_loop(clients, noop_once, 1.0, 3, 998)
	print(f"\n[{label}] warm-up: {len(res) + len(res2)} requests, not counted")

	if "open" in args.phases:
		made = pool("o")
		print(
			f"\n[{label}] 1. open loop: {len(clients)} users × {args.rate}/s (Poisson) for {args.duration:.0f} s, {args.customers} customers"
		)
		res, wall = await open_loop(
			clients, claims_of(Board(made.pcs, random.Random(1))), args.rate, args.duration, 1
		)
		out["open"] = summarize("open loop", res, wall)
		problems += check_invariants(made, res)

	if "burst" in args.phases:
		made = pool("b")
		print(f"[{label}] 2. burst: {len(clients)} users claim one customer at the same instant")
		res = await burst(clients, made.pcs[0])
		winners = sum(r[2] == "ok" for r in res)
		slowest = max(r[3] for r in res)
		out["burst"] = {"winners": winners, "slowest": slowest}
		print(
			f"    {winners} winner(s), {len(res) - winners} refusals, all answered within {slowest * 1000:.0f} ms"
		)
		summarize("burst", res, max(slowest, 1e-9))
		if winners != 1:
			problems.append(f"burst: {winners} winners")
		problems += check_invariants(made, res)

	if "saturation" not in args.phases:
		out["problems"] = problems
		return out
	print(f"[{label}] 3. saturation (offered rate raised ×{args.step_factor} a step until p99 > 300 ms)")
	lat, wall = await closed_loop_noop(clients, args.step_seconds)
	out["noop_max"] = len(lat) / wall
	print(
		f"    no-op (frappe.auth.get_logged_user), {len(clients)} users back to back: {out['noop_max']:.1f} req/s, "
		f"p50 {pct(lat, 50) * 1000:.0f} ms, p99 {pct(lat, 99) * 1000:.0f} ms"
	)

	taken = itertools.count(1)  # steps taken in all rounds: each its own pool name and seed

	async def noop_step(rate, _step):
		step = next(taken)
		res, wall = await open_loop(clients, noop_once, rate / len(clients), step_seconds(rate), 5000 + step)
		return summarize(f"no-op offered {rate:.1f}/s", res, wall, rate), []

	async def claim_step(rate, _step):
		step = next(taken)
		# enough customers that the step's attempts do not run out of them, and a cap that lets the
		# users take them all: the step measures successful claims, not the refusals of an empty pool
		seconds = step_seconds(rate)
		customers = max(args.customers, math.ceil(rate * seconds * 1.25))
		made = pool(f"s{step}", customers, max(args.cap, math.ceil(customers * 1.5 / len(users))))
		res, wall = await open_loop(
			clients,
			claims_of(Board(made.pcs, random.Random(step))),
			rate / len(clients),
			seconds,
			1000 + step,
		)
		return summarize(f"claims offered {rate:.1f}/s", res, wall, rate), check_invariants(made, res)

	shared = pool("a")
	shared_board = Board(shared.pcs, random.Random(7))
	shared_results: list = []

	async def attempt_step(rate, _step):
		step = next(taken)
		res, wall = await open_loop(
			clients, claims_of(shared_board), rate / len(clients), step_seconds(rate), 3000 + step
		)
		shared_results.extend(res)
		return summarize(f"attempts offered {rate:.1f}/s", res, wall, rate), []

	print("    a) the no-op, Frappe's floor")
	print(f"    b) successful claims: a fresh pool of {args.customers} customers each step")
	print(
		f"    c) claim attempts: every step on the same {args.customers} customers (taken in the first "
		"steps, then the attempts are refusals)"
	)
	rounds = []
	for round_no in range(1, args.rounds + 1):
		if args.rounds > 1:
			print(f"    round {round_no} of {args.rounds}")
		before = cpu_times()
		found = await saturation_round(args, noop_step, claim_step, attempt_step, problems)
		rounds.append((*found, stolen_share(before, cpu_times())))
		print_round(*found, args)
		print(f"    CPU time the hypervisor took during the round (steal): {rounds[-1][-1]:.1%}")
	out["noop"], out["saturation"], out["attempts"], _stolen = median_round(rounds)
	out["rounds"] = rounds
	problems += check_invariants(shared, shared_results)
	if args.rounds > 1:
		print_rounds(rounds)
	out["problems"] = problems
	print(f"    invariants: {'all hold' if not problems else '; '.join(problems)}")
	return out


async def saturation_round(args, noop_step, claim_step, attempt_step, problems: list) -> tuple:
	"""One saturation: the three searches (no-op, successful claims, attempts); their best steps."""
	if args.interleave:  # one step of each in turn: the three see the machine at the same times
		print("    (interleaved: a step of a), of b) and of c) in turn)")
		turn = asyncio.Lock()
		return tuple(
			await asyncio.gather(
				saturate(noop_step, args.noop_start_rate, args, turn=turn),
				saturate(claim_step, args.start_rate, args, problems, turn=turn),
				saturate(attempt_step, args.attempt_start_rate, args, turn=turn),
			)
		)
	noop = await saturate(noop_step, args.noop_start_rate, args)  # one search after the other
	best = await saturate(claim_step, args.start_rate, args, problems)
	attempts = await saturate(attempt_step, args.attempt_start_rate, args)
	return noop, best, attempts


def cpu_times() -> list[int]:
	"""The machine's CPU time by kind (/proc/stat's first line: user, nice, system, idle, iowait, irq,
	softirq, steal), in ticks; empty where there is no /proc."""
	try:
		with open("/proc/stat") as stat:
			return [int(v) for v in stat.readline().split()[1:9]]
	except OSError:
		return []


def stolen_share(before: list[int], after: list[int]) -> float:
	"""The share of the machine's CPU time its hypervisor took between two `cpu_times` (steal): the
	machine runs slower by about that much, and not evenly over a round."""
	if len(before) < 8 or len(after) < 8:
		return float("nan")
	spent = [b - a for a, b in zip(before, after, strict=True)]
	return spent[7] / sum(spent) if sum(spent) else float("nan")


def round_ratios(noop: dict | None, best: dict | None, attempts: dict | None, *_) -> tuple[float, float]:
	"""Successful claims and claim attempts at p99 ≤ 300 ms, each over the no-op's (NaN: none)."""
	floor = noop["attempts_per_s"] if noop else float("nan")
	return (
		best["ok_per_s"] / floor if best else float("nan"),
		attempts["attempts_per_s"] / floor if attempts else float("nan"),
	)


def print_round(noop: dict | None, best: dict | None, attempts: dict | None, args) -> None:
	if noop:
		print(f"    no-op at p99 ≤ 300 ms: {noop['attempts_per_s']:.1f} req/s")
	successes, tried = round_ratios(noop, best, attempts)
	if best and noop:
		print(
			f"    successful claims at p99 ≤ 300 ms: {best['ok_per_s']:.1f}/s ({successes:.2f} of the no-op; "
			f"{best['attempts_per_s']:.1f} attempts/s)"
		)
	elif not best:
		print(f"    claims: p99 over 300 ms already at {args.start_rate:.1f}/s offered")
	if not attempts:
		print(f"    claim attempts: p99 over 300 ms already at {args.attempt_start_rate:.1f}/s offered")
	elif noop:
		print(
			f"    claim attempts at p99 ≤ 300 ms: {attempts['attempts_per_s']:.1f}/s ({tried:.2f} of the no-op)"
		)


def median_round(rounds: list[tuple]) -> tuple:
	"""The round whose successful claims' ratio is the median (of an even count, the lower one): the
	figures a run reports next to the serialized path's."""
	ranked = sorted(rounds, key=lambda found: round_ratios(*found)[0] if found[0] and found[1] else -1)
	return ranked[(len(ranked) - 1) // 2]


def print_rounds(rounds: list[tuple]) -> None:
	"""Each round's figures and ratios, then the median of each: a single round moves by ±15% on a
	machine whose speed moves; the median of several says where the ratios sit."""
	print("    rounds: no-op req/s | successful claims/s (÷ no-op) | attempts/s (÷ no-op) | CPU stolen")
	ratios = []
	for i, (noop, best, attempts, stolen) in enumerate(rounds, 1):
		successes, tried = round_ratios(noop, best, attempts)
		ratios.append((successes, tried))
		print(
			f"      {i}: {noop['attempts_per_s'] if noop else float('nan'):6.1f} | "
			f"{best['ok_per_s'] if best else float('nan'):6.1f} ({successes:.3f}) | "
			f"{attempts['attempts_per_s'] if attempts else float('nan'):6.1f} ({tried:.3f}) | {stolen:.1%}"
		)
	measured = [r for r in ratios if not math.isnan(r[0] + r[1])]  # a search found no rate under 300 ms
	if not measured:
		print("    median: no round measured all three")
		return
	print(
		f"    median of the {len(measured)} rounds that measured all three: successful claims "
		f"{statistics.median(r[0] for r in measured):.3f} of the no-op, claim attempts "
		f"{statistics.median(r[1] for r in measured):.3f}"
	)


async def main_async(args, site: str, users: list[str], tag: str, pools: list) -> dict:
	url = urllib.parse.urlparse(args.url)
	clients = [Client(url.hostname, url.port or 80, site, u) for u in users]
	sem = asyncio.Semaphore(5)

	async def login(c):
		async with sem:
			await c.login()

	await asyncio.gather(*(login(c) for c in clients))
	print(f"{len(clients)} users logged in through {args.url}")
	results = {}
	cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
	try:
		for path in args.paths:
			set_claim_path(site, "serialized" if path == "serialized" else None)
			results[path] = await run_path(args, site, clients, tag, path, pools)
	finally:
		set_claim_path(site, None)
		await asyncio.gather(*(c.logout() for c in clients), return_exceptions=True)
	cpu1, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - wall0
	used = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
	print(
		f"\nload generator (this process, set-up and checks included): {used:.0f} s CPU in {wall:.0f} s "
		f"({used / wall:.0%} of one core)"
	)
	return results


def main() -> None:
	parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	parser.add_argument("site")
	parser.add_argument("--url", default="http://127.0.0.1:80", help="nginx (or gunicorn) of the site")
	parser.add_argument("--users", type=int, default=50)
	parser.add_argument("--customers", type=int, default=1000)
	parser.add_argument("--cap", type=int, default=40)
	parser.add_argument("--duration", type=float, default=60, help="seconds of the open loop")
	parser.add_argument("--rate", type=float, default=1.0, help="claims per second per user, open loop")
	parser.add_argument("--step-seconds", type=float, default=10, help="seconds per saturation step")
	parser.add_argument("--start-rate", type=float, default=2, help="first offered rate (claims/s)")
	parser.add_argument("--noop-start-rate", type=float, default=40, help="first offered rate (no-op/s)")
	parser.add_argument("--step-factor", type=float, default=1.3)
	parser.add_argument("--max-steps", type=int, default=20, help="steps of one search, at most")
	parser.add_argument("--paths", default="serialized,new", help="claim paths, in order")
	parser.add_argument(
		"--attempt-start-rate", type=float, default=20, help="first offered rate of c) (attempts/s)"
	)
	parser.add_argument(
		"--phases", default="open,burst,saturation", help="which of open, burst, saturation to run"
	)
	parser.add_argument(
		"--rounds",
		type=int,
		default=1,
		help="saturation: run it this many times and print each round and the medians of the ratios",
	)
	parser.add_argument(
		"--no-interleave",
		dest="interleave",
		action="store_false",
		help="saturation: run the three searches one after the other, not a step of each in turn",
	)
	args = parser.parse_args()
	args.paths = [p.strip() for p in args.paths.split(",") if p.strip()]
	args.phases = {p.strip() for p in args.phases.split(",") if p.strip()}
	ARGS.step_seconds = args.step_seconds

	# one socket per request in flight: an open loop over capacity holds thousands
	_soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
	resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
	claims.connect(args.site)
	tag = uuid.uuid4().hex[:6]
	users: list[str] = []
	pools: list[frappe._dict] = []
	try:
		users = set_up_users(tag, args.users)
		results = asyncio.run(main_async(args, args.site, users, tag, pools))
	finally:
		tear_down(pools, users)
		frappe.destroy()

	if "serialized" in results and "new" in results:
		old, new = results["serialized"], results["new"]

		def ratio(a, b):
			return f"{a / b:.2f}" if a == a and b == b and b else "n/a"  # NaN: no sample

		print("\nnew path / serialized path:")
		if "open" in old and "open" in new:
			print(
				f"  open loop p99: successes {ratio(new['open']['p99_ok'], old['open']['p99_ok'])}, "
				f"refusals {ratio(new['open']['p99_refused'], old['open']['p99_refused'])}; "
				f"throughput {ratio(new['open']['attempts_per_s'], old['open']['attempts_per_s'])}"
			)
		for key, what in (("saturation", "successful claims"), ("attempts", "claim attempts")):
			if old.get(key) and new.get(key):
				field = "ok_per_s" if key == "saturation" else "attempts_per_s"
				print(f"  {what} at p99 ≤ 300 ms: {ratio(new[key][field], old[key][field])}")
		if "burst" in old and "burst" in new:
			print(f"  burst slowest answer: {ratio(new['burst']['slowest'], old['burst']['slowest'])}")
	broken = [p for r in results.values() for p in r["problems"]]
	sys.exit(1 if broken else 0)


if __name__ == "__main__":
	main()
