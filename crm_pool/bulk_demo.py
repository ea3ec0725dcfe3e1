"""Bulk demo data for benchmarks: N Leads and N Pool Customers, inserted set-based.

    bench --site SITE crm-pool-bulk --count 1000000
    bench --site SITE crm-pool-bulk --clear

Rows are generated in the database (INSERT ... SELECT over MariaDB's sequence tables, in chunks),
not through the controllers: a million rows take a minute or two, not hours. They live in their own
pool (BULK_POOL) and are named BULK-LEAD-0000001 / BULK-PC-0000001, so they can be removed
(`clear_bulk`) without touching anything else. Their ownership state is a deterministic function of
the name (`apply_state`), so a benchmark can put them back into the same state after each run:
about 40% owned by the demo sales users (claimed 0-59 days ago, most with a follow-up since),
5% locked, the rest in the pool; with the bulk pool's rules (30 days without follow-up, 45 without
a deal, grade A 45 days without follow-up) about a third of the owned ones are past due.
"""

from __future__ import annotations

import time

import frappe
from frappe.utils import add_to_date, now_datetime

from crm_pool import demo
from crm_pool.core import log, normalize
from crm_pool.core.status import IN_POOL, LOCKED, OWNED
from crm_pool.pool.followup import RECYCLABLE, recompute_due_for_pool

BULK_POOL = "批量演示公海"
LEAD_PREFIX = "BULK-LEAD-"
PC_PREFIX = "BULK-PC-"
DIGITS = 7
CHUNK = 50_000
MAX_COUNT = 9_999_999


def _provinces() -> list[tuple[str, str, str]]:
	"""(province, first city, region) of the demo territories."""
	return [(p, cities[0], r) for r, provinces in demo.REGIONS.items() for p, cities in provinces.items()]


def _elt(index_sql: str, values: list[str]) -> str:
	"""SQL choosing values[index_sql % len(values)] (values are this module's constants)."""
	quoted = ", ".join(frappe.db.escape(v) for v in values)
	return f"ELT(1 + MOD({index_sql}, {len(values)}), {quoted})"


def ensure_pool() -> str:
	"""The bulk demo pool with its recycle normalize."""
	if not frappe.db.exists("Customer Pool", BULK_POOL):
		frappe.get_doc(
			{
				"doctype": "Customer Pool",
				"pool_name": BULK_POOL,
				"enabled": 1,
				"require_review": 0,
				"description": "crm-pool-bulk",
				"no_followup_days": 30,
				"no_deal_days": 45,
				"reminder_days": 3,
				"exempt_open_opportunity": 1,
				"exempt_with_deal": 0,
				"grade_rules": [{"grade": "A", "no_followup_days": 45, "no_deal_days": 0}],
			}
		).insert(ignore_permissions=True)
	return BULK_POOL


def bulk_count() -> int:
	return frappe.db.sql(
		"SELECT COUNT(*) FROM `tabPool Customer` WHERE name LIKE %(p)s", {"p": PC_PREFIX + "%"}
	)[0][0]


def make_bulk(count: int, commit: bool = True) -> dict:
	"""Make the bulk data hold exactly `count` Leads and Pool Customers (adds the missing ones, or
	starts over when there are more), in their reference state, due dates computed. Returns a summary."""
	count = int(count)
	if not 0 < count <= MAX_COUNT:
		frappe.throw(f"count must be between 1 and {MAX_COUNT}")
	started = time.monotonic()
	previous = frappe.flags.in_test, frappe.flags.mute_emails
	frappe.flags.in_test, frappe.flags.mute_emails = True, True
	try:
		company = frappe.defaults.get_global_default("company") or frappe.db.get_value("Company", {}, "name")
		demo.make_masters(company)
		demo.make_users(company)
		ensure_pool()
		if commit:
			frappe.db.commit()
		existing = bulk_count()
		if existing > count:
			clear_bulk(commit=commit)
			ensure_pool()
			existing = 0
		inserted, insert_started = 0, time.monotonic()
		for start in range(existing + 1, count + 1, CHUNK):
			end = min(start + CHUNK - 1, count)
			_insert_rows(start, end)
			inserted += end - start + 1
			if commit:
				frappe.db.commit()
		insert_seconds = time.monotonic() - insert_started
		apply_state()
		if commit:
			frappe.db.commit()
	finally:
		frappe.flags.in_test, frappe.flags.mute_emails = previous
	return {
		**state_summary(),
		"inserted": inserted,
		"insert_seconds": round(insert_seconds, 1),
		"rows_per_second": round(2 * inserted / insert_seconds) if inserted and insert_seconds else None,
		"seconds": round(time.monotonic() - started, 1),
	}


