"""Return visits (回访, seed 003 §4(三)): planned at the grade's interval, done by the exclusive manager
(else the owner), on their calendar.

The daily planner (`plan_visits`, scheduler_events) works set-based, a few statements whatever the
number of customers: open visits follow a change of exclusive manager or owner; open visits of
customers that lost their owner are removed with their Events; every owned customer of a grade with
an interval and no open visit gets one, planned `interval` days after its last done visit (else after
it was claimed), never before today (today when its last visit was missed: the visit is still owed); each new visit gets a private Event on the assignee's calendar
with the party and the visit as participants. `open_key` (unique, the pool customer while the visit
is Planned) keeps one open visit per customer even under concurrent runs (INSERT IGNORE).

Planning is not a follow-up (the Events are written in SQL: `pool.followup.on_event` would count a
planned call as one); a visit marked Done is (`record_followup`), so the recycle due date moves, and
the next visit is planned at once.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import cint, get_datetime, now_datetime, nowdate

from crm_pool.access.permissions import OWN, _visible, pool_customer_condition, scope
from crm_pool.core.setbased import chunks
from crm_pool.core.status import HAS_OWNER
from crm_pool.grading.managers import default_exclusive_managers
from crm_pool.grading.service import POLICY
from crm_pool.pool.followup import record_followup

DOCTYPE = "Return Visit"
PLANNED, DONE, MISSED = "Planned", "Done", "Missed"
CHANNELS = ("Phone", "Visit", "Online")
_OWNED = ", ".join(f"'{s}'" for s in HAS_OWNER)
ASSIGNEE_SQL = "COALESCE(pc.exclusive_manager, pc.owned_by)"
EVENT_PREFIX = "EV-RV-"


def run_daily() -> dict:
	"""scheduler_events daily: exclusive managers by default, then the visits."""
	defaulted = default_exclusive_managers()
	return dict(plan_visits(), exclusive_managers=defaulted)


def plan_visits(names: list[str] | None = None) -> dict:
	"""Plan the next return visit of every owned customer (or of `names`) that has none open.
	Returns {"planned": n, "reassigned": n, "removed": n}."""
	values: dict = {"today": nowdate(), "now": now_datetime(), "policy": POLICY}
	only = ""
	if names is not None:
		if not names:
			return {"planned": 0, "reassigned": 0, "removed": 0}
		values["names"] = tuple(names)
		only = "AND pc.name IN %(names)s"
	# open visits follow the customer's exclusive manager (else owner), and their Events too
	frappe.db.sql(
		f"""UPDATE `tab{DOCTYPE}` rv JOIN `tabPool Customer` pc ON pc.name = rv.pool_customer
		LEFT JOIN `tabEvent` ev ON ev.name = rv.event
		SET rv.assigned_to = {ASSIGNEE_SQL}, ev.owner = {ASSIGNEE_SQL}, rv.modified = %(now)s
		WHERE rv.status = '{PLANNED}' AND pc.owned_by IS NOT NULL
			AND NOT rv.assigned_to <=> {ASSIGNEE_SQL} {only}""",
		values,
	)
	reassigned = frappe.db.sql("SELECT ROW_COUNT()")[0][0]
	removed = _remove_open_visits(f"(pc.owned_by IS NULL OR pc.status NOT IN ({_OWNED})) {only}", values)
	# one open visit per customer: NOT EXISTS for the plan, the unique open_key against races
	frappe.db.sql(
		f"""INSERT IGNORE INTO `tab{DOCTYPE}`
			(name, creation, modified, owner, modified_by, docstatus, idx, pool_customer, customer_name,
			grade, party_type, party, planned_date, assigned_to, channel, status, satisfaction, open_key)
		SELECT LEFT(MD5(CONCAT(pc.name, UUID())), 10), %(now)s, %(now)s, 'Administrator', 'Administrator',
			0, 0, pc.name, pc.customer_name, pc.grade, pc.party_type, pc.party,
			IF(lv.last_missed > COALESCE(lv.last_done, pc.claimed_at, pc.creation), %(today)s,
				GREATEST(%(today)s, DATE_ADD(DATE(COALESCE(lv.last_done, pc.claimed_at, pc.creation)),
					INTERVAL gsp.visit_interval_days DAY))),
			{ASSIGNEE_SQL}, 'Phone', '{PLANNED}', 0, pc.name
		FROM `tabPool Customer` pc
		JOIN `tabGrade Service Policy Row` gsp ON gsp.parent = %(policy)s AND gsp.parenttype = %(policy)s
			AND gsp.grade = pc.grade AND gsp.visit_interval_days > 0
		LEFT JOIN (
			SELECT pool_customer, MAX(IF(status = '{DONE}', done_at, NULL)) AS last_done,
				MAX(IF(status = '{MISSED}', modified, NULL)) AS last_missed
			FROM `tab{DOCTYPE}` WHERE status IN ('{DONE}', '{MISSED}') GROUP BY pool_customer
		) lv ON lv.pool_customer = pc.name
		WHERE pc.status IN ({_OWNED}) AND pc.owned_by IS NOT NULL {only}
			AND NOT EXISTS (SELECT 1 FROM `tab{DOCTYPE}` o WHERE o.open_key = pc.name)""",
		values,
	)
	planned = frappe.db.sql("SELECT ROW_COUNT()")[0][0]
	add_events("rv.status = %(planned)s AND rv.event IS NULL", {"planned": PLANNED})
	return {"planned": planned, "reassigned": reassigned, "removed": removed}


def _remove_open_visits(where_sql: str, values: dict) -> int:
	"""Delete the open visits (and their Events) of the customers `pc` matching `where_sql`: one
	query finds them (usually none), then a few statements per chunk remove them."""
	names = frappe.db.sql_list(
		f"""SELECT rv.name FROM `tab{DOCTYPE}` rv JOIN `tabPool Customer` pc ON pc.name = rv.pool_customer
		WHERE rv.status = '{PLANNED}' AND {where_sql}""",
		values,
	)
	for chunk in chunks(names):
		chunk_values = {"names": tuple(chunk)}
		events = "SELECT rv.event FROM `tab{0}` rv WHERE rv.name IN %(names)s AND rv.event IS NOT NULL"
		frappe.db.sql(
			f"DELETE FROM `tabEvent Participants` WHERE parent IN ({events.format(DOCTYPE)})", chunk_values
		)
		frappe.db.sql(f"DELETE FROM `tabEvent` WHERE name IN ({events.format(DOCTYPE)})", chunk_values)
		frappe.db.sql(f"DELETE FROM `tab{DOCTYPE}` WHERE name IN %(names)s", chunk_values)
	return len(names)


def add_events(where_sql: str, values: dict) -> None:
	"""A private Event on the assignee's calendar for each visit `rv` matching `where_sql` (all day,
	on the planned date), with the party and the visit as participants; set-based."""
	values = dict(values, now=now_datetime(), prefix=EVENT_PREFIX, title=_("Return visit: "))
	where = f"{where_sql} AND rv.assigned_to IS NOT NULL"
	frappe.db.sql(
		f"""INSERT IGNORE INTO `tabEvent` (name, creation, modified, owner, modified_by, docstatus, idx,
			subject, event_category, event_type, starts_on, all_day, status, send_reminder, description)
		SELECT CONCAT(%(prefix)s, rv.name), %(now)s, %(now)s, rv.assigned_to, rv.assigned_to, 0, 0,
			CONCAT(%(title)s, rv.customer_name), 'Call', 'Private', TIMESTAMP(rv.planned_date, '09:00:00'),
			1, 'Open', 1, rv.customer_name
		FROM `tab{DOCTYPE}` rv WHERE {where}""",
		values,
	)
	for idx, (doctype_sql, name_sql) in enumerate(
		(("rv.party_type", "rv.party"), (f"'{DOCTYPE}'", "rv.name"))
	):
		frappe.db.sql(
			f"""INSERT IGNORE INTO `tabEvent Participants` (name, creation, modified, owner, modified_by,
				docstatus, idx, parent, parenttype, parentfield, reference_doctype, reference_docname)
			SELECT CONCAT(%(prefix)s, rv.name, '-{idx + 1}'), %(now)s, %(now)s, rv.assigned_to,
				rv.assigned_to, 0, {idx + 1}, CONCAT(%(prefix)s, rv.name), 'Event', 'event_participants',
				{doctype_sql}, {name_sql}
			FROM `tab{DOCTYPE}` rv WHERE {where} AND {name_sql} IS NOT NULL""",
			values,
		)
	frappe.db.sql(
		f"UPDATE `tab{DOCTYPE}` rv SET rv.event = CONCAT(%(prefix)s, rv.name) WHERE {where}", values
	)


# --- the Return Visit document ---------------------------------------------------------------------


def validate_visit(doc) -> None:
	"""Return Visit validate: a satisfaction of 1-5 (0: not asked), one open visit per customer, the
	assignee by default the exclusive manager (else owner), Done stamped with its time."""
	if (
		doc.is_new()
		and not doc.flags.ignore_permissions
		and not _visible(
			"Pool Customer", doc.pool_customer, pool_customer_condition(frappe.session.user, in_pool=False)
		)
	):
		frappe.throw(_("You may plan return visits only for customers you serve"), frappe.PermissionError)
	if not 0 <= cint(doc.satisfaction) <= 5:
		frappe.throw(_("Satisfaction is from 1 to 5 (0: not asked)"))
	if doc.channel and doc.channel not in CHANNELS:
		frappe.throw(_("Choose a channel: Phone, Visit or Online"))
	if not doc.assigned_to:
		pc = frappe.db.get_value(
			"Pool Customer", doc.pool_customer, ["exclusive_manager", "owned_by"], as_dict=True
		)
		doc.assigned_to = pc and (pc.exclusive_manager or pc.owned_by)
	if doc.status == PLANNED:
		other = frappe.db.get_value(DOCTYPE, {"open_key": doc.pool_customer, "name": ("!=", doc.name)})
		if other:
			frappe.throw(_("{0} already has an open return visit: {1}").format(doc.customer_name, other))
		doc.open_key = doc.pool_customer
	else:
		doc.open_key = None
	if doc.status == DONE and not doc.done_at:
		doc.done_at = now_datetime()


def visit_updated(doc, method=None) -> None:
	"""Return Visit on_update: a visit just done is a follow-up of the party (the recycle clock
	restarts) and its Event is completed; a missed one cancels its Event; either way the next visit
	is planned. A new open visit without an Event gets one."""
	before = doc.get_doc_before_save()
	if doc.status == PLANNED:
		if not doc.event:
			add_events("rv.name = %(name)s AND rv.event IS NULL", {"name": doc.name})
		return
	if before and before.status != PLANNED:
		return
	if doc.status == DONE:
		record_followup([(doc.party_type, doc.party)], min(get_datetime(doc.done_at), now_datetime()))
	if doc.event:
		status = "Completed" if doc.status == DONE else "Cancelled"
		frappe.db.set_value("Event", doc.event, "status", status, update_modified=False)
	plan_visits([doc.pool_customer])


def complete(
	visit: str, status: str, *, outcome=None, satisfaction: int = 0, feedback=None, channel=None
) -> frappe._dict:
	"""Mark a visit Done (or Missed) with its outcome; returns the visit and the next one planned."""
	doc = frappe.get_doc(DOCTYPE, visit)
	doc.check_permission("write")
	if doc.status != PLANNED:
		frappe.throw(_("This return visit is already {0}").format(_(doc.status)))
	doc.update({"status": status, "outcome": outcome, "satisfaction": satisfaction, "feedback": feedback})
	if channel:
		doc.channel = channel
	doc.save()
	following = frappe.db.get_value(
		DOCTYPE, {"open_key": doc.pool_customer}, ["name", "planned_date"], as_dict=True
	)
	return frappe._dict(name=doc.name, status=doc.status, next=following)


def overdue(user: str | None = None) -> list[frappe._dict]:
	"""Open visits planned before today that `user` may read (list filter: Status = Planned, Planned
	Date before today; the workspace's number card "Overdue Return Visits")."""
	return frappe.get_list(
		DOCTYPE,
		filters={"status": PLANNED, "planned_date": ("<", nowdate())},
		fields=["name", "pool_customer", "customer_name", "planned_date", "assigned_to"],
		order_by="planned_date",
		user=user,
	)


# --- record-level access: a sales user sees the visits of the customers they may read -----------------


def return_visit_query(user: str | None = None) -> str:
	"""The visits of the customers whose data the user may read (not those of in-pool customers, even
	of the user's pools: their earlier visits stay with the people who served them)."""
	condition = pool_customer_condition(user or frappe.session.user, in_pool=False)
	if not condition:
		return ""
	return (
		f"`tab{DOCTYPE}`.pool_customer IN "
		f"(SELECT `tabPool Customer`.name FROM `tabPool Customer` WHERE {condition})"
	)


def has_return_visit_permission(doc, ptype: str | None = None, user: str | None = None, debug=False):
	user = user or frappe.session.user
	if doc.is_new() or not doc.pool_customer:
		return None
	if not _visible("Pool Customer", doc.pool_customer, pool_customer_condition(user, in_pool=False)):
		return False
	if (
		ptype not in (None, "read", "select", "print", "email", "report", "export")
		and scope(user, "Pool Customer") == OWN
	):
		pc = frappe.db.get_value(
			"Pool Customer", doc.pool_customer, ["owned_by", "exclusive_manager"], as_dict=True
		)
		if user not in (doc.assigned_to, pc.owned_by, pc.exclusive_manager):
			return False  # a collaborator or a pool member reads, the assignee and the owner work on it
	return None
