"""Pool Log (客户归属日志): append-only history of every ownership change.

Write entries only through these functions: `log_change` for one change, `insert_logs_select` for a
set-based change (one INSERT ... SELECT over the affected pool customers), `insert_log_rows` for rows
made elsewhere (adoption).

The Pool Log Tally counts the entries per day, pool, action, to_user and from_user, written in the
same transaction as the entries (`tally`): the reports of a period (Salesperson Performance, the
exclusive manager scorecard) read ~days × people × actions tally rows instead of every entry of the
period (about 1,000,000 a month at 1,000,000 pool customers). Entries are never changed nor deleted
(the Pool Log's controller refuses both), so the tally stays the log's GROUP BY; `rebuild_tally`
recomputes days from the log (a patch, bulk data, the demo's history).
"""

from __future__ import annotations

import frappe
from frappe.utils import now_datetime

from crm_pool.core.normalize import clean_text
from crm_pool.core.setbased import affected_rows, insert_records


def log_change(
	pc: str | frappe._dict,
	action: str,
	*,
	from_user: str | None = None,
	to_user: str | None = None,
	reason: str | None = None,
	rule: str | None = None,
	at=None,
) -> str:
	"""Append one entry about the pool customer `pc` (its name, or a row with its pool and
	customer_name); who did it is the session user. Returns the entry's name."""
	if isinstance(pc, str):
		pc = frappe.db.get_value("Pool Customer", pc, ["name", "pool", "customer_name"], as_dict=True)
	doc = frappe.get_doc(
		{
			"doctype": "Pool Log",
			"pool_customer": pc.name,
			"customer_name": pc.customer_name,
			"action": action,
			"from_user": from_user,
			"to_user": to_user,
			"pool": pc.pool,
			"by_user": frappe.session.user,
			"at": at or now_datetime(),
			"rule": rule,
			"reason": clean_text(reason),
		}
	)
	doc.insert(ignore_permissions=True)  # the controller's after_insert tallies it
	return doc.name


def insert_logs_select(
	action: str,
	where_sql: str,
	values: dict,
	*,
	from_user_sql: str = "pc.owned_by",
	to_user_sql: str = "NULL",
	rule_sql: str = "NULL",
	reason: str | None = None,
	reason_sql: str | None = None,
	join_sql: str = "",
	at=None,
) -> int:
	"""Append one entry per Pool Customer `pc` matching `where_sql`, in one INSERT ... SELECT.

	Call it before the UPDATE that changes the rows (so `pc.owned_by` is still the old owner).
	`where_sql` and the *_sql expressions are trusted SQL written in this app; user input goes
	into `values` only. `join_sql` joins further tables (e.g. a work table holding each row's new
	owner and reason) for the expressions to use; `reason_sql`, when given, replaces `reason`.
	`at`: when the change happened (default: now).
	Returns the number of entries written.
	"""
	params = dict(
		values, _action=action, _by=frappe.session.user, _at=at or now_datetime(), _reason=clean_text(reason)
	)
	frappe.db.sql(
		f"""
		INSERT INTO `tabPool Log`
			(name, creation, modified, owner, modified_by, docstatus, idx,
			pool_customer, customer_name, action, from_user, to_user, pool, by_user, at, rule, reason)
		SELECT
			LEFT(MD5(CONCAT(pc.name, UUID())), 12), %(_at)s, %(_at)s, %(_by)s, %(_by)s, 0, 0,
			pc.name, pc.customer_name, %(_action)s, {from_user_sql}, {to_user_sql}, pc.pool, %(_by)s,
			%(_at)s, {rule_sql}, {reason_sql or "%(_reason)s"}
		FROM `tabPool Customer` pc {join_sql}
		WHERE {where_sql}
		""",
		params,
	)
	written = affected_rows()
	if written:  # the same rows counted, reading nothing (and locking nothing) the insert did not
		_add_to_tally(
			f"""SELECT DATE(%(_at)s) AS day, pc.pool, %(_action)s AS action, {to_user_sql} AS to_user,
				{from_user_sql} AS from_user, COUNT(*) AS n
			FROM `tabPool Customer` pc {join_sql}
			WHERE {where_sql}
			GROUP BY 2, 4, 5""",
			params,
		)
	return written


def insert_log_rows(rows: list[dict]) -> None:
	"""Append entries made as dicts of column values (each with its `at`), then tally them."""
	if not rows:
		return
	insert_records("Pool Log", rows)
	tally("l.name IN %(names)s", {"names": tuple(r["name"] for r in rows)})


# --- the tally --------------------------------------------------------------------------------------

TALLY = "`tabPool Log Tally`"
TALLY_INDEX = "tally_window"
# A tally row's name is its key (day, pool, action, to_user, from_user), so adding to it is an upsert.
_TALLY_KEY_SQL = "MD5(CONCAT_WS('|', t.day, COALESCE(t.pool, ''), t.action, COALESCE(t.to_user, ''), COALESCE(t.from_user, '')))"


def tally(where_sql: str, values: dict) -> None:
	"""Add the Pool Log entries `l` matching `where_sql` (trusted SQL; input in `values`) to the tally:
	one INSERT … SELECT … GROUP BY, adding to the rows that exist."""
	_add_to_tally(
		f"""SELECT DATE(l.at) AS day, l.pool, l.action, l.to_user, l.from_user, COUNT(*) AS n
		FROM `tabPool Log` l WHERE {where_sql}
		GROUP BY 1, 2, 3, 4, 5""",
		values,
	)


def _add_to_tally(counts_sql: str, values: dict) -> None:
	"""Upsert the rows of `counts_sql` (day, pool, action, to_user, from_user, n) into the tally."""
	frappe.db.sql(
		f"""
		INSERT INTO {TALLY}
			(name, creation, modified, owner, modified_by, docstatus, idx,
			day, pool, action, to_user, from_user, entries)
		SELECT {_TALLY_KEY_SQL}, NOW(6), NOW(6), 'Administrator', 'Administrator', 0, 0,
			t.day, t.pool, t.action, t.to_user, t.from_user, t.n
		FROM ({counts_sql}) t
		ON DUPLICATE KEY UPDATE {TALLY}.entries = {TALLY}.entries + VALUES(entries),
			{TALLY}.modified = VALUES(modified)
		""",
		values,
	)


def tally_entry(name: str) -> None:
	"""Add one entry (just inserted) to the tally."""
	tally("l.name = %(name)s", {"name": name})


def rebuild_tally(from_day=None, to_day=None) -> None:
	"""Recompute the tally of the days from_day .. to_day (both included; None: open) from the log,
	set-based: what a patch, bulk data or an edited history (the demo's) calls."""
	where, values = ["1=1"], {"from": from_day, "to": to_day}
	if from_day:
		where.append("day >= %(from)s")
	if to_day:
		where.append("day <= %(to)s")
	frappe.db.sql(f"DELETE FROM {TALLY} WHERE {' AND '.join(where)}", values)
	log_where = ["1=1"]
	if from_day:
		log_where.append("l.at >= %(from)s")
	if to_day:
		log_where.append("l.at < DATE_ADD(%(to)s, INTERVAL 1 DAY)")
	tally(" AND ".join(log_where), values)


def add_tally_indexes() -> None:
	"""The tally by day with every column the reports read (an index-only range of days)."""
	frappe.db.add_index(
		"Pool Log Tally", ["day", "action", "to_user", "from_user", "pool", "entries"], TALLY_INDEX
	)
