"""Helpers of the set-based writers: chunks of names, and session-private work tables.

A set-based change (recycling, allocation, transfer) puts the rows it works on in a work table, then
changes everything in a few statements over that table, whatever the number of rows."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import frappe
from frappe.utils import now_datetime

# Set-based changes of many named rows work in chunks of this many names.
CHUNK = 5_000


def chunks(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
	"""`items` in consecutive slices of at most `size`."""
	for start in range(0, len(items), size):
		yield items[start : start + size]


def affected_rows() -> int:
	"""The rows the last statement inserted, changed or deleted (MariaDB's ROW_COUNT(), as the client
	received it with the statement's answer: no round trip)."""
	return frappe.db._cursor.rowcount


@contextmanager
def work_table(table: str, columns: str) -> Iterator[str]:
	"""A session-private (TEMPORARY) InnoDB table `table` with `columns` (SQL column definitions), for
	the duration of the block; yields its name.

	CREATE/DROP TEMPORARY TABLE do not end the transaction in MariaDB; the leading comment keeps
	Frappe's implicit-commit guard, which only knows plain CREATE/DROP, from refusing them inside a
	transaction that has writes."""
	drop = f"/* crm_pool work table */ DROP TEMPORARY TABLE IF EXISTS `{table}`"
	frappe.db.sql(drop)
	frappe.db.sql(f"/* crm_pool work table */ CREATE TEMPORARY TABLE `{table}` ({columns}) ENGINE=InnoDB")
	try:
		yield table
	finally:
		frappe.db.sql(drop)


def insert_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence], size: int = 1000) -> None:
	"""Insert `rows` into work table `table`, `size` rows per statement."""
	for chunk in chunks(rows, size):
		frappe.db.sql(
			f"INSERT INTO `{table}` ({', '.join(columns)}) VALUES "
			+ ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(chunk)),
			[value for row in chunk for value in row],
		)


def insert_records(doctype: str, rows: list[dict], docstatus: int = 0) -> None:
	"""Bulk insert `rows` (dicts of column values) into `doctype` in one statement per 10,000 rows,
	without controllers: each row gets a new name (unless it has one), now as creation and modified,
	the session user as owner and modifier (unless given), `docstatus`, idx 0 (unless given). The
	dicts are completed in place."""
	if not rows:
		return
	now, user = now_datetime(), frappe.session.user
	for row in rows:
		row.update(
			{"creation": now, "modified": now, "owner": user, "modified_by": user, "docstatus": docstatus}
			| {k: v for k, v in row.items() if v is not None}
		)
		row["name"] = row.get("name") or frappe.generate_hash(length=10)
		row.setdefault("idx", 0)
	columns = list(rows[0])
	frappe.db.bulk_insert(doctype, columns, [[row.get(c) for c in columns] for row in rows])


def in_table(table: str) -> str:
	"""SQL: the pool customer `pc` is one of the work table's rows (keyed by `name`)."""
	return f"pc.name IN (SELECT name FROM `{table}`)"


def from_table(table: str, column: str) -> str:
	"""SQL: the work table's `column` for the pool customer `pc` (its row keyed by `name`)."""
	return f"(SELECT w.`{column}` FROM `{table}` w WHERE w.name = pc.name)"
