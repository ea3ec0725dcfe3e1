"""pytest harness for crm_pool: real Frappe, real ERPNext, real MariaDB and Redis.

Run through `scripts/test`, which sets CRM_POOL_SITE (the test site) and CRM_POOL_SITES_PATH.

- Every test runs in its own database transaction, rolled back afterwards (`_transaction`, autouse).
- `make_user(*roles)` creates a user with roles inside that transaction (`factories.new_user`; the
  other builders of test data are in tests/factories.py too).
- `committed` is for tests whose other parties (threads with their own connections, a browser
  talking to a web server) must see the data: it commits and deletes what it was given afterwards.
- `run_jobs_now` makes `frappe.enqueue` run jobs synchronously; `run_scheduled(method)` runs a
  scheduled job after checking that hooks.py really schedules it.
- `web_server` (one `frappe serve` per session) and `chromium` (one headless browser per session,
  cleared of the site's cookies and storage before each browser test) serve the end-to-end tests.
- After the run, each test file's total time (set-up, call, teardown) is printed, slowest first.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator

import frappe
import pytest

from tests.factories import make_pool, make_pool_customer, new_user, purge

SITE = os.environ.get("CRM_POOL_SITE")
SITES_PATH = os.environ.get("CRM_POOL_SITES_PATH", os.getcwd())


def pytest_configure(config):
	if not SITE:
		raise pytest.UsageError("CRM_POOL_SITE is not set: run the suite through scripts/test")


_FILE_SECONDS: dict[str, float] = {}


def pytest_runtest_logreport(report) -> None:
	"""Add up each test file's time: set-up, call and teardown of its tests (module- and
	session-scoped fixtures count in the file whose test set them up or tore them down)."""
	path = report.nodeid.split("::", 1)[0]
	_FILE_SECONDS[path] = _FILE_SECONDS.get(path, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter) -> None:
	"""One line per test file with its total seconds, slowest first, and the total."""
	if not _FILE_SECONDS:
		return
	tr = terminalreporter
	tr.section("per-file durations (setup + call + teardown)")
	for path, seconds in sorted(_FILE_SECONDS.items(), key=lambda kv: kv[1], reverse=True):
		tr.write_line(f"{seconds:8.1f}s  {path}")
	tr.write_line(f"{sum(_FILE_SECONDS.values()):8.1f}s  total ({len(_FILE_SECONDS)} files)")


def connect() -> None:
	"""Connect this thread to the test site (each thread needs its own frappe.local)."""
	frappe.init(site=SITE, sites_path=SITES_PATH)
	frappe.connect()
	frappe.flags.in_test = True  # no gravatar look-ups, no outgoing mail
	frappe.set_user("Administrator")


@pytest.fixture(scope="session", autouse=True)
def site() -> Iterator[str]:
	connect()
	yield SITE
	frappe.db.rollback()
	frappe.destroy()


@pytest.fixture(autouse=True)
def _transaction(site, monkeypatch) -> Iterator[None]:
	"""One transaction per test, rolled back afterwards.

	Some upstream code commits in the middle of a request: ERPNext's telephony hook
	(call_log.link_existing_conversations) commits after every Contact insert that has phone
	numbers, so inserting a Lead with a mobile would commit the test's data. During a test, the
	test connection's commit() therefore keeps the transaction open; `committed` commits for real.
	Threads of the race tests have connections of their own and commit normally.
	"""
	frappe.db.rollback()
	frappe.set_user("Administrator")
	frappe.local.lang = "en"
	monkeypatch.setattr(frappe.local.db, "commit", _hold_commit)
	yield
	monkeypatch.undo()
	frappe.db.rollback()
	frappe.set_user("Administrator")
	frappe.local.lang = "en"


def _hold_commit() -> None:
	"""commit() during a test: the test's transaction stays open (see _transaction)."""


def real_commit() -> None:
	"""Commit the test connection for real (for data other connections must see)."""
	type(frappe.local.db).commit(frappe.local.db)


@pytest.fixture
def make_user() -> Callable[..., str]:
	"""make_user(*roles, language=None, password=None) -> email, inside the test's transaction."""
	return new_user


@pytest.fixture
def committed() -> Iterator[Callable[[str, str], None]]:
	"""Commit the test's data so other connections see it; delete what was registered afterwards.

	committed("User", email)  # registers the record for clean-up and commits
	"""
	created: list[tuple[str, str]] = []

	def register(doctype: str, name: str) -> None:
		created.append((doctype, name))
		real_commit()

	yield register
	frappe.db.rollback()
	frappe.set_user("Administrator")
	for doctype, name in reversed(created):
		if frappe.db.exists(doctype, name):
			frappe.delete_doc(doctype, name, force=True, ignore_permissions=True)
	real_commit()


