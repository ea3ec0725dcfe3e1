"""Reports, charts and number cards read from the site's MariaDB replica when it has one (issue 13).

`scripts/test` brings up a replica of the test site's database (`scripts/replica --standby`): the
site's config names it (`replica_host`, `replica_db_port`) with `read_from_replica` off, since the
other tests read their own uncommitted data, which no replica sees. Here `read_from_replica` is on
for the test's own reads, the data is committed, and the replica's applying of the primary's
changes (its SQL thread) is paused: what the primary has and the replica lacks shows where each
reader's queries ran. No replica is a failure, never a skip.

Frappe connects to the replica once per `frappe.local` (`frappe.connect_replica` returns early when
`local.replica_db` exists, so a second read-only call in the same local reads the primary): a web
request or a job has a local of its own; here each read gets a fresh start (`read`).
"""

from __future__ import annotations

import json
import os

import frappe
import pymysql
import pytest
from frappe.desk.query_report import run

from crm_pool.core.log import log_change
from crm_pool.core.status import CLAIM, IN_POOL
from tests.conftest import real_commit
from tests.factories import call_whitelisted, make_pool, make_pool_customer, purge

GRADE = "B"


def replica_admin() -> pymysql.connections.Connection:
	"""The admin account (scripts/lib.sh) on the test site's replica."""
	assert os.environ.get("CRM_POOL_TEST_REPLICA") != "failed", (
		"scripts/test could not bring up the test site's replica (scripts/replica): see its output"
	)
	conf = frappe.local.conf
	host, port = conf.get("replica_host"), conf.get("replica_db_port")
	assert host and port, (
		"the test site has no replica (replica_host, replica_db_port in its config): scripts/test "
		"brings one up with scripts/replica; see its output"
	)
	user, password = os.environ.get("CRM_POOL_DB_ADMIN_USER"), os.environ.get("CRM_POOL_DB_ADMIN_PASSWORD")
	assert user and password, (
		"CRM_POOL_DB_ADMIN_USER/PASSWORD are not set: run the suite through scripts/test"
	)
	try:
		return pymysql.connect(
			host=host, port=int(port), user=user, password=password, autocommit=True, connect_timeout=5
		)
	except pymysql.err.OperationalError as e:
		pytest.fail(f"the test site's replica at {host}:{port} does not answer ({e}): see scripts/replica")


def one(conn, sql: str, *args):
	with conn.cursor() as cursor:
		cursor.execute(sql, args or None)
		return cursor.fetchone()


def slave_status(admin) -> dict:
	with admin.cursor(pymysql.cursors.DictCursor) as cursor:
		cursor.execute("SHOW SLAVE STATUS")
		return cursor.fetchone() or {}


def caught_up(admin) -> None:
	"""Wait until the replica has applied everything the primary has committed."""
	position = frappe.db.sql("SELECT @@gtid_binlog_pos")[0][0]
	assert one(admin, "SELECT MASTER_GTID_WAIT(%s, 60)", position)[0] == 0, (
		f"the replica did not catch up with {position}: {slave_status(admin).get('Last_SQL_Error')}"
	)


def forget_replica() -> None:
	for name in ("replica_db", "primary_db"):
		if hasattr(frappe.local, name):
			delattr(frappe.local, name)


def read(fn, *args, **kwargs):
	"""`fn` (a read-only method) as a request runs it: its first read-only call in this local."""
	forget_replica()
	try:
		return fn(*args, **kwargs)
	finally:
		forget_replica()


@pytest.fixture
def on_replica(monkeypatch):
	"""The admin connection to the replica, replication running; reads go to the replica."""
	admin = replica_admin()
	status = slave_status(admin)
	assert status.get("Slave_IO_Running") == "Yes" and status.get("Slave_SQL_Running") == "Yes", (
		f"the replica does not replicate: {status.get('Last_IO_Error')} {status.get('Last_SQL_Error')}"
	)
	monkeypatch.setitem(frappe.local.conf, "read_from_replica", 1)
	yield admin
	one(admin, "START SLAVE SQL_THREAD")  # in case the test stopped with it paused
	admin.close()
	forget_replica()


