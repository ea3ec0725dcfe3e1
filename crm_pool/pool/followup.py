"""Follow-up (跟进) and the recycle due date of pool customers (SPEC §2).

"Last follow-up at" is whatever ERPNext already records touching the party: a Communication, a
Comment, an Event, a closed ToDo, a CRM Note, an Opportunity or a Quotation; a submitted Sales Order
or Sales Invoice is a deal (and a follow-up too). The doc_events in hooks.py call the `on_*` handlers
below, so the dates stay current without rescanning anything: each handler resolves the touched
parties to their Pool Customers with one indexed query, moves the dates forward with one UPDATE and
recomputes the due date of those customers only.

The due date (`recycle_due_at`) of an owned or converted customer is the earliest of
  - (last follow-up or claimed_at, whichever is later) + the no-follow-up days, and
  - (last deal or claimed_at, whichever is later) + the no-deal days,
where the pool's days are overridden by the pool's grade rule for the customer's grade, else by the
Grade Service Policy's recycle days for that grade (crm_pool.grading.service; a 0 keeps the next). A rule of 0 days never recycles; customers that are not owned,
and locked ones, have no due date.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta

import frappe
from frappe.utils import get_datetime, now_datetime

from crm_pool.core.setbased import affected_rows, chunks
from crm_pool.core.status import CONVERTED, OWNED

# Recycling applies to these statuses only (LOCKED is exempt, the others have no owner).
RECYCLABLE = (OWNED, CONVERTED)
# Opportunity statuses that count as open (exemption "open Opportunity").
OPEN_OPPORTUNITY_STATUSES = ("Open", "Quotation", "Replied")
# A pool with more owned customers than this recomputes its due dates in a background job.
LARGE_POOL = 20_000

PARTY_DOCTYPES = ("Lead", "Customer", "Prospect")
# Composite index names added by `add_indexes`.
DUE_INDEX = "crm_pool_status_due"
OPPORTUNITY_INDEX = "crm_pool_party_status"


# --- resolving parties to pool customers ---------------------------------------------------------


def parties_of(links: Iterable[tuple[str | None, str | None]]) -> list[tuple[str, str]]:
	"""The (party_type, party) pairs behind ERPNext links: Lead, Customer and Prospect as they are,
	an Opportunity as its party (Lead, Customer or Prospect); anything else is ignored."""
	parties: set[tuple[str, str]] = set()
	opportunities: set[str] = set()
	for doctype, name in links:
		if not doctype or not name:
			continue
		if doctype in PARTY_DOCTYPES:
			parties.add((doctype, name))
		elif doctype == "Opportunity":
			opportunities.add(name)
	if opportunities:
		for party_type, party in frappe.get_all(
			"Opportunity",
			filters={"name": ("in", list(opportunities))},
			fields=["opportunity_from", "party_name"],
			as_list=True,
		):
			if party_type in PARTY_DOCTYPES and party:
				parties.add((party_type, party))
	return sorted(parties)


def pool_customers_of(parties: Iterable[tuple[str, str]]) -> list[str]:
	"""Names of the Pool Customers standing for these parties, in one indexed query (a Lead through
	the `lead` column, a Customer through `customer`, a Prospect through `party`)."""
	by_type: dict[str, set[str]] = {doctype: set() for doctype in PARTY_DOCTYPES}
	for party_type, party in parties:
		if party_type in by_type and party:
			by_type[party_type].add(party)
	conditions, values = [], {}
	if by_type["Lead"]:
		conditions.append("lead IN %(leads)s")
		values["leads"] = tuple(by_type["Lead"])
	if by_type["Customer"]:
		conditions.append("customer IN %(customers)s")
		values["customers"] = tuple(by_type["Customer"])
	if by_type["Prospect"]:
		conditions.append("(party IN %(prospects)s AND party_type = 'Prospect')")
		values["prospects"] = tuple(by_type["Prospect"])
	if not conditions:
		return []
	return frappe.db.sql_list(  # one indexed query over three columns
		f"SELECT name FROM `tabPool Customer` WHERE {' OR '.join(conditions)} ORDER BY name", values
	)


# A follow-up of the current owner: the customer has an owner and `at` is not before they got it.
_COUNTS_SQL = "owned_by IS NOT NULL AND claimed_at IS NOT NULL AND %(at)s >= claimed_at"
# The first follow-up recorded since then: none yet, or the one recorded is of an earlier owner.
_FIRST_SQL = "(first_followup_at IS NULL OR first_followup_at < claimed_at)"
# first_followup_at and followups_since_claim (the insight reports' response time and cadence).
# MariaDB evaluates a single-table UPDATE's assignments left to right, each seeing the ones before:
# the count goes first, while first_followup_at still holds its old value.
SINCE_CLAIM_ASSIGNMENTS = (
	f"followups_since_claim = IF({_COUNTS_SQL}, IF({_FIRST_SQL}, 1, COALESCE(followups_since_claim, 0) + 1), "
	"followups_since_claim)",
	f"first_followup_at = IF({_COUNTS_SQL}, IF({_FIRST_SQL}, %(at)s, LEAST(first_followup_at, %(at)s)), "
	"first_followup_at)",
)


def record_followup(
	links: Iterable[tuple[str | None, str | None]], at: datetime | str | None = None, *, deal: bool = False
) -> list[str]:
	"""A follow-up (with `deal`: a deal too) touched these ERPNext records at `at` (default now; a
	future time counts as now). Moves last_followup_at (and last_deal_at) of their Pool Customers
	forward, never back, and recomputes their due dates. A follow-up of the current owner (at or after
	claimed_at) also counts in followups_since_claim and sets first_followup_at when it is the first
	since the owner got the customer (the value left by an earlier owner is older than claimed_at).
	Returns the Pool Customers touched."""
	names = pool_customers_of(parties_of(links))
	if not names:
		return []
	now = now_datetime()
	at = min(get_datetime(at), now) if at else now
	assignments = [
		*SINCE_CLAIM_ASSIGNMENTS,
		"last_followup_at = GREATEST(COALESCE(last_followup_at, %(at)s), %(at)s)",
	]
	if deal:
		assignments.append("last_deal_at = GREATEST(COALESCE(last_deal_at, %(at)s), %(at)s)")
	frappe.db.sql(
		f"UPDATE `tabPool Customer` SET {', '.join(assignments)} WHERE name IN %(names)s",
		{"at": at, "names": tuple(names)},
	)
	recompute_due(names)
	return names


# --- the due date ---------------------------------------------------------------------------------


def _days_sql(field: str) -> str:
	"""Days of rule `field` for a customer: its pool's grade rule when > 0, else the Grade Service
	Policy's days for its grade when > 0, else its pool's; NULL when 0."""
	return f"COALESCE(NULLIF(gr.{field}, 0), NULLIF(gsp.{field}, 0), NULLIF(p.{field}, 0))"


def _later_sql(a: str, b: str) -> str:
	"""The later of two datetimes, either of which may be NULL."""
	return f"GREATEST(COALESCE({a}, {b}), COALESCE({b}, {a}))"


def _earlier_sql(a: str, b: str) -> str:
	"""The earlier of two datetimes, either of which may be NULL (NULL when both are)."""
	return f"LEAST(COALESCE({a}, {b}), COALESCE({b}, {a}))"


def _rule_due_sql(last: str, days: str, claimed_at: str) -> str:
	"""When a rule makes the customer due: `days` of the rule after the later of `last` (its last
	follow-up or deal) and its claim (`claimed_at`), else after its creation."""
	return f"DATE_ADD(COALESCE({_later_sql(last, claimed_at)}, pc.creation), INTERVAL {_days_sql(days)} DAY)"


def owned_due_sql(claimed_at: str = "pc.claimed_at") -> str:
	"""The recycle due date of the owned Pool Customer `pc` (with RULE_JOINS_SQL): the earlier of
	the follow-up rule's and the deal rule's. `claimed_at`: when it was claimed (SQL; default its
	column). A claim computes the same date in Python: `claimed_due_at`."""
	return _earlier_sql(
		_rule_due_sql("pc.last_followup_at", "no_followup_days", claimed_at),
		_rule_due_sql("pc.last_deal_at", "no_deal_days", claimed_at),
	)


# The rule days a claim's due date needs, as columns of its pool's settings read (`pool_settings(
# columns=…)`, under the pool's lock): the pool's own, and as JSON [grade, no-follow-up days, no-deal
# days] the pool's grade rules and the Grade Service Policy's rows (`claimed_due_at` picks the
# customer's grade). Over `tabCustomer Pool`.
CLAIM_RULE_DAYS_SQL = """, `tabCustomer Pool`.no_followup_days, `tabCustomer Pool`.no_deal_days,
	(SELECT JSON_ARRAYAGG(JSON_ARRAY(rule.grade, rule.no_followup_days, rule.no_deal_days))
		FROM `tabCustomer Pool Grade Rule` rule WHERE rule.parent = `tabCustomer Pool`.name
		AND rule.parenttype = 'Customer Pool' AND rule.parentfield = 'grade_rules') AS grade_rule_days,
	(SELECT JSON_ARRAYAGG(JSON_ARRAY(policy.grade, policy.no_followup_days, policy.no_deal_days))
		FROM `tabGrade Service Policy Row` policy
		WHERE policy.parent = 'Grade Service Policy' AND policy.parenttype = 'Grade Service Policy')
		AS policy_days"""


def _grade_days(rows_json: str | None, grade: str | None) -> tuple[int | None, int | None]:
	"""The greatest no-follow-up and no-deal days of the rows of `grade` among a pool's grade rules
	or the policy's rows (CLAIM_RULE_DAYS_SQL's JSON; as RULE_JOINS_SQL's `gr` and `gsp`)."""
	rows = [row for row in json.loads(rows_json or "[]") if grade is not None and row[0] == grade]
	return tuple(max((row[i] for row in rows if row[i] is not None), default=None) for i in (1, 2))