@pytest.fixture
def shared_pool():
	"""Committed users (and `managers`: Sales Managers listed as the pool's admins), a pool with its
	rules and pool customers, visible to other connections (the race tests' threads); purged afterwards."""
	made = frappe._dict(users=[], pool=None)

	def build(users: int, customers: int, *, managers: int = 0, **rules):
		made.users = [new_user("Sales User") for _ in range(users)]
		made.managers = [new_user("Sales User", "Sales Manager") for _ in range(managers)]
		made.pool = make_pool(members=made.users, admins=made.managers, **rules)
		pcs = [make_pool_customer(made.pool) for _ in range(customers)]
		real_commit()
		return made.users, pcs

	yield build
	frappe.db.rollback()
	if made.pool:
		purge(made.pool, made.users + made.get("managers", []))
	real_commit()


@pytest.fixture
def run_jobs_now(monkeypatch) -> None:
	"""Background jobs enqueued with frappe.enqueue run at once, in this transaction."""
	enqueue = frappe.enqueue

	def enqueue_now(method, *args, **kwargs):
		kwargs["now"] = True
		return enqueue(method, *args, **kwargs)

	monkeypatch.setattr(frappe, "enqueue", enqueue_now)


@pytest.fixture
def run_scheduled() -> Callable[[str], object]:
	"""run_scheduled("crm_pool.x.y"): run a job that hooks.py schedules, in this transaction."""

	def run(method: str):
		scheduled = {m for methods in frappe.get_hooks("scheduler_events").values() for m in _flat(methods)}
		assert method in scheduled, f"{method} is not in scheduler_events"
		assert frappe.db.exists("Scheduled Job Type", {"method": method}), (
			f"no Scheduled Job Type for {method}"
		)
		return frappe.get_attr(method)()

	return run


def _flat(methods) -> list[str]:
	if isinstance(methods, dict):  # "cron": {"0 * * * *": [...]}
		return [m for ms in methods.values() for m in ms]
	return list(methods)


def free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


@pytest.fixture(scope="session")
def web_server():
	"""The test site served by Frappe's own web server on a free loopback port."""
	port = free_port()
	log = open(os.path.join(SITES_PATH, "..", "logs", "crm-pool-test-web.log"), "ab")
	proc = subprocess.Popen(
		[
			sys.executable,
			"-m",
			"frappe.utils.bench_helper",
			"frappe",
			"--site",
			SITE,
			"serve",
			"--port",
			str(port),
			"--noreload",
			"--nothreading",
		],
		cwd=SITES_PATH,
		stdout=log,
		stderr=subprocess.STDOUT,
	)
	url = f"http://127.0.0.1:{port}"
	deadline = time.time() + 60
	while True:
		try:
			urllib.request.urlopen(url + "/api/method/ping", timeout=2)
			break
		except OSError:
			if proc.poll() is not None or time.time() > deadline:
				proc.kill()
				pytest.fail("the test web server did not start; see logs/crm-pool-test-web.log")
			time.sleep(0.3)
	yield url
	proc.terminate()
	proc.wait(10)
	log.close()


@pytest.fixture(scope="session")
def chromium():
	"""Headless Chromium (Debian's chromium and chromium-driver), started once for the browser tests;
	they take it through their `browser` fixture, which clears what the site stored in it."""
	from selenium import webdriver
	from selenium.webdriver.chrome.service import Service

	chromium = os.environ.get("CRM_POOL_CHROMIUM") or shutil.which("chromium")
	driver_path = os.environ.get("CRM_POOL_CHROMEDRIVER") or shutil.which("chromedriver")
	assert chromium and driver_path, (
		"Debian's chromium and chromium-driver are needed (scripts/test installs them)"
	)
	os.environ["SE_OFFLINE"] = "true"  # never let Selenium download a browser or a driver
	options = webdriver.ChromeOptions()
	options.binary_location = chromium
	for arg in (
		"--headless=new",
		"--no-sandbox",
		"--disable-gpu",
		"--disable-dev-shm-usage",
		"--disable-quic",
		"--no-first-run",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		"--window-size=1400,900",
		"--lang=zh-CN",
	):
		options.add_argument(arg)
	driver = webdriver.Chrome(service=Service(driver_path), options=options)
	yield driver
	driver.quit()


def at_once(calls: list[tuple[str, callable]]) -> list[str]:
	"""Run each (user, function) in its own thread and connection, all released together; returns
	"ok" (the transaction committed) or the exception per call, in order."""
	results: list[str] = [""] * len(calls)
	barrier = threading.Barrier(len(calls))

	def run(i: int, user: str, fn) -> None:
		connect()
		try:
			frappe.set_user(user)
			barrier.wait(timeout=60)
			fn()
			frappe.db.commit()
			results[i] = "ok"
		except Exception as e:
			frappe.db.rollback()
			results[i] = f"{type(e).__name__}: {e}"
		finally:
			frappe.destroy()

	threads = [threading.Thread(target=run, args=(i, *c)) for i, c in enumerate(calls)]
	for t in threads:
		t.start()
	for t in threads:
		t.join(timeout=180)
	return results
