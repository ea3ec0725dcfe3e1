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

from crm_pool.pool import log, mirror
from crm_pool.pool.followup import (
	DUE_INDEX,
	OPEN_OPPORTUNITY_STATUSES,
	RECYCLABLE,
	RULE_JOINS_SQL,
	RULE_SQL,
	_days_sql,
)
from crm_pool.pool.notify import notify
from crm_pool.pool.status import IN_POOL, RECYCLE

# How many customers a notification or an email lists by name (the rest are counted).
LISTED = 20
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
IN_TABLE_SQL = "pc.name IN (SELECT name FROM `{table}`)"


def run_daily() -> dict:
	"""The daily job (scheduler_events daily): reminders first, then the recycle itself."""
	return {"reminders": send_reminders(), "recycle": recycle_due()}


# --- temporary tables ------------------------------------------------------------------------------


def _create_temp_table(table: str) -> None:
	"""(Re)create a session-private work table. CREATE/DROP TEMPORARY TABLE do not end the
	transaction in MariaDB; the leading comment keeps Frappe's implicit-commit guard, which only
	knows plain CREATE/DROP, from refusing them inside a transaction that has writes."""
	_drop_temp_table(table)
	frappe.db.sql(
		f"""/* crm_pool work table */ CREATE TEMPORARY TABLE `{table}` (
			name VARCHAR(140) NOT NULL PRIMARY KEY,
			owned_by VARCHAR(140),
			customer_name VARCHAR(140),
			due_at DATETIME(6),
			rule VARCHAR(140)
		) ENGINE=InnoDB"""
	)


def _drop_temp_table(table: str) -> None:
	frappe.db.sql(f"/* crm_pool work table */ DROP TEMPORARY TABLE IF EXISTS `{table}`")


# --- recycle ---------------------------------------------------------------------------------------


def recycle_due(now: datetime | str | None = None) -> dict:
	"""Return every owned/converted customer whose recycle_due_at has passed (and that no exemption
	keeps) to the public pool, set-based. Writes a RECYCLE Pool Log entry per customer (with the rule
	that fired), clears the ERPNext owner fields and assignments, and notifies each former owner.
	Returns {"recycled": n, "owners": k, "seconds": s}."""
	started = time.monotonic()
	now = get_datetime(now) if now else now_datetime()
	# The selection locks what it reads (FOR UPDATE), so a claim or follow-up cannot slip in
	# between it and the UPDATE; the (status, recycle_due_at) index keeps the scan, and the locks,
	# to the due customers.
	_create_temp_table(DUE_TABLE)
	try:
		frappe.db.sql(
			f"""
			INSERT INTO `{DUE_TABLE}` (name, owned_by, customer_name, due_at, rule)
			SELECT pc.name, pc.owned_by, pc.customer_name, pc.recycle_due_at, {RULE_SQL}
			FROM `tabPool Customer` pc FORCE INDEX ({DUE_INDEX}) {RULE_JOINS_SQL}
			WHERE pc.status IN ({_RECYCLABLE}) AND pc.recycle_due_at <= %(now)s
				AND NOT {EXEMPT_SQL}
			FOR UPDATE
			""",
			{"now": now},
		)
		count = frappe.db.sql(f"SELECT COUNT(*) FROM `{DUE_TABLE}`")[0][0]
		owners = 0
		if count:
			where = IN_TABLE_SQL.format(table=DUE_TABLE)
			log.insert_logs_select(
				RECYCLE,
				where,
				{},
				rule_sql=f"(SELECT t.rule FROM `{DUE_TABLE}` t WHERE t.name = pc.name)",
				reason=_("Recycled automatically by the pool's rules"),
			)
			mirror.clear_owners_select(where, {})
			frappe.db.sql(
				f"""
				DELETE FROM `tabPool Customer Collaborator`
				WHERE parenttype = 'Pool Customer' AND parent IN (SELECT name FROM `{DUE_TABLE}`)
				"""
			)
			frappe.db.sql(
				f"""
				UPDATE `tabPool Customer` pc JOIN `{DUE_TABLE}` t ON t.name = pc.name
				SET pc.status = %(in_pool)s, pc.previous_owner = t.owned_by, pc.owned_by = NULL,
					pc.owner_name = NULL, pc.released_at = %(now)s, pc.pool_entered_at = %(now)s,
					pc.claimed_at = NULL, pc.recycle_due_at = NULL, pc.reminder_sent_at = NULL,
					pc.modified = %(now)s, pc.modified_by = %(user)s
				""",
				{"in_pool": IN_POOL, "now": now, "user": frappe.session.user},
			)
			mirror.revoke_access_select(where, {})  # shares and assignments end with ownership
			owners = _notify_owners(
				DUE_TABLE, _recycled_message, "/app/pool-log?action=Recycle&from_user={owner}"
			)
	finally:
		_drop_temp_table(DUE_TABLE)
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
	_create_temp_table(REMIND_TABLE)
	try:
		frappe.db.sql(
			f"""
			INSERT INTO `{REMIND_TABLE}` (name, owned_by, customer_name, due_at, rule)
			SELECT pc.name, pc.owned_by, pc.customer_name, pc.recycle_due_at, {RULE_SQL}
			FROM `tabPool Customer` pc FORCE INDEX ({DUE_INDEX}) {RULE_JOINS_SQL}
			WHERE pc.status IN ({_RECYCLABLE})
				AND pc.recycle_due_at > %(now)s
				AND pc.recycle_due_at <= DATE_ADD(%(now)s, INTERVAL %(horizon)s DAY)
				AND p.reminder_days > 0
				AND pc.recycle_due_at <= DATE_ADD(%(now)s, INTERVAL p.reminder_days DAY)
				AND pc.reminder_sent_at IS NULL
				AND pc.owned_by IS NOT NULL
				AND NOT {EXEMPT_SQL}
			FOR UPDATE
			""",
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
	finally:
		_drop_temp_table(REMIND_TABLE)
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
		{"listed": LISTED},
		as_dict=True,
	):
		listed[row.owned_by].append(row)
	for owner, count in totals.items():
		lang = get_user_lang(owner)
		subject, message = compose(count, listed[owner], lang)
		_notify(owner, subject, message, link.format(owner=quote(owner)))
	return len(totals)