def claimed_due_at(
	settings: frappe._dict,
	grade: str | None,
	claimed_at: datetime,
	last_followup_at: datetime | None,
	last_deal_at: datetime | None,
) -> datetime | None:
	"""The recycle due date of a customer claimed at `claimed_at`: what `owned_due_sql(claimed_at)`
	computes, from the rule days its pool's settings read (CLAIM_RULE_DAYS_SQL) and the customer's
	grade and last follow-up and deal. A claim reads these under its locks and writes the date with
	its row (`locking.lock_claimed`): the same rule as the SQL, without its four-table subquery
	(~0.5 ms of MariaDB's CPU in each claim)."""
	# item access: settings read without CLAIM_RULE_DAYS_SQL fail here, not with no due date
	rule = _grade_days(settings["grade_rule_days"], grade)
	policy = _grade_days(settings["policy_days"], grade)
	dues = []
	for i, (last, pool_days) in enumerate(
		((last_followup_at, settings["no_followup_days"]), (last_deal_at, settings["no_deal_days"]))
	):
		days = rule[i] or policy[i] or pool_days  # a 0 keeps the next, as NULLIF in _days_sql
		if days:
			dues.append(max(get_datetime(last or claimed_at), claimed_at) + timedelta(days=days))
	return min(dues, default=None)