def _insert_rows(start: int, end: int) -> None:
	"""Insert Leads and Pool Customers number start..end (one INSERT ... SELECT each)."""
	provinces = _provinces()
	industries = list(demo.INDUSTRIES)
	seq = f"seq_{int(start)}_to_{int(end)}"
	num = f"LPAD(seq, {DIGITS}, '0')"
	province = _elt("seq", [p for p, _c, _r in provinces])
	city = _elt("seq", [c for _p, c, _r in provinces])
	industry = _elt("seq DIV 7", industries)
	company = (
		f"CONCAT({city}, {_elt('seq DIV 3', demo.BRAND_WORDS)}, {industry}, '服务', seq, "
		f"{_elt('seq DIV 11', demo.SUFFIXES)})"
	)
	source = _elt("seq DIV 5", demo.LEAD_SOURCES)
	person = f"CONCAT({_elt('seq DIV 13', list(demo.SURNAMES))}, {_elt('seq DIV 17', demo.GIVEN_NAMES)})"
	mobile = "CONCAT('13', LPAD(seq, 9, '0'))"
	email = f"CONCAT('bulk', {num}, '@bulk.{demo.EMAIL_DOMAIN}')"
	# The dedupe keys intake would compute (`profile.party_profile`): keyed hashes of the normalized
	# mobile, email and company name, in SQL (`normalize.dedupe_key_sql`). The parts of the name are
	# normalized one by one (none of the folded suffixes spans two parts).
	norm = normalize.normalize_company_name
	name_form = (
		f"CONCAT({_elt('seq', [norm(c) for _p, c, _r in provinces])}, "
		f"{_elt('seq DIV 3', [norm(w) for w in demo.BRAND_WORDS])}, "
		f"{_elt('seq DIV 7', [norm(i) for i in industries])}, {frappe.db.escape(norm('服务'))}, seq, "
		f"{_elt('seq DIV 11', [norm(s) for s in demo.SUFFIXES])})"
	)
	name_key, key_values = normalize.dedupe_key_sql(f"SHA2({name_form}, 256)")
	mobile_key, _values = normalize.dedupe_key_sql(f"SHA2({mobile}, 256)")
	email_key, _values = normalize.dedupe_key_sql(f"SHA2(LOWER({email}), 256)")
	values = {"now": now_datetime(), "pool": BULK_POOL, **key_values}
	frappe.db.sql(
		f"""
		INSERT INTO `tabLead` (name, creation, modified, owner, modified_by, docstatus, idx,
			naming_series, lead_name, first_name, company_name, email_id, mobile_no, status,
			territory, industry, source, city, state, country, qualification_status)
		SELECT CONCAT('{LEAD_PREFIX}', {num}), %(now)s, %(now)s, 'Administrator', 'Administrator', 0, 0,
			'CRM-LEAD-.YYYY.-', {person}, {person}, {company}, {email}, {mobile}, 'Lead',
			{province}, {industry}, {source}, {city}, {province}, 'China', 'Unqualified'
		FROM {seq}
		""",
		values,
	)
	frappe.db.sql(
		f"""
		INSERT INTO `tabPool Customer` (name, creation, modified, owner, modified_by, docstatus, idx,
			naming_series, customer_name, party_type, party, lead, pool, status, review_status,
			pool_entered_at, territory, industry, customer_group, source, contact_person,
			mobile_masked, email_masked, name_key, mobile_key, email_key)
		SELECT CONCAT('{PC_PREFIX}', {num}), %(now)s, %(now)s, 'Administrator', 'Administrator', 0, 0,
			'PC-.YYYY.-.#####', {company}, 'Lead', CONCAT('{LEAD_PREFIX}', {num}),
			CONCAT('{LEAD_PREFIX}', {num}), %(pool)s, '{IN_POOL}', 'Approved',
			%(now)s, {province}, {industry}, {industry}, {source}, {person},
			CONCAT('13', LEFT(LPAD(seq, 9, '0'), 1), '****', RIGHT(LPAD(seq, 9, '0'), 4)),
			CONCAT('b***', '@bulk.{demo.EMAIL_DOMAIN}'), {name_key}, {mobile_key}, {email_key}
		FROM {seq}
		""",
		values,
	)


