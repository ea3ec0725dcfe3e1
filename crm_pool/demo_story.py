"""The demo's story: after `crm_pool.demo.make_demo` has made the organisation, its leads, customers,
invoices and shares, every demo login finds something to do (issue 12, "a demo that tells the
story").

Everything happens through the app's own paths, as the demo user who would do it (frappe.set_user):
the review Workflow's Approve (the manager), `crm_pool.api.pool.claim` / `release` (salespeople),
follow-ups as Comments (`frappe.desk.form.utils.add_comment`, which `pool.followup` records),
conversions with ERPNext's `make_customer`, `api.allocation.request_allocation`,
`api.transfer.make_transfer` and the transfer Workflow's "Submit for Approval", an Event on a
colleague's customer (an ownership conflict, `transfer.conflicts`), the regrade job, the return
visits' planner and a visit a salesperson planned, the recycle job, and the referral reward
Workflow's Submit and Pay. No status or owner field is ever written here.

One thing only is not a real path: a demo made today has no past, so `shift_claims_back` moves some
claims back in time (their `claimed_at`, `last_followup_at` and the Pool Log entry that gave the
owner), set-based, then recomputes their due dates with `pool.followup.recompute_due` — so some
customers are due for recycling within the week, a few are past due (and the recycle job returns
them), and some of this month's claims were made before today.

Idempotent: each step looks for what it made (a Comment by the salesperson, their requests, the
transfer, the conflict, their visits, the rewards' states) and does nothing when it is there; a
larger count completes what is missing (the review of the new leads).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import frappe
from frappe.utils import add_days, get_datetime, getdate, now_datetime, nowdate

from crm_pool.core.errors import PoolRuleError
from crm_pool.core.log import rebuild_tally
from crm_pool.core.status import ASSIGN, CLAIM, CONVERTED, IN_POOL, INTAKE, OWNED, PENDING_REVIEW, TRANSFER

# Customers left waiting for the manager's review (审核) in each pool that reviews.
REVIEW_KEPT_PER_POOL = 3
# Per salesperson (key of their email): customers claimed from their pool (some moved back to earlier
# this month; under the pools' daily caps with the sharing story's claims of today), and of those: the
# first with a follow-up, the first converted by CONVERTING, the last released again.
CLAIMS = {"zhang.wei": 6, "li.na": 4, "liu.yang": 4, "chen.jing": 4}
FOLLOWED_UP = 3
CONVERTING = ("zhang.wei", "li.na")
# Of the customers a salesperson owns since intake: due for recycling in these many days, and past
# due (returned to the pool by the recycle job).
DUE_IN_DAYS = (2, 5)
PAST_DUE = 1
# Allocation requests (申请) waiting for the manager: salesperson -> customers requested.
REQUESTS = {"zhang.wei": 2, "li.na": 2}
# One transfer waiting for approval: from, to, trigger, reason.
TRANSFER_STORY = ("zhang.wei", "li.na", "Customer Request", "客户总部迁往广州，要求由华南团队就近对接")
# One open ownership conflict: the salesperson who plans a visit to a customer a colleague owns.
CONFLICT_STORY = ("li.na", "zhang.wei")
# Return visits a salesperson planned and has not done: days before today (overdue) and today.
VISITS_PLANNED = (-3, 0)

FOLLOWUP_NOTES = (
	"电话沟通：客户有危废处置需求，约下周上门拜访。",
	"已发送资质文件和服务介绍，客户在内部评估。",
	"拜访客户环保负责人，了解年度检测计划。",
)
RELEASE_REASON = "客户已与其他服务商签约，暂无合作需求"


@contextmanager
def acting() -> Iterator:
	"""act(user): what follows is done by `user`; the session user is restored afterwards."""
	session_user = frappe.session.user

	def act(user: str) -> None:
		if user != frappe.session.user:
			frappe.set_user(user)

	try:
		yield act
	finally:
		if frappe.session.user != session_user:
			frappe.set_user(session_user)


def tell(email_domain: str, manager: str, salespeople: dict[str, str]) -> dict:
	"""The whole story; `salespeople`: key (zhang.wei) -> region (华东). Returns what this run made
	(and `seconds`: each step's time)."""
	emails = {key: f"{key}@{email_domain}" for key in salespeople}
	made: dict[str, int] = {}
	seconds: dict[str, float] = {}

	def step(name: str, run) -> None:
		started = time.monotonic()
		made[name] = run()
		seconds[name] = round(time.monotonic() - started, 1)

	with acting() as act:
		step("reviewed", lambda: review(act, manager, email_domain))
		step(
			"claimed",
			lambda: sum(
				salesperson_work(act, emails[key], region, email_domain, key)
				for key, region in salespeople.items()
			),
		)
		# the scheduler's jobs run as Administrator, as the scheduler runs them
		step("graded", lambda: as_scheduler(act, regrade_once))
		step(
			"requests",
			lambda: sum(
				request(act, emails[key], salespeople[key], email_domain, count)
				for key, count in REQUESTS.items()
			),
		)
		step("transfers", lambda: transfer(act, emails, email_domain))
		step("conflicts", lambda: conflict(act, emails, email_domain))
		step("past_due", lambda: sum(past_due(emails[key], email_domain) for key in salespeople))
		step("recycled", lambda: as_scheduler(act, recycle_job))
		step("visits_by_hand", lambda: sum(plan_visits_by_hand(act, emails[key]) for key in salespeople))
		step("visits_planned", lambda: as_scheduler(act, visit_planner))
		step("rewards", lambda: rewards(act, manager, email_domain))
	made["seconds"] = seconds
	return made


def as_scheduler(act, job):
	act("Administrator")
	return job()


# --- the demo's customers, in the seed's order --------------------------------------------------------


def demo_pool_customers(email_domain: str, **filters) -> list[frappe._dict]:
	"""Pool customers of the demo's leads matching `filters`, in the order of their leads' emails
	(the seed's order: the same customers on every site made from one seed)."""
	leads = dict(
		frappe.get_all(
			"Lead",
			filters={"email_id": ("like", f"%@lead.{email_domain}")},
			fields=["name", "email_id"],
			as_list=True,
		)
	)
	if not leads:
		return []
	rows = frappe.get_all(
		"Pool Customer",
		filters={"lead": ("in", list(leads)), **filters},
		fields=["name", "lead", "customer", "pool", "territory", "status", "owned_by", "grade", "party_type"],
	)
	return sorted(rows, key=lambda row: leads[row.lead])


def in_region(rows: list[frappe._dict], region: str) -> list[frappe._dict]:
	"""The rows whose territory is in `region` (a territory group such as 华东)."""
	territories = set(frappe.db.get_descendants("Territory", region) or []) | {region}
	return [row for row in rows if row.territory in territories]


# --- the history helper: the one write of times that is not the app's own --------------------------


def shift_claims_back(names: list[str], days: int) -> None:
	"""THE DEMO'S HISTORY (a demo made today has no past): move the claim of these owned pool
	customers `days` back in time, as if they had been claimed (or entered, or assigned) then —
	`claimed_at` and `last_followup_at` of the Pool Customers and the `at` of the Pool Log entry that
	gave them their owner, one UPDATE each — and recompute their due dates from their pool's rules
	(`pool.followup.recompute_due`). Nothing else is written, no status, no owner."""
	from crm_pool.pool.followup import recompute_due

	if not names or days <= 0:
		return
	values = {"names": tuple(names), "days": int(days), "actions": (INTAKE, CLAIM, ASSIGN, TRANSFER)}
	frappe.db.sql(  # set-based: the latest owner-giving entry of each customer
		"""UPDATE `tabPool Log` l JOIN (
			SELECT pool_customer, MAX(at) AS at FROM `tabPool Log`
			WHERE pool_customer IN %(names)s AND action IN %(actions)s AND to_user IS NOT NULL
			GROUP BY pool_customer
		) last ON last.pool_customer = l.pool_customer AND last.at = l.at
		SET l.at = DATE_SUB(l.at, INTERVAL %(days)s DAY)
		WHERE l.action IN %(actions)s AND l.to_user IS NOT NULL""",
		values,
	)
	rebuild_tally()  # the entries' days moved (a demo's history: a few hundred entries)
	frappe.db.sql(
		"""UPDATE `tabPool Customer` SET claimed_at = DATE_SUB(claimed_at, INTERVAL %(days)s DAY),
			last_followup_at = DATE_SUB(last_followup_at, INTERVAL %(days)s DAY)
		WHERE name IN %(names)s AND claimed_at IS NOT NULL""",
		values,
	)
	recompute_due(list(names))


def due_days(name: str) -> int:
	"""Days from the claim to the due date of a freshly claimed customer: its pool's (or grade's) rule."""
	claimed_at, due_at = frappe.db.get_value("Pool Customer", name, ["claimed_at", "recycle_due_at"])
	if not claimed_at or not due_at:
		return 0
	return round((get_datetime(due_at) - get_datetime(claimed_at)).total_seconds() / 86400)


# --- review (审核) ----------------------------------------------------------------------------------


def review(act, manager: str, email_domain: str) -> int:
	"""The manager approves the new customers waiting for review, but the last few of each pool that
	reviews (REVIEW_KEPT_PER_POOL, the seed's latest): those wait for the manager on the demo."""
	from frappe.model.workflow import apply_workflow

	pending = demo_pool_customers(email_domain, status=PENDING_REVIEW, review_status="Pending")
	reviewing = set(frappe.get_all("Customer Pool", filters={"require_review": 1}, pluck="name"))
	kept: set[str] = set()
	for pool in reviewing:
		kept |= {row.name for row in [r for r in pending if r.pool == pool][-REVIEW_KEPT_PER_POOL:]}
	approved = 0
	for row in pending:
		if row.name in kept:
			continue
		act(manager)
		apply_workflow(frappe.get_doc("Pool Customer", row.name), "Approve")
		approved += 1
	return approved


# --- a salesperson's month --------------------------------------------------------------------------


def salesperson_work(act, user: str, region: str, email_domain: str, key: str) -> int:
	"""A salesperson's month: claims from their pool (today, and some earlier this month), follow-ups
	on the first ones, one converted (the larger teams), one released again; two of the customers they
	own since intake due for recycling within the week. Done once (their follow-up Comments say so).
	Returns the customers claimed."""
	from crm_pool.api import pool as pool_api

	if frappe.db.exists("Comment", {"comment_type": "Comment", "comment_email": user}):
		return 0
	pools = pools_of(user)
	candidates = [
		row
		for row in in_region(demo_pool_customers(email_domain, status=IN_POOL), region)
		if row.pool in pools and not requested(row.name)
	]
	act(user)
	claimed = []
	for row in candidates:
		if len(claimed) >= CLAIMS.get(key, 0):
			break
		try:
			pool_api.claim(row.name)
			claimed.append(row)
		except PoolRuleError:  # a cap reached on a larger demo: claim fewer
			frappe.clear_messages()
			break
	# earlier this month: every other claim, 2, 4… days ago (none before the 1st)
	earlier = getdate(nowdate()).day - 1
	for i, row in enumerate(claimed[1::2]):
		shift_claims_back([row.name], min(2 * (i + 1), earlier))
	act(user)
	for i, row in enumerate(claimed[:FOLLOWED_UP]):
		follow_up(user, row.lead, FOLLOWUP_NOTES[i % len(FOLLOWUP_NOTES)])
	if claimed and key in CONVERTING:
		convert(user, claimed[0].lead)
	if len(claimed) > 1:
		act(user)
		pool_api.release(claimed[-1].name, RELEASE_REASON)
	due_soon(user, email_domain)
	return len(claimed)


def pools_of(user: str) -> set[str]:
	from crm_pool.core.settings import user_pools

	return set(user_pools(user))


def requested(pool_customer: str) -> bool:
	"""Is this customer in an open allocation request (kept for it, not claimed)?"""
	return bool(
		frappe.db.exists(
			"Pool Allocation Request Line",
			{"pool_customer": pool_customer, "parenttype": "Pool Allocation Request"},
		)
	)


def follow_up(user: str, lead: str, note: str) -> None:
	"""A follow-up the salesperson writes on the Lead (the form's comment box)."""
	from frappe.desk.form.utils import add_comment

	add_comment("Lead", lead, note, user, frappe.utils.get_fullname(user))


def convert(user: str, lead: str) -> None:
	"""The owner turns the lead into a Customer (ERPNext's Lead -> Customer mapping)."""
	from erpnext.crm.doctype.lead.lead import make_customer

	customer = make_customer(lead)
	customer.customer_group = frappe.db.get_value("Lead", lead, "industry") or customer.customer_group
	customer.account_manager = user
	customer.flags.ignore_permissions = True
	customer.insert()


def owned_since_intake(user: str, email_domain: str) -> list[frappe._dict]:
	"""Leads the salesperson entered themselves (首问负责) and still owns, not converted, in seed order."""
	entered = set(
		frappe.get_all("Pool Log", filters={"action": INTAKE, "to_user": user}, pluck="pool_customer")
	)
	return [
		row
		for row in demo_pool_customers(email_domain, owned_by=user, status=OWNED, party_type="Lead")
		if row.name in entered
	]


def due_soon(user: str, email_domain: str) -> None:
	"""Two of the salesperson's own leads were entered long enough ago to be due within the week."""
	rows = owned_since_intake(user, email_domain)[: len(DUE_IN_DAYS)]
	for row, days_left in zip(rows, DUE_IN_DAYS, strict=False):
		days = due_days(row.name)
		if days > days_left:
			shift_claims_back([row.name], days - days_left)


def past_due(user: str, email_domain: str) -> int:
	"""PAST_DUE of the salesperson's own leads were left without follow-up a day past their pool's
	days: the recycle job returns them. Once: not when the salesperson already lost one to it."""
	from crm_pool.core.status import RECYCLE

	if frappe.db.exists("Pool Log", {"action": RECYCLE, "from_user": user}):
		return 0
	rows = owned_since_intake(user, email_domain)[len(DUE_IN_DAYS) : len(DUE_IN_DAYS) + PAST_DUE]
	for row in rows:
		shift_claims_back([row.name], due_days(row.name) + 1)
	return len(rows)


def recycle_job() -> int:
	"""The daily recycle job: reminders to the owners of customers due soon, the past-due back to the pool."""
	from crm_pool.pool import recycle

	return recycle.run_daily()["recycle"]["recycled"]


# --- requests, transfer, conflict -----------------------------------------------------------------


def request(act, user: str, region: str, email_domain: str, count: int) -> int:
	"""申请: the salesperson applies for `count` in-pool customers of their pool (once)."""
	from crm_pool.api import allocation as allocation_api

	if frappe.db.exists("Pool Allocation Request", {"requester": user}):
		return 0
	pools = pools_of(user)
	rows = [
		r for r in in_region(demo_pool_customers(email_domain, status=IN_POOL), region) if r.pool in pools
	]
	rows = [r for r in rows if r.pool == rows[0].pool][-count:] if rows else []
	if len(rows) < count:
		return 0
	act(user)
	allocation_api.request_allocation(
		[r.name for r in rows], "同区域客户集中跟进，已有对接渠道", "本月内完成首次拜访", submit=1
	)
	return 1


def transfer(act, emails: dict[str, str], email_domain: str) -> int:
	"""A salesperson asks to hand one customer to a colleague (the customer asked for it): waits for
	the manager's approval. Once."""
	from frappe.model.workflow import apply_workflow

	from crm_pool.api import transfer as transfer_api
	from crm_pool.transfer.transfers import DOCTYPE

	source, target, trigger, reason = TRANSFER_STORY
	if source not in emails or target not in emails:
		return 0
	if frappe.db.exists(DOCTYPE, {"from_owner": emails[source]}):
		return 0
	rows = demo_pool_customers(email_domain, owned_by=emails[source], status=CONVERTED)
	if not rows:
		return 0
	act(emails[source])
	made = transfer_api.make_transfer(
		emails[source], trigger, to_owner=emails[target], pool_customers=[rows[-1].name], reason=reason
	)
	apply_workflow(frappe.get_doc(DOCTYPE, made["name"]), "Submit for Approval")
	return 1


def conflict(act, emails: dict[str, str], email_domain: str) -> int:
	"""撞单: a salesperson plans a visit (an Event) to a customer a colleague owns; the pool records
	the conflict for the managers. Once."""
	from crm_pool.transfer.conflicts import DOCTYPE

	claimant, owner = CONFLICT_STORY
	if claimant not in emails or owner not in emails:
		return 0
	if frappe.db.exists(DOCTYPE, {"claimant": emails[claimant]}):
		return 0
	rows = owned_since_intake(emails[owner], email_domain)
	if not rows:
		return 0
	act(emails[claimant])
	frappe.get_doc(
		{
			"doctype": "Event",
			"subject": "拜访客户，洽谈危废处置合作",
			"starts_on": add_days(now_datetime(), 2),
			"event_type": "Private",
			"event_participants": [{"reference_doctype": "Lead", "reference_docname": rows[-1].lead}],
		}
	).insert()
	return 1


# --- grades, visits ---------------------------------------------------------------------------------


def regrade_once() -> int:
	"""The regrade job, unless every rule ran after the newest customer came (a re-run)."""
	from crm_pool.grading import regrade

	last_runs = frappe.get_all("Customer Grade Rule", filters={"enabled": 1}, pluck="last_run_at")
	newest = frappe.db.get_value("Customer", {}, "max(creation)")
	if last_runs and all(last_runs) and newest and get_datetime(newest) <= min(map(get_datetime, last_runs)):
		return 0  # graded since the newest customer came
	return regrade.regrade()["graded"]


def plan_visits_by_hand(act, user: str) -> int:
	"""The salesperson planned return visits for two of their graded customers: one three days ago,
	not done yet (overdue), one today. Once."""
	from crm_pool.grading.visits import DOCTYPE, PLANNED

	if frappe.db.exists(DOCTYPE, {"owner": user}):
		return 0
	rows = frappe.get_all(
		"Pool Customer",
		filters={"owned_by": user, "status": CONVERTED, "grade": ("is", "set")},
		fields=["name"],
		order_by="grade, name",
	)
	open_visits = set(frappe.get_all(DOCTYPE, filters={"status": PLANNED}, pluck="pool_customer"))
	rows = [r for r in rows if r.name not in open_visits][: len(VISITS_PLANNED)]
	act(user)
	for row, offset in zip(rows, VISITS_PLANNED, strict=False):
		frappe.get_doc(
			{
				"doctype": DOCTYPE,
				"pool_customer": row.name,
				"planned_date": add_days(nowdate(), offset),
				"channel": "Phone",
				"status": PLANNED,
			}
		).insert()
	return len(rows)


def visit_planner() -> int:
	"""The daily job of the grades' service: exclusive managers for A customers (their owner by
	default), then the return visits of every graded customer."""
	from crm_pool.grading import visits

	return visits.run_daily()["planned"]


# --- rewards ----------------------------------------------------------------------------------------


def rewards(act, manager: str, email_domain: str) -> int:
	"""Last month's rewards: the manager submits a salesperson's computed draft (it waits for
	approval) and pays 赵敏's approved one (a Journal Entry). Returns the workflow actions taken."""
	from frappe.model.workflow import apply_workflow

	from crm_pool.sharing.model import APPROVED, DRAFT, PAID, REWARD, SUBMITTED

	done = 0
	if not frappe.db.exists(REWARD, {"workflow_state": SUBMITTED}):
		draft = frappe.db.get_value(
			REWARD, {"workflow_state": DRAFT, "sharer": ("!=", manager)}, "name", order_by="name"
		)
		if draft:
			act(manager)
			apply_workflow(frappe.get_doc(REWARD, draft), "Submit")
			done += 1
	if not frappe.db.exists(REWARD, {"workflow_state": PAID}):
		approved = frappe.db.get_value(
			REWARD, {"workflow_state": APPROVED, "sharer": ("!=", manager)}, "name", order_by="name"
		)
		if approved:
			act(manager)
			apply_workflow(frappe.get_doc(REWARD, approved), "Pay")
			done += 1
	return done


# --- what each login finds ----------------------------------------------------------------------------


def what_they_find(user: str) -> dict[str, int]:
	"""What `user` finds on the demo, counted as they see it (frappe.get_list: their record-level
	access): the workspace's numbers and what waits for them."""
	from frappe.utils import get_first_day

	from crm_pool.core.status import CONVERT, HAS_OWNER

	today, now = nowdate(), now_datetime()

	def count(doctype: str, filters: dict | list) -> int:
		try:
			return len(
				frappe.get_list(doctype, filters=filters, pluck="name", user=user, limit_page_length=0)
			)
		except frappe.PermissionError:  # a doctype this login does not read at all
			frappe.clear_messages()
			return 0

	found = {
		"in_pool": count("Pool Customer", {"status": IN_POOL}),
		"owned": count("Pool Customer", {"status": ("in", HAS_OWNER)}),
		"due_7_days": count(
			"Pool Customer",
			[
				["status", "in", (OWNED, CONVERTED)],
				["recycle_due_at", ">=", now],
				["recycle_due_at", "<", add_days(now, 7)],
			],
		),
		"claims_today": count("Pool Log", {"action": CLAIM, "at": (">=", today)}),
		"claims_this_month": count(
			"Pool Log", {"action": ("in", (CLAIM, ASSIGN)), "at": (">=", get_first_day(today))}
		),
		"conversions_this_month": count("Pool Log", {"action": CONVERT, "at": (">=", get_first_day(today))}),
		"pending_review": count("Pool Customer", {"status": PENDING_REVIEW}),
		"requests_to_approve": count("Pool Allocation Request", {"workflow_state": "Pending Approval"}),
		"transfers_to_approve": count("Ownership Transfer", {"status": "Pending Approval"}),
		"open_conflicts": count("Ownership Conflict", {"status": "Open"}),
		"visits_overdue": count("Return Visit", {"status": "Planned", "planned_date": ("<", today)}),
		"visits_today": count("Return Visit", {"status": "Planned", "planned_date": today}),
		"rewards_to_approve": count("Referral Reward", {"workflow_state": "Submitted"}),
		"shares": count("Customer Share", {}),
		"rewards": count("Referral Reward", {}),
	}
	return found


# How the set-up script prints them (both languages: it is read in a terminal).
FOUND_LABELS = {
	"in_pool": "公海中 in pool",
	"owned": "已领取 owned",
	"due_7_days": "7天内回收 due in 7 days",
	"claims_today": "今日领取 claims today",
	"conversions_this_month": "本月转化 converted this month",
	"pending_review": "待审核 to review",
	"requests_to_approve": "待审批申请 requests pending",
	"transfers_to_approve": "待审批转移 transfers pending",
	"open_conflicts": "撞单 open conflicts",
	"visits_overdue": "逾期回访 visits overdue",
	"visits_today": "今日回访 visits today",
	"rewards_to_approve": "待审批奖励 rewards pending",
	"shares": "共享 shares",
	"rewards": "推荐奖励 rewards",
}


def format_found(found: dict[str, int]) -> str:
	return ", ".join(f"{label} {found[key]}" for key, label in FOUND_LABELS.items() if found.get(key))