FOLLOWUP_DUE_SQL = _rule_due_sql("pc.last_followup_at", "no_followup_days", "pc.claimed_at")
DEAL_DUE_SQL = _rule_due_sql("pc.last_deal_at", "no_deal_days", "pc.claimed_at")
RECYCLABLE_SQL = "pc.status IN ({})".format(", ".join(f"'{s}'" for s in RECYCLABLE))
DUE_SQL = f"IF({RECYCLABLE_SQL}, {owned_due_sql()}, NULL)"
# Which rule makes a customer due: 'no_followup:30d' or 'no_deal:90d' (Pool Log `rule`).
RULE_SQL = (
	f"IF({DEAL_DUE_SQL} < {FOLLOWUP_DUE_SQL} OR {FOLLOWUP_DUE_SQL} IS NULL, "
	f"CONCAT('no_deal:', {_days_sql('no_deal_days')}, 'd'), "
	f"CONCAT('no_followup:', {_days_sql('no_followup_days')}, 'd'))"
)
# Joins that the expressions above need: the pool `p`, its grade rule `gr` for the customer and the
# Grade Service Policy row `gsp` of the customer's grade (one row per grade: validated there).
RULE_JOINS_SQL = """
	JOIN `tabCustomer Pool` p ON p.name = pc.pool
	LEFT JOIN (
		SELECT parent, grade, MAX(no_followup_days) AS no_followup_days, MAX(no_deal_days) AS no_deal_days
		FROM `tabCustomer Pool Grade Rule`
		WHERE parenttype = 'Customer Pool' AND parentfield = 'grade_rules'
		GROUP BY parent, grade
	) gr ON gr.parent = pc.pool AND gr.grade = pc.grade
	LEFT JOIN `tabGrade Service Policy Row` gsp
		ON gsp.parent = 'Grade Service Policy' AND gsp.parenttype = 'Grade Service Policy' AND gsp.grade = pc.grade
"""


def _recompute_where(where_sql: str, values: dict) -> int:
	"""Recompute recycle_due_at of the Pool Customers `pc` matching `where_sql`, in one UPDATE.
	A changed due date clears reminder_sent_at, so the owner is reminded again before the new date."""
	frappe.db.sql(
		f"""
		UPDATE `tabPool Customer` pc {RULE_JOINS_SQL}
		SET pc.reminder_sent_at = IF(pc.recycle_due_at <=> {DUE_SQL}, pc.reminder_sent_at, NULL),
			pc.recycle_due_at = {DUE_SQL}
		WHERE {where_sql}
		""",
		values,
	)
	return affected_rows()


