"""Recycle (回收): owned customers past their due date return to the public pool (SPEC §2).

`run_daily()` is the daily scheduler job: first `send_reminders()` (owners hear K days ahead which of
their customers are about to be recycled), then `recycle_due()`. Both are set-based: one query
selects the customers concerned into a temporary table; the log entries, the ERPNext owner fields,
the status change and the reminder stamp are then each one statement over that table, whatever the
number of customers. Owners get one system notification and one email each, listing their customers.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime
from urllib.parse import quote

import frappe
from frappe import _
from frappe.translate import get_user_lang
from frappe.utils import escape_html, format_datetime, get_datetime, now_datetime

from crm_pool.core import mirror, notify
from crm_pool.core.setbased import from_table, in_table, work_table
from crm_pool.core.status import RECYCLE
from crm_pool.pool.followup import (
	DUE_INDEX,
	OPEN_OPPORTUNITY_STATUSES,
	RECYCLABLE,
	RULE_JOINS_SQL,
	RULE_SQL,
	_days_sql,
)
from crm_pool.pool.locking import lock_pools
from crm_pool.pool.ownership import write_owners

DUE_TABLE = "crm_pool_recycle_due"
REMIND_TABLE = "crm_pool_recycle_remind"

_RECYCLABLE = ", ".join(f"'{s}'" for s in RECYCLABLE)
_OPEN = ", ".join(f"'{s}'" for s in OPEN_OPPORTUNITY_STATUSES)
# The days an owner's open Opportunity may go without activity and still exempt its customer: the
# customer's follow-up days (its grade's, else its pool's), else its deal days.
_WINDOW_DAYS = f"COALESCE({_days_sql('no_followup_days')}, {_days_sql('no_deal_days')})"
_SINCE = f"DATE_SUB(%(now)s, INTERVAL {_WINDOW_DAYS} DAY)"
# Customers the pool's exemptions keep: a deal when exempt_with_deal; when exempt_open_opportunity,
# an open Opportunity (on the lead, the customer or the party) that belongs to the owner (its
# opportunity_owner, creator or an assignee) and shows activity within the window (modified, or a
# Communication or Comment on it) — an Opportunity made by anyone else, or left untouched, does
# not keep a customer from the pool. The owner's crm_pool assignment does not count: ERPNext moves a
# Lead's open ToDos to every Opportunity made from it (erpnext.crm.utils.link_open_tasks), whoever
# makes it. LOCKED is excluded by status. Needs RULE_JOINS_SQL and %(now)s.
EXEMPT_SQL = f"""(
	(p.exempt_with_deal = 1 AND pc.last_deal_at IS NOT NULL)
	OR (p.exempt_open_opportunity = 1 AND pc.owned_by IS NOT NULL AND EXISTS (
		SELECT 1 FROM `tabOpportunity` o
		WHERE o.party_name IN (pc.lead, pc.customer, pc.party)
			AND o.status IN ({_OPEN}) AND o.docstatus < 2
			AND ((o.opportunity_from = 'Lead' AND o.party_name = pc.lead)
				OR (o.opportunity_from = 'Customer' AND o.party_name = pc.customer)
				OR (o.opportunity_from = pc.party_type AND o.party_name = pc.party))
			AND (o.opportunity_owner = pc.owned_by OR o.owner = pc.owned_by
				OR EXISTS (SELECT 1 FROM `tabToDo` t
					WHERE t.reference_type = 'Opportunity' AND t.reference_name = o.name
						AND t.allocated_to = pc.owned_by AND t.status = 'Open'
						AND COALESCE(t.description, '') NOT LIKE '%%{mirror.ASSIGNMENT_NOTE}%%'))
			AND (o.modified >= {_SINCE}
				OR EXISTS (SELECT 1 FROM `tabCommunication` c
					WHERE c.reference_doctype = 'Opportunity' AND c.reference_name = o.name
						AND c.communication_type IN ('Communication', 'Chat')
						AND COALESCE(c.communication_date, c.creation) >= {_SINCE})
				OR EXISTS (SELECT 1 FROM `tabComment` cm
					WHERE cm.reference_doctype = 'Opportunity' AND cm.reference_name = o.name
						AND cm.comment_type IN ('Comment', 'Info') AND cm.creation >= {_SINCE}))
	))
)"""
# The work table of the customers concerned (recycle_due, send_reminders).
WORK_COLUMNS = """name VARCHAR(140) NOT NULL PRIMARY KEY, owned_by VARCHAR(140), customer_name VARCHAR(140),
	due_at DATETIME(6), rule VARCHAR(140)"""


def run_daily() -> dict:
	"""The daily job (scheduler_events daily): reminders first, then the recycle itself."""
	return {"reminders": send_reminders(), "recycle": recycle_due()}


def select_into(table: str, where_sql: str, values: dict) -> None:
	"""Put the recyclable customers matching `where_sql` that no exemption keeps in work table `table`,
	locked (FOR UPDATE: a claim or follow-up cannot slip in between the selection and the change);
	the (status, recycle_due_at) index keeps the scan, and the locks, to the due customers.

	The pools' rows first, all of them in name order (the lock order of `crm_pool.pool.locking`):
	the selection reads them through its rules' join, and FOR UPDATE locks what it reads, so
	without this it would lock a pool's row after its customers' rows, against the order of claims
	(which hold their pool's row, then insert into this index's ranges). A pool count is small."""
	lock_pools(frappe.get_all("Customer Pool", pluck="name"))
	frappe.db.sql(
		f"""
		INSERT INTO `{table}` (name, owned_by, customer_name, due_at, rule)
		SELECT pc.name, pc.owned_by, pc.customer_name, pc.recycle_due_at, {RULE_SQL}
		FROM `tabPool Customer` pc FORCE INDEX ({DUE_INDEX}) {RULE_JOINS_SQL}
		WHERE pc.status IN ({_RECYCLABLE}) AND {where_sql} AND NOT {EXEMPT_SQL}
		FOR UPDATE
		""",
		values,
	)


# --- recycle ---------------------------------------------------------------------------------------


def recycle_due(now: datetime | str | None = None) -> dict:
	"""Return every owned/converted customer whose recycle_due_at has passed (and that no exemption
	keeps) to the public pool, set-based. Writes a RECYCLE Pool Log entry per customer (with the rule
	that fired), clears the ERPNext owner fields and assignments, and notifies each former owner.
	Returns {"recycled": n, "owners": k, "seconds": s}."""
	started = time.monotonic()
	now = get_datetime(now) if now else now_datetime()
	with work_table(DUE_TABLE, WORK_COLUMNS):
		select_into(DUE_TABLE, "pc.recycle_due_at <= %(now)s", {"now": now})
		count = frappe.db.sql(f"SELECT COUNT(*) FROM `{DUE_TABLE}`")[0][0]
		owners = 0
		if count:
			write_owners(
				in_table(DUE_TABLE),
				{},
				RECYCLE,
				rule_sql=from_table(DUE_TABLE, "rule"),
				reason=_("Recycled automatically by the pool's rules"),
				now=now,
			)
			owners = _notify_owners(
				DUE_TABLE, _recycled_message, "/app/pool-log?action=Recycle&from_user={owner}"
			)
	summary = {"recycled": count, "owners": owners, "seconds": round(time.monotonic() - started, 3)}
	frappe.logger("crm_pool").info(f"recycle_due: {summary}")
	return summary


# --- reminders -------------------------------------------------------------------------------------


def send_reminders(now: datetime | str | None = None) -> dict:
	"""Tell owners which of their customers will be recycled within their pool's reminder_days,
	once per due date (reminder_sent_at; a later due date after a follow-up earns a new reminder).
	Exempt customers are left out. Returns {"reminded": n, "owners": k, "seconds": s}."""
	started = time.monotonic()
	now = get_datetime(now) if now else now_datetime()
	horizon_days = frappe.db.sql("SELECT MAX(reminder_days) FROM `tabCustomer Pool`")[0][0] or 0
	if horizon_days <= 0:
		return {"reminded": 0, "owners": 0, "seconds": 0.0}
	with work_table(REMIND_TABLE, WORK_COLUMNS):
		select_into(
			REMIND_TABLE,
			"""pc.recycle_due_at > %(now)s
				AND pc.recycle_due_at <= DATE_ADD(%(now)s, INTERVAL %(horizon)s DAY)
				AND p.reminder_days > 0
				AND pc.recycle_due_at <= DATE_ADD(%(now)s, INTERVAL p.reminder_days DAY)
				AND pc.reminder_sent_at IS NULL
				AND pc.owned_by IS NOT NULL""",
			{"now": now, "horizon": horizon_days},
		)
		count = frappe.db.sql(f"SELECT COUNT(*) FROM `{REMIND_TABLE}`")[0][0]
		owners = 0
		if count:
			frappe.db.sql(
				f"""
				UPDATE `tabPool Customer` pc JOIN `{REMIND_TABLE}` t ON t.name = pc.name
				SET pc.reminder_sent_at = %(now)s
				""",
				{"now": now},
			)
			owners = _notify_owners(REMIND_TABLE, _reminder_message, "/app/pool-customer?owned_by={owner}")
	summary = {"reminded": count, "owners": owners, "seconds": round(time.monotonic() - started, 3)}
	frappe.logger("crm_pool").info(f"send_reminders: {summary}")
	return summary


# --- notifications ---------------------------------------------------------------------------------


def _notify_owners(table: str, compose, link: str) -> int:
	"""One system notification (opening `link`, with {owner}) and one email per owner in work table `table`,
	listing the first LISTED of their customers. `compose(count, rows, lang)` returns (subject, html).
	Returns the number of owners notified."""
	totals = dict(
		frappe.db.sql(
			f"SELECT owned_by, COUNT(*) FROM `{table}` WHERE owned_by IS NOT NULL GROUP BY owned_by"
		)
	)
	listed: dict[str, list] = defaultdict(list)
	for row in frappe.db.sql(
		f"""
		SELECT owned_by, name, customer_name, due_at, rule FROM (
			SELECT t.*, ROW_NUMBER() OVER (PARTITION BY owned_by ORDER BY due_at, name) AS n
			FROM `{table}` t WHERE owned_by IS NOT NULL
		) ranked WHERE n <= %(listed)s ORDER BY owned_by, n
		""",
		{"listed": notify.LISTED},
		as_dict=True,
	):
		listed[row.owned_by].append(row)
	for owner, count in totals.items():
		lang = get_user_lang(owner)
		subject, message = compose(count, listed[owner], lang)
		notify.notify(
			[owner], subject, message, link=link.format(owner=quote(owner)), document_type="Pool Customer"
		)
	return len(totals)


def rule_label(rule: str | None, lang: str | None = None) -> str:
	"""'no_followup:30d' -> 'No follow-up for 30 days' (in `lang`)."""
	kind, _sep, days = (rule or "").partition(":")
	days = days.rstrip("d")
	if kind == "no_followup":
		return _("No follow-up for {0} days", lang).format(days)
	if kind == "no_deal":
		return _("No deal for {0} days", lang).format(days)
	return rule or ""


def _table(rows: list, count: int, lang: str) -> str:
	headers = (_("Customer", lang), _("Customer Code", lang), _("Rule", lang), _("Recycle Due At", lang))
	return notify.table(
		[
			(
				row.customer_name,
				row.name,
				rule_label(row.rule, lang),
				format_datetime(row.due_at, "yyyy-MM-dd HH:mm") if row.due_at else "",
			)
			for row in rows
		],
		lang,
		headers,
		count,
	)


def _recycled_message(count: int, rows: list, lang: str) -> tuple[str, str]:
	subject = _("{0} of your customers were recycled to the public pool", lang).format(count)
	intro = _(
		"These customers had no follow-up or no deal within their pool's recycle days and have "
		"returned to the public pool:",
		lang,
	)
	message = f"<p>{escape_html(intro)}</p>" + _table(rows, count, lang)
	return subject, message


def _reminder_message(count: int, rows: list, lang: str) -> tuple[str, str]:
	subject = _("{0} of your customers will be recycled to the public pool soon", lang).format(count)
	intro = _(
		"Follow up with these customers before the date shown, or they return to the public pool:",
		lang,
	)
	message = f"<p>{escape_html(intro)}</p>" + _table(rows, count, lang)
	return subject, message