def apply_state() -> None:
	"""Put every bulk Pool Customer (and its Lead's owner) back into its reference state, a function
	of its name, and recompute the due dates: set-based, three statements."""
	users = [u.email for u in demo.DEMO_USERS if u.territory]
	h = "CRC32(pc.name)"
	owned = f"MOD({h}, 100) < 45"
	claim_days = f"MOD({h} DIV 7, 60)"
	claimed_at = f"DATE_SUB(%(now)s, INTERVAL ({claim_days} * 86400 + MOD({h}, 86400)) SECOND)"
	frappe.db.sql(
		f"""
		UPDATE `tabPool Customer` pc SET
			pc.status = IF(MOD({h}, 100) < 40, '{OWNED}', IF({owned}, '{LOCKED}', '{IN_POOL}')),
			pc.owned_by = IF({owned}, {_elt(f"{h} DIV 100", users)}, NULL),
			pc.owner_name = NULL,
			pc.grade = {_elt(f"{h} DIV 19", ["A", "B", "C"])},
			pc.claimed_at = IF({owned}, {claimed_at}, NULL),
			pc.last_followup_at = IF({owned} AND MOD({h} DIV 13, 3) > 0,
				DATE_SUB(%(now)s, INTERVAL MOD({h} DIV 17, {claim_days} + 1) DAY), NULL),
			pc.last_deal_at = IF({owned} AND MOD({h} DIV 23, 10) = 0,
				DATE_SUB(%(now)s, INTERVAL MOD({h} DIV 29, {claim_days} + 1) DAY), NULL),
			pc.previous_owner = NULL, pc.released_at = NULL, pc.reminder_sent_at = NULL,
			pc.recycle_due_at = NULL, pc.modified = %(now)s,
			pc.pool_entered_at = IF({owned}, NULL, DATE_SUB(%(now)s, INTERVAL MOD({h} DIV 31, 90) DAY))
		WHERE pc.name LIKE %(prefix)s
		""",
		{"now": now_datetime(), "prefix": PC_PREFIX + "%"},
	)
	frappe.db.sql(
		"""
		UPDATE `tabLead` l JOIN `tabPool Customer` pc ON pc.lead = l.name
		SET l.lead_owner = pc.owned_by
		WHERE pc.name LIKE %(prefix)s AND NOT (l.lead_owner <=> pc.owned_by)
		""",
		{"prefix": PC_PREFIX + "%"},
	)
	recompute_due_for_pool(BULK_POOL)


HISTORY_MARK = "bulk-history"  # Pool Log reason and Customer Grade Log run of `make_bulk_history`
HISTORY_DAYS = 90