def recompute_due(names: list[str]) -> None:
	"""Recompute recycle_due_at of the given Pool Customers from their pool's rules (set-based).

	Called after every follow-up, and by the ownership module after a claim, assign or unlock."""
	names = [n for n in dict.fromkeys(names or []) if n]
	for chunk in chunks(names):
		_recompute_where("pc.name IN %(names)s", {"names": tuple(chunk)})


def recompute_due_for_pool(pool: str) -> int:
	"""Recompute recycle_due_at of every customer of `pool` (its rules changed), in one UPDATE.
	Returns the number of rows whose due date changed."""
	return _recompute_where("pc.pool = %(pool)s", {"pool": pool})


RULE_FIELDS = ("no_followup_days", "no_deal_days")


def rules_changed(pool) -> bool:
	"""Did this save of a Customer Pool change its recycle days or per-grade days?"""
	before = pool.get_doc_before_save()
	if not before:
		return True

	def grade_rules(doc) -> list[tuple]:
		return sorted((r.grade, r.no_followup_days or 0, r.no_deal_days or 0) for r in doc.get("grade_rules"))

	return any((before.get(f) or 0) != (pool.get(f) or 0) for f in RULE_FIELDS) or grade_rules(
		before
	) != grade_rules(pool)


def on_pool_update(doc, method=None) -> None:
	"""Customer Pool on_update: new rules apply to the pool's customers at once (a large pool in a
	background job)."""
	if not rules_changed(doc):
		return
	owned = frappe.db.count("Pool Customer", {"pool": doc.name, "status": ("in", RECYCLABLE)})
	apply_to_pool("crm_pool.pool.followup.recompute_due_for_pool", doc.name, in_background=owned > LARGE_POOL)


def apply_to_pool(method: str, pool: str, in_background: bool) -> None:
	"""Run `method(pool=pool)` now, or for a large pool in a background job after the commit."""
	if in_background:
		frappe.enqueue(method, pool=pool, queue="long", enqueue_after_commit=True)
	else:
		frappe.get_attr(method)(pool=pool)


# --- doc_events handlers ---------------------------------------------------------------------------


def on_communication(doc, method=None) -> None:
	"""Communication (email, call, chat...) referencing or linked in its timeline to a party."""
	if doc.communication_type not in ("Communication", "Chat"):
		return
	links = [(doc.reference_doctype, doc.reference_name)]
	links += [(link.link_doctype, link.link_name) for link in doc.get("timeline_links") or []]
	record_followup(links, doc.communication_date or doc.creation)


def on_comment(doc, method=None) -> None:
	"""A user's comment (or an Info comment) on a party."""
	if doc.comment_type not in ("Comment", "Info"):
		return
	record_followup([(doc.reference_doctype, doc.reference_name)], doc.creation)


def on_event(doc, method=None) -> None:
	"""An Event with a party among its participants (a future event counts as now)."""
	links = [(p.reference_doctype, p.reference_docname) for p in doc.get("event_participants") or []]
	if links:
		record_followup(links, doc.starts_on)


def on_todo(doc, method=None) -> None:
	"""A ToDo about a party that was just closed."""
	if doc.status == "Closed" and doc.reference_type and doc.has_value_changed("status"):
		record_followup([(doc.reference_type, doc.reference_name)])


def on_notes_parent(doc, method=None) -> None:
	"""Lead / Prospect on_update: CRM Notes (the `notes` child table) added by this save."""
	before = doc.get_doc_before_save()
	old = {row.name for row in before.get("notes") or []} if before else set()
	added = [row for row in doc.get("notes") or [] if row.name not in old]
	if added:
		at = max((get_datetime(row.added_on) for row in added if row.added_on), default=None)
		record_followup([(doc.doctype, doc.name)], at)


def on_opportunity(doc, method=None) -> None:
	"""An Opportunity for a party was created or updated (its CRM Notes included)."""
	record_followup([(doc.opportunity_from, doc.party_name)])


def on_quotation(doc, method=None) -> None:
	"""A Quotation to a party was created, updated or submitted."""
	record_followup([(doc.quotation_to, doc.party_name)])


def on_deal(doc, method=None) -> None:
	"""Sales Order / Sales Invoice on_submit: a deal with the customer (and a follow-up)."""
	record_followup([("Customer", doc.customer)], deal=True)


# --- indexes ---------------------------------------------------------------------------------------


def add_indexes() -> None:
	"""Indexes the recycle scan needs (called from Pool Customer's on_doctype_update): due customers
	by status and date, and open Opportunities by party for the exemption check."""
	frappe.db.add_index("Pool Customer", ["status", "recycle_due_at"], DUE_INDEX)
	frappe.db.add_index("Opportunity", ["party_name", "status"], OPPORTUNITY_INDEX)