@pytest.fixture
def pool():
	"""A committed pool with two in-pool customers of grade B; deleted afterwards."""
	made = frappe._dict(name=make_pool())
	made.customers = [make_pool_customer(made.name, grade=GRADE) for _ in range(2)]
	real_commit()
	yield made
	frappe.db.rollback()
	purge(made.name, [])
	frappe.db.delete("Pool Log Tally", {"pool": made.name})
	frappe.delete_doc("Customer Pool", made.name, force=True, ignore_permissions=True)
	real_commit()


def counts(pool: str) -> dict:
	"""What each reader counts of `pool`, called as the desk calls it (`call_whitelisted`: the app's
	`override_whitelisted_methods` apply): the report, a custom chart source, a "Document Type" number
	card and a "Group By" chart (in-pool customers), a custom number card (claims today)."""
	report = read(
		call_whitelisted,
		"frappe.desk.query_report.run",
		report_name="Pool Ageing",
		filters=json.dumps({"pool": pool}),
		ignore_prepared_report=True,
	)
	ageing = read(call_whitelisted, "crm_pool.insight.charts.pool_ageing", filters=json.dumps({"pool": pool}))
	card = read(
		call_whitelisted,
		"frappe.desk.doctype.number_card.number_card.get_result",
		doc=frappe.as_json(frappe.get_doc("Number Card", "Customers in Pool").as_dict()),
		filters=json.dumps([["Pool Customer", "status", "=", IN_POOL], ["Pool Customer", "pool", "=", pool]]),
	)
	chart = read(
		call_whitelisted,
		"frappe.desk.doctype.dashboard_chart.dashboard_chart.get",
		chart_name="Grade Distribution",
		filters=json.dumps([["Pool Customer", "pool", "=", pool]]),
		refresh=1,
	)
	claims = read(call_whitelisted, "crm_pool.insight.cards.claims_today", filters=json.dumps({"pool": pool}))
	grades = dict(zip(chart["labels"], chart["datasets"][0]["values"], strict=True)) if chart else {}
	return {
		"report": sum(r["total"] for r in report["result"] if isinstance(r, dict) and r.get("pool") == pool),
		"chart source": sum(ageing["datasets"][0]["values"]),
		"card": int(card),
		"group by chart": grades.get(GRADE, 0),
		"custom card": claims["value"],
	}


def expected(customers: int, claims: int) -> dict:
	return {
		"report": customers,
		"chart source": customers,
		"card": customers,
		"group by chart": customers,
		"custom card": claims,
	}


def session_selects() -> int:
	"""SELECTs run so far by this test's own connection to the primary."""
	return int(frappe.db.sql("SHOW SESSION STATUS LIKE 'Com_select'")[0][1])


def replica_selects(admin) -> int:
	"""SELECTs the replica has run (replication runs none)."""
	return int(one(admin, "SHOW GLOBAL STATUS LIKE 'Com_select'")[1])


def test_a_reports_queries_run_on_the_replica(on_replica, pool):
	admin = on_replica
	caught_up(admin)
	replica_before, primary_before = replica_selects(admin), session_selects()
	result = read(run, "Pool Ageing", filters=json.dumps({"pool": pool.name}), ignore_prepared_report=True)
	on_replica_count = replica_selects(admin) - replica_before
	assert [r["total"] for r in result["result"] if isinstance(r, dict) and r.get("pool") == pool.name] == [2]
	assert on_replica_count >= 1, "the report ran no query on the replica"
	assert session_selects() == primary_before, "the report ran queries on the primary"


def test_reports_charts_and_cards_read_what_the_replica_has(on_replica, pool):
	admin = on_replica
	caught_up(admin)
	assert counts(pool.name) == expected(customers=2, claims=0)

	one(admin, "STOP SLAVE SQL_THREAD")
	try:
		# committed on the primary: a third customer, and a claim today
		make_pool_customer(pool.name, grade=GRADE)
		log_change(pool.customers[0], CLAIM, to_user="Administrator")
		real_commit()
		assert frappe.db.count("Pool Customer", {"pool": pool.name, "status": IN_POOL}) == 3
		assert frappe.db.count("Pool Log", {"pool": pool.name, "action": CLAIM}) == 1
		# every reader still counts what the replica has
		assert counts(pool.name) == expected(customers=2, claims=0)
	finally:
		one(admin, "START SLAVE SQL_THREAD")
	caught_up(admin)
	assert counts(pool.name) == expected(customers=3, claims=1)