def make_bulk_history(commit: bool = True) -> dict:
	"""History for the reports' benchmark, on the bulk customers (made by `make_bulk`), set-based:
	- 3 Pool Log entries per customer over the last 90 days, one in each 30-day third: a claim or an
	  assignment to a demo sales user, then a release, a recycle or a conversion of theirs, then a
	  claim or an assignment to a demo sales user again;
	- 2 Customer Grade Log entries per customer over the last 3 months (C or B, then its grade);
	- first_followup_at (0-72 h after the claim, three owned customers in four) and
	  followups_since_claim (1-6) of the owned ones.
	Entries are marked (`HISTORY_MARK`) and replaced on each call. Returns counts and seconds."""
	started = time.monotonic()
	count = bulk_count()
	users = [u.email for u in demo.DEMO_USERS if u.territory]
	values = {"now": now_datetime(), "mark": HISTORY_MARK, "pool": BULK_POOL}
	for doctype, prefix in (("Pool Log", "BH-"), ("Customer Grade Log", "BG-")):
		while True:  # the previous run's entries, in chunks of the primary key
			frappe.db.sql(
				f"DELETE FROM `tab{doctype}` WHERE name LIKE %(p)s LIMIT {CHUNK}", {"p": prefix + "%"}
			)
			rows = frappe.db.sql("SELECT ROW_COUNT()")[0][0]  # before the commit, which has none
			if commit:
				frappe.db.commit()
			if rows < CHUNK:
				break
	# Millions of rows go in faster without the secondary indexes (ten on the Pool Log), which are
	# then built once each, sorted: 370 s + 351 s at N = 1,000,000 against over an hour with them.
	indexes = {doctype: _drop_secondary_indexes(doctype) for doctype in ("Pool Log", "Customer Grade Log")}
	h = "CRC32(pc.name)"
	# in the k-th third of the last 90 days (k = 1 oldest), at a time of the customer
	at = (
		f"DATE_SUB(%(now)s, INTERVAL ((3 - k.seq) * 30 * 86400 + MOD({h} + k.seq * 7919, 30 * 86400)) SECOND)"
	)
	first, second = _elt(f"{h} DIV 100", users), _elt(f"{h} DIV 700", users)
	taken = f"IF(MOD({h} DIV 3 + k.seq, 2) = 0, 'Claim', 'Assign')"
	lost = _elt(f"{h} DIV 11", ["Release", "Recycle", "Convert", "Release"])
	action = f"IF(k.seq = 2, {lost}, {taken})"
	from_user = f"IF(k.seq = 2, {first}, NULL)"
	to_user = f"IF(k.seq = 1, {first}, IF(k.seq = 3, {second}, IF({lost} = 'Convert', {first}, NULL)))"
	rule = f"IF(k.seq = 2 AND {lost} = 'Recycle', 'no_followup:30d', NULL)"
	grade_at = at.replace("30 * 86400", "45 * 86400").replace("(3 - k.seq)", "(2 - k.seq)")
	logs = grades = 0
	for start in range(1, count + 1, CHUNK):
		end = min(start + CHUNK - 1, count)
		customers = (
			f"FROM seq_{start}_to_{end} s JOIN `tabPool Customer` pc "
			f"ON pc.name = CONCAT('{PC_PREFIX}', LPAD(s.seq, {DIGITS}, '0'))"
		)
		frappe.db.sql(
			f"""INSERT INTO `tabPool Log` (name, creation, modified, owner, modified_by, docstatus, idx,
				pool_customer, customer_name, action, from_user, to_user, pool, by_user, at, rule, reason)
			SELECT CONCAT('BH-', pc.name, '-', k.seq), {at}, {at}, 'Administrator', 'Administrator', 0, 0,
				pc.name, pc.customer_name, {action}, {from_user}, {to_user}, pc.pool,
				IF({action} = 'Assign', 'Administrator', COALESCE({from_user}, {to_user})), {at}, {rule},
				%(mark)s
			{customers} JOIN seq_1_to_3 k""",
			values,
		)
		logs += frappe.db.sql("SELECT ROW_COUNT()")[0][0]
		frappe.db.sql(
			f"""INSERT INTO `tabCustomer Grade Log` (name, creation, modified, owner, modified_by, docstatus,
				idx, pool_customer, customer_name, from_grade, to_grade, why, run, at)
			SELECT CONCAT('BG-', pc.name, '-', k.seq), {grade_at}, {grade_at}, 'Administrator',
				'Administrator', 0, 0, pc.name, pc.customer_name,
				IF(k.seq = 1, NULL, {_elt(f"{h} DIV 5", ["C", "B"])}),
				IF(k.seq = 1, {_elt(f"{h} DIV 5", ["C", "B"])}, pc.grade), 'bulk', %(mark)s, {grade_at}
			{customers} JOIN seq_1_to_2 k WHERE pc.grade IS NOT NULL""",
			values,
		)
		grades += frappe.db.sql("SELECT ROW_COUNT()")[0][0]
		if commit:
			frappe.db.commit()
	for doctype, definitions in indexes.items():
		_add_indexes(doctype, definitions)
	log.rebuild_tally()  # the entries were written (and the previous run's deleted) in SQL
	if commit:
		frappe.db.commit()
	owned = "pc.owned_by IS NOT NULL AND pc.claimed_at IS NOT NULL"
	frappe.db.sql(
		f"""UPDATE `tabPool Customer` pc SET
			pc.first_followup_at = IF({owned} AND MOD({h} DIV 37, 4) > 0,
				LEAST(%(now)s, DATE_ADD(pc.claimed_at, INTERVAL MOD({h} DIV 41, 72 * 3600) SECOND)), NULL),
			pc.followups_since_claim = IF({owned} AND MOD({h} DIV 37, 4) > 0, 1 + MOD({h} DIV 43, 6), 0)
		WHERE pc.name LIKE %(prefix)s""",
		{**values, "prefix": PC_PREFIX + "%"},
	)
	if commit:
		frappe.db.commit()
	return {"pool_log": logs, "grade_log": grades, "seconds": round(time.monotonic() - started, 1)}