def _notify(user: str, subject: str, message: str, link: str) -> None:
	"""A system notification (Notification Log, type Alert) and a queued email to `user`."""
	notify([user], subject, message, link=link, document_type="Pool Customer")


def rule_label(rule: str | None, lang: str | None = None) -> str:
	"""'no_followup:30d' -> 'No follow-up for 30 days' (in `lang`)."""
	kind, _sep, days = (rule or "").partition(":")
	days = days.rstrip("d")
	if kind == "no_followup":
		return _("No follow-up for {0} days", lang).format(days)
	if kind == "no_deal":
		return _("No deal for {0} days", lang).format(days)
	return rule or ""


def _table(rows: list, count: int, lang: str, date_label: str) -> str:
	head = "".join(
		f"<th style='text-align:left;padding:2px 8px'>{escape_html(h)}</th>"
		for h in (_("Customer", lang), _("Customer Code", lang), _("Rule", lang), date_label)
	)
	body = "".join(
		"<tr>"
		+ "".join(
			f"<td style='padding:2px 8px'>{escape_html(str(v or ''))}</td>"
			for v in (
				row.customer_name,
				row.name,
				rule_label(row.rule, lang),
				format_datetime(row.due_at, "yyyy-MM-dd HH:mm") if row.due_at else "",
			)
		)
		+ "</tr>"
		for row in rows
	)
	more = ""
	if count > len(rows):
		more = f"<p>{escape_html(_('and {0} more', lang).format(count - len(rows)))}</p>"
	return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _recycled_message(count: int, rows: list, lang: str) -> tuple[str, str]:
	subject = _("{0} of your customers were recycled to the public pool", lang).format(count)
	intro = _(
		"These customers had no follow-up or no deal within their pool's recycle days and have "
		"returned to the public pool:",
		lang,
	)
	message = f"<p>{escape_html(intro)}</p>" + _table(rows, count, lang, _("Recycle Due At", lang))
	return subject, message


def _reminder_message(count: int, rows: list, lang: str) -> tuple[str, str]:
	subject = _("{0} of your customers will be recycled to the public pool soon", lang).format(count)
	intro = _(
		"Follow up with these customers before the date shown, or they return to the public pool:",
		lang,
	)
	message = f"<p>{escape_html(intro)}</p>" + _table(rows, count, lang, _("Recycle Due At", lang))
	return subject, message