def _drop_secondary_indexes(doctype: str) -> dict[str, tuple[bool, list[str]]]:
	"""Drop the secondary indexes of `doctype`'s table; returns their definitions for `_add_indexes`."""
	definitions: dict[str, tuple[bool, list[str]]] = {}
	rows = frappe.db.sql(f"SHOW INDEX FROM `tab{doctype}`", as_dict=True)
	for row in sorted(rows, key=lambda row: row.Seq_in_index):  # each index's columns in order
		if row.Key_name != "PRIMARY":
			definitions.setdefault(row.Key_name, (not row.Non_unique, []))[1].append(row.Column_name)
	if definitions:
		drops = ", ".join(f"DROP INDEX `{name}`" for name in definitions)
		frappe.db.sql_ddl(f"ALTER TABLE `tab{doctype}` {drops}")
	return definitions


def _add_indexes(doctype: str, definitions: dict[str, tuple[bool, list[str]]]) -> None:
	"""Build the indexes `_drop_secondary_indexes` dropped, in one ALTER TABLE."""
	if definitions:
		adds = ", ".join(
			f"ADD {'UNIQUE ' if unique else ''}INDEX `{name}` ({', '.join(f'`{c}`' for c in columns)})"
			for name, (unique, columns) in definitions.items()
		)
		frappe.db.sql_ddl(f"ALTER TABLE `tab{doctype}` {adds}")


def state_summary() -> dict:
	"""Counts of the bulk Pool Customers by status, and how many are past due now."""
	by_status = dict(
		frappe.db.sql(
			"SELECT status, COUNT(*) FROM `tabPool Customer` WHERE name LIKE %(p)s GROUP BY status",
			{"p": PC_PREFIX + "%"},
		)
	)
	past_due = frappe.db.sql(
		"""SELECT COUNT(*) FROM `tabPool Customer`
		WHERE name LIKE %(p)s AND status IN %(statuses)s AND recycle_due_at <= %(now)s""",
		{"p": PC_PREFIX + "%", "statuses": RECYCLABLE, "now": now_datetime()},
	)[0][0]
	return {"pool": BULK_POOL, "total": sum(by_status.values()), "by_status": by_status, "past_due": past_due}


def clear_bulk(commit: bool = True) -> dict:
	"""Remove the bulk Leads, Pool Customers, their log entries and the bulk pool (in chunks)."""
	deleted = {}
	for doctype, column, prefix in (
		("Pool Log", "pool_customer", PC_PREFIX),
		("Customer Grade Log", "pool_customer", PC_PREFIX),
		("Pool Customer Collaborator", "parent", PC_PREFIX),
		("Pool Customer", "name", PC_PREFIX),
		("Lead", "name", LEAD_PREFIX),
	):
		deleted[doctype] = 0
		while True:
			frappe.db.sql(
				f"DELETE FROM `tab{doctype}` WHERE `{column}` LIKE %(p)s LIMIT {CHUNK}", {"p": prefix + "%"}
			)
			rows = frappe.db.sql("SELECT ROW_COUNT()")[0][0]
			deleted[doctype] += rows
			if commit:
				frappe.db.commit()
			if rows < CHUNK:
				break
	if frappe.db.exists("Customer Pool", BULK_POOL):
		frappe.delete_doc("Customer Pool", BULK_POOL, force=True, ignore_permissions=True)
	if commit:
		frappe.db.commit()
	return deleted


def format_summary(summary: dict) -> str:
	lines = [f"公海 pool: {summary['pool']}", f"公海客户 pool customers: {summary['total']}"]
	lines += [f"  {status}: {n}" for status, n in sorted(summary["by_status"].items())]
	lines.append(f"已到期 past due now: {summary['past_due']}")
	if summary.get("inserted"):
		lines.append(
			f"inserted {summary['inserted']} leads + {summary['inserted']} pool customers in "
			f"{summary['insert_seconds']} s ({summary['rows_per_second']} rows/s)"
		)
	lines.append(f"total {summary['seconds']} s")
	return "\n".join(lines)


# --- small set-based fixtures for benchmarks and tests ---------------------------------------------

META_COLUMNS = ("creation", "modified", "owner", "modified_by")


def insert_sales_users(prefix: str, count: int, *, notifications: bool = True) -> list[str]:
	"""`count` enabled Sales Users `{prefix}-{i}@crm-pool.test`, inserted set-based (no controller,
	no welcome mail); with `notifications` off, their Notification Settings mute the bell and mail."""
	now = now_datetime()
	meta = (now, now, "Administrator", "Administrator")
	users = [f"{prefix}-{i}@crm-pool.test" for i in range(count)]
	frappe.db.bulk_insert(
		"User",
		["name", "email", "first_name", "enabled", "user_type", *META_COLUMNS],
		[(u, u, f"{prefix}-{i}", 1, "System User", *meta) for i, u in enumerate(users)],
	)
	frappe.db.bulk_insert(
		"Has Role",
		["name", "parent", "parenttype", "parentfield", "role", *META_COLUMNS],
		[(frappe.generate_hash(), u, "User", "roles", "Sales User", *meta) for u in users],
	)
	if not notifications:
		frappe.db.bulk_insert(
			"Notification Settings", ["name", "enabled", *META_COLUMNS], [(u, 0, *meta) for u in users]
		)
	return users


def insert_pool_customers(
	pool: str,
	count: int,
	*,
	prefix: str,
	owner: str | None = None,
	row_fields=None,
	**fields,
) -> tuple[list[str], list[str]]:
	"""`count` Leads and their Pool Customers in `pool`, inserted set-based: in the pool, or owned by
	`owner`; named `{prefix}-PC-000001` / `{prefix}-L-000001`, entered the pool oldest first.
	`fields` are set on every Pool Customer, `row_fields(i)` (a dict) on the i-th one.
	Returns (pool customer names, lead names)."""
	now = now_datetime()
	meta = (now, now, "Administrator", "Administrator")
	leads = [f"{prefix}-L-{i:06d}" for i in range(count)]
	names = [f"{prefix}-PC-{i:06d}" for i in range(count)]
	company = [f"{prefix}客户{i}有限公司" for i in range(count)]
	frappe.db.bulk_insert(
		"Lead",
		["name", "lead_name", "company_name", "status", "lead_owner", *META_COLUMNS],
		[(lead, f"客户{i}", company[i], "Lead", owner, *meta) for i, lead in enumerate(leads)],
		chunk_size=5000,
	)
	extra = [row_fields(i) if row_fields else {} for i in range(count)]
	extra_columns = sorted({k for e in extra for k in e} | set(fields))
	frappe.db.bulk_insert(
		"Pool Customer",
		[
			"name",
			"customer_name",
			"party_type",
			"party",
			"lead",
			"pool",
			"status",
			"owned_by",
			"review_status",
			"pool_entered_at",
			*META_COLUMNS,
			*extra_columns,
		],
		[
			(
				name,
				company[i],
				"Lead",
				leads[i],
				leads[i],
				pool,
				OWNED if owner else IN_POOL,
				owner,
				"Approved",
				add_to_date(now, seconds=i - count),
				*meta,
				*({**fields, **extra[i]}.get(c) for c in extra_columns),
			)
			for i, name in enumerate(names)
		],
		chunk_size=5000,
	)
	return names, leads
