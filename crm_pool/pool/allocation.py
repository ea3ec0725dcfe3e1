"""Manager allocation (调配, SPEC §3): a pool admin or manager hands in-pool customers to members,
one or ten thousand at a time, by the pool's strategy or one chosen for the batch:

- Round Robin (轮询): members in turn, continuing after the member the pool's last round robin ended
  with (`Customer Pool.allocation_pointer`); over a batch, members' counts differ by at most one.
- Load Balancing (负载均衡): each customer to the member with the fewest active customers (owned or
  locked, in this pool), counted once and then kept up to date in memory.
- Rule Based (按规则): the pool's allocation rules (territory, customer group, industry, grade →
  member), most specific row first; members' territories act as territory rules after them.
  A customer matching no rule stays in the pool, with the reason.
- Score Based (按评分): the member with the best weighted score, from the recent conversion rate
  (90 days, from the Pool Log), capacity left under the cap, experience (months since the
  Employee's date of joining, else the user's creation) and region match (the customer's territory
  lies within the member's). The parts of every candidate's score are returned.

The seeds' principles (客户资源分配管理制度): fair (公平: round robin and the caps), priority to value
(优先级: grade A customers are allocated first, so they are never the ones left over when caps
bite), spread (分散: no member beyond the cap; load balancing and capacity) and flexible (灵活:
strategy, members and rules per pool and per batch, a dry run before each allocation).

Every member at the pool's owned-customer cap is skipped (and says so); a member who gave a
customer up within the pool's cooldown does not get it back. Every allocation is written to the
Pool Log (action Assign, rule "allocation: <strategy>", the reason per customer).

The plan is computed in memory; writing it is set-based: a work table holds (customer, member,
reason), then a few statements write the Pool Log (INSERT … SELECT), the pool customers (UPDATE …
JOIN), ERPNext's owner fields, the assignments (ToDo rows and `_assign`) and the recycle due dates.
Locks: the pool row first, then the batch of customers in one SELECT … FOR UPDATE (the order every
ownership change in crm_pool takes), re-checking that each is still in the pool.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from urllib.parse import quote

import frappe
from frappe import _
from frappe.utils import add_days, date_diff, get_fullname, getdate, now_datetime, nowdate

from crm_pool.pool import followup, mirror, ownership
from crm_pool.pool.log import insert_logs_select
from crm_pool.pool.notify import notify
from crm_pool.pool.status import (
	ASSIGN,
	CLAIM,
	CONVERT,
	CONVERTED,
	IN_POOL,
	LOCKED,
	OWNED,
	RECYCLE,
	RELEASE,
	TRANSFER,
)
from crm_pool.setup.roles import MANAGER_ROLES, SALES_USER

ROUND_ROBIN = "Round Robin"
LOAD_BALANCING = "Load Balancing"
RULE_BASED = "Rule Based"
SCORE_BASED = "Score Based"
STRATEGIES = (ROUND_ROBIN, LOAD_BALANCING, RULE_BASED, SCORE_BASED)

SCORE_PARTS = ("conversion", "capacity", "experience", "region")
DEFAULT_WEIGHTS = {"conversion": 0.4, "capacity": 0.3, "experience": 0.1, "region": 0.2}
CONVERSION_DAYS = 90
EXPERIENCE_FULL_MONTHS = 36  # experience counts fully from three years on
GRADE_ORDER = {"A": 0, "B": 1, "C": 2}

ENQUEUE_ABOVE = 500  # larger batches run as a background job (api.allocate)
WORK_TABLE = "crm_pool_allocation"
INSERT_CHUNK = 1000


@dataclass
class Member:
	"""A member who may receive customers, with the numbers the strategies weigh."""

	user: str
	full_name: str
	order: int
	territory: str | None = None
	owned: int = 0  # customers of the pool counted toward the cap
	active: int = 0  # owned or locked customers of the pool (the load)
	given: int = 0  # customers this batch gives the member
	skipped: str | None = None  # why the member took no (more) customers
	received_recently: int = 0  # customers taken on in the last 90 days (any pool)
	converted_recently: int = 0  # of which converted (Pool Log CONVERT) in the last 90 days
	experience_months: float = 0.0

	@property
	def load(self) -> int:
		return self.active + self.given

	@property
	def conversion(self) -> float:
		if not self.received_recently:
			return 0.0
		return min(1.0, self.converted_recently / self.received_recently)

	@property
	def experience(self) -> float:
		return min(1.0, self.experience_months / EXPERIENCE_FULL_MONTHS)

	def room(self, cap: int) -> int | None:
		"""Customers the member may still take under the cap; None without a cap."""
		return None if not cap else cap - self.owned - self.given

	def summary(self, cap: int) -> dict:
		return {
			"user": self.user,
			"full_name": self.full_name,
			"territory": self.territory,
			"owned_before": self.owned,
			"active_before": self.active,
			"given": self.given,
			"owned_after": self.owned + self.given,
			"cap": cap or None,
			"skipped": self.skipped,
			"conversion": round(self.conversion, 4),
			"experience_months": round(self.experience_months, 1),
		}


@dataclass
class Allocation:
	"""One customer's outcome: the member it goes to (None: it stays in the pool) and why."""

	pool_customer: str
	customer_name: str
	user: str | None
	reason: str
	score: dict | None = None
	candidates: list[dict] | None = None

	def as_dict(self, names: dict[str, str]) -> dict:
		row = {
			"pool_customer": self.pool_customer,
			"customer_name": self.customer_name,
			"user": self.user,
			"full_name": names.get(self.user) if self.user else None,
			"reason": self.reason,
		}
		if self.score is not None:
			row["score"] = self.score
			row["candidates"] = self.candidates
		return row


@dataclass
class AllocationResult:
	"""What `allocate` did (or, for a dry run, would do)."""

	pool: str
	strategy: str
	dry_run: bool
	cap: int = 0
	allocations: list[Allocation] = field(default_factory=list)  # customers given to a member
	unassigned: list[Allocation] = field(default_factory=list)  # customers left in the pool
	members: list[Member] = field(default_factory=list)
	pointer: str | None = None

	@property
	def assigned(self) -> dict[str, str]:
		"""{pool customer: member}"""
		return {a.pool_customer: a.user for a in self.allocations}

	@property
	def counts(self) -> dict[str, int]:
		"""{member: customers given by this batch}, every member included."""
		return {m.user: m.given for m in self.members}

	def as_dict(self, limit: int | None = None) -> dict:
		names = {m.user: m.full_name for m in self.members}
		return {
			"pool": self.pool,
			"strategy": self.strategy,
			"strategy_label": _(self.strategy),
			"dry_run": self.dry_run,
			"assigned_count": len(self.allocations),
			"unassigned_count": len(self.unassigned),
			"members": [m.summary(self.cap) for m in self.members],
			"allocations": [a.as_dict(names) for a in self.allocations[:limit]],
			"unassigned": [a.as_dict(names) for a in self.unassigned[:limit]],
			"pointer": self.pointer,
		}


# --- entry point -----------------------------------------------------------------------------------


def allocate(
	pool_customers: list[str],
	strategy: str | None = None,
	members: list[str] | None = None,
	*,
	dry_run: bool = False,
) -> AllocationResult:
	"""调配: give the in-pool customers `pool_customers` (all of one pool) to `members` (default: the
	pool's members taking part in allocation) by `strategy` (default: the pool's). With `dry_run`,
	nothing is locked or written: the result shows who would get what, and why.

	Only a pool admin or a manager may allocate (PermissionError otherwise)."""
	names = list(dict.fromkeys(pool_customers or []))
	if not names:
		frappe.throw(_("Please choose one or more pool customers"), ownership.PoolRuleError)
	pool = pool_of(names)
	if not ownership.can_manage(pool):
		frappe.throw(_("Only a pool admin or a manager may allocate customers"), frappe.PermissionError)
	settings = pool_settings(pool)
	if not settings.enabled:
		frappe.throw(_("Pool {0} is disabled").format(settings.pool_name), ownership.PoolRuleError)
	strategy = strategy or settings.allocation_strategy or ROUND_ROBIN
	if strategy not in STRATEGIES:
		frappe.throw(_("Unknown allocation strategy {0}").format(strategy), ownership.PoolRuleError)
	team = candidates(pool, members)
	if not dry_run:
		# the pool's row first (and its round robin pointer as committed now: a locking read)
		settings.allocation_pointer = frappe.db.sql(
			"SELECT allocation_pointer FROM `tabCustomer Pool` WHERE name = %s FOR UPDATE", pool
		)[0][0]
	customers, unavailable = load_customers(names, pool, lock=not dry_run)
	count_owned(pool, team, settings.converted_not_counted, lock=not dry_run)
	if strategy == SCORE_BASED:
		load_score_inputs(team)
	result = AllocationResult(
		pool=pool, strategy=strategy, dry_run=dry_run, cap=settings.max_owned or 0, members=team
	)
	result.unassigned.extend(unavailable)
	plan(result, customers, settings, recent_losses(customers, team, settings.cooldown_days))
	if not dry_run and result.allocations:
		write(result)
	return result


def pool_of(names: list[str]) -> str:
	"""The one pool of the given pool customers (refuses missing customers and mixed pools)."""
	rows = frappe.db.sql(
		"SELECT name, pool FROM `tabPool Customer` WHERE name IN %(names)s", {"names": names}, as_dict=True
	)
	missing = set(names) - {r.name for r in rows}
	if missing:
		frappe.throw(
			_("Pool customer {0} does not exist").format(", ".join(sorted(missing)[:5])),
			frappe.DoesNotExistError,
		)
	pools = {r.pool for r in rows}
	if len(pools) != 1 or None in pools:
		frappe.throw(_("Please choose customers of one pool at a time"), ownership.PoolRuleError)
	return pools.pop()


def pool_settings(pool: str) -> frappe._dict:
	settings = frappe.db.get_value(
		"Customer Pool",
		pool,
		[
			"name",
			"pool_name",
			"enabled",
			"max_owned",
			"converted_not_counted",
			"cooldown_days",
			"allocation_strategy",
			"allocation_pointer",
			"score_weight_conversion",
			"score_weight_capacity",
			"score_weight_experience",
			"score_weight_region",
		],
		as_dict=True,
	)
	if not settings:
		frappe.throw(_("Pool {0} does not exist").format(pool), ownership.PoolRuleError)
	settings.weights = {part: settings.get(f"score_weight_{part}") or 0.0 for part in SCORE_PARTS}
	if not any(settings.weights.values()):
		settings.weights = dict(DEFAULT_WEIGHTS)
	settings.rules = frappe.get_all(
		"Customer Pool Allocation Rule",
		filters={"parent": pool, "parenttype": "Customer Pool"},
		fields=["idx", "territory", "customer_group", "industry", "product_line", "grade", "user"],
		order_by="idx asc",
	)
	return settings


# --- who may receive -------------------------------------------------------------------------------


def pool_member_rows(pool: str) -> list[frappe._dict]:
	"""The pool's members as users, in the members table's order: user rows, and the users of
	department rows (Active employees), each with the row's territory and allocation flag."""
	rows = frappe.get_all(
		"Customer Pool Member",
		filters={"parent": pool, "parenttype": "Customer Pool"},
		fields=["idx", "user", "department", "territory", "no_allocation"],
		order_by="idx asc",
	)
	departments = [r.department for r in rows if r.department and not r.user]
	by_department: dict[str, list[str]] = {}
	if departments:
		for employee in frappe.get_all(
			"Employee",
			filters={"department": ("in", departments), "status": "Active", "user_id": ("is", "set")},
			fields=["user_id", "department"],
			order_by="user_id asc",
		):
			by_department.setdefault(employee.department, []).append(employee.user_id)
	users: dict[str, frappe._dict] = {}
	for row in rows:
		for user in [row.user] if row.user else by_department.get(row.department, []):
			if user not in users:
				users[user] = frappe._dict(
					user=user, territory=row.territory, no_allocation=row.no_allocation
				)
			elif row.user:  # a user's own row says more than their department's
				users[user].update(
					territory=row.territory or users[user].territory, no_allocation=row.no_allocation
				)
	return list(users.values())


def sales_users(users: list[str]) -> dict[str, str]:
	"""{user: full name} of the enabled users among `users` who sell (Sales User or a manager role)."""
	if not users:
		return {}
	return dict(
		frappe.db.sql(
			"""SELECT u.name, u.full_name FROM `tabUser` u
			WHERE u.name IN %(users)s AND u.enabled = 1 AND u.name NOT IN ('Administrator', 'Guest')
			AND EXISTS (SELECT 1 FROM `tabHas Role` r WHERE r.parent = u.name AND r.parenttype = 'User'
				AND r.role IN %(roles)s)""",
			{"users": users, "roles": (SALES_USER, *MANAGER_ROLES)},
		)
	)


def candidates(pool: str, members: list[str] | None = None) -> list[Member]:
	"""The members a batch may go to: `members` if given (each must be an enabled sales user and a
	member of the pool, unless the pool lists no members), else the pool's members taking part in
	allocation."""
	rows = pool_member_rows(pool)
	by_user = {r.user: r for r in rows}
	if members:
		members = list(dict.fromkeys(m for m in members if m))
		selling = sales_users(members)
		for user in members:
			if user not in selling:
				frappe.throw(
					_("{0} is not an enabled sales user").format(get_fullname(user)), ownership.PoolRuleError
				)
			if rows and user not in by_user:
				frappe.throw(
					_("{0} is not a member of pool {1}").format(selling[user], pool), ownership.PoolRuleError
				)
		chosen = members
	else:
		chosen = [r.user for r in rows if not r.no_allocation]
		selling = sales_users(chosen)
		chosen = [u for u in chosen if u in selling]
	if not chosen:
		frappe.throw(
			_("Pool {0} has no members to allocate to; please choose members").format(pool),
			ownership.PoolRuleError,
		)
	return [
		Member(
			user=user,
			full_name=selling[user] or user,
			order=i,
			territory=by_user[user].territory if user in by_user else None,
		)
		for i, user in enumerate(chosen)
	]


# Criteria of an allocation rule row, in the order they are shown.
RULE_CRITERIA = ("territory", "customer_group", "industry", "product_line", "grade")

# --- reading the batch -----------------------------------------------------------------------------

CUSTOMER_FIELDS = (
	"name",
	"customer_name",
	"pool",
	"status",
	"owned_by",
	"territory",
	"customer_group",
	"industry",
	"product_line",
	"grade",
	"pool_entered_at",
)


def load_customers(names: list[str], pool: str, lock: bool) -> tuple[list[frappe._dict], list[Allocation]]:
	"""The batch's customers still in the pool, most valuable first (grade A, B, C, none; then the
	longest in the pool), and the others, each with the reason it is left out. With `lock`, the rows
	are locked (one SELECT … FOR UPDATE; the caller holds the pool row's lock already)."""
	rows = frappe.db.sql(
		f"""SELECT {", ".join(CUSTOMER_FIELDS)} FROM `tabPool Customer`
		WHERE name IN %(names)s ORDER BY name {"FOR UPDATE" if lock else ""}""",
		{"names": names},
		as_dict=True,
	)
	available, unavailable = [], []
	for row in rows:
		if row.pool != pool:
			unavailable.append(Allocation(row.name, row.customer_name, None, _("Moved to another pool")))
		elif row.status != IN_POOL:
			unavailable.append(
				Allocation(
					row.name,
					row.customer_name,
					None,
					_("Not in the pool (status: {0})").format(_(row.status)),
				)
			)
		else:
			available.append(row)
	available.sort(
		key=lambda r: (GRADE_ORDER.get(r.grade or "", 3), r.pool_entered_at or now_datetime(), r.name)
	)
	return available, unavailable


def count_owned(pool: str, team: list[Member], converted_not_counted: bool, lock: bool) -> None:
	"""Each member's customers in the pool: toward the cap, and active (owned or locked). One query;
	a locking read when allocating for real (it sees every committed change)."""
	counts = frappe.db.sql(
		f"""SELECT owned_by, status, COUNT(*) FROM `tabPool Customer`
		WHERE pool = %(pool)s AND owned_by IN %(users)s AND status IN %(statuses)s
		GROUP BY owned_by, status {"LOCK IN SHARE MODE" if lock else ""}""",
		{"pool": pool, "users": [m.user for m in team], "statuses": (OWNED, LOCKED, CONVERTED)},
	)
	by_user = {m.user: m for m in team}
	for user, status, count in counts:
		member = by_user[user]
		if status in (OWNED, LOCKED):
			member.active += count
		if status != CONVERTED or not converted_not_counted:
			member.owned += count


def load_score_inputs(team: list[Member]) -> None:
	"""Conversion over the last 90 days and experience, for every member, in two queries."""
	users = [m.user for m in team]
	by_user = {m.user: m for m in team}
	since = add_days(now_datetime(), -CONVERSION_DAYS)
	for user, received, converted in frappe.db.sql(
		"""SELECT to_user,
			COUNT(DISTINCT CASE WHEN action IN %(taken)s THEN pool_customer END),
			COUNT(DISTINCT CASE WHEN action = %(convert)s THEN pool_customer END)
		FROM `tabPool Log` WHERE to_user IN %(users)s AND at >= %(since)s GROUP BY to_user""",
		{"users": users, "since": since, "taken": (CLAIM, ASSIGN, TRANSFER), "convert": CONVERT},
	):
		by_user[user].received_recently = received
		by_user[user].converted_recently = converted
	joined = dict(
		frappe.db.sql(
			"""SELECT user_id, MIN(date_of_joining) FROM `tabEmployee`
			WHERE user_id IN %(users)s AND date_of_joining IS NOT NULL GROUP BY user_id""",
			{"users": users},
		)
	)
	created = dict(
		frappe.db.sql("SELECT name, creation FROM `tabUser` WHERE name IN %(users)s", {"users": users})
	)
	today = nowdate()
	for member in team:
		start = joined.get(member.user) or created.get(member.user)
		member.experience_months = max(0, date_diff(today, getdate(start))) / 30.4 if start else 0.0


def recent_losses(customers: list[frappe._dict], team: list[Member], days: int) -> dict[str, set[str]]:
	"""{pool customer: members who gave it up (released, lost, reassigned) within the cooldown}."""
	if not days or not customers:
		return {}
	losses: dict[str, set[str]] = {}
	for pc, user in frappe.db.sql(
		"""SELECT DISTINCT pool_customer, from_user FROM `tabPool Log`
		WHERE pool_customer IN %(names)s AND from_user IN %(users)s AND action IN %(actions)s
		AND at >= %(since)s""",
		{
			"names": [c.name for c in customers],
			"users": [m.user for m in team],
			"actions": (RELEASE, RECYCLE, TRANSFER, ASSIGN),
			"since": add_days(now_datetime(), -days),
		},
	):
		losses.setdefault(pc, set()).add(user)
	return losses


# --- the plan --------------------------------------------------------------------------------------


class Planner:
	"""Chooses a member per customer, in memory, keeping every member's numbers current."""

	def __init__(self, result: AllocationResult, settings: frappe._dict, losses: dict[str, set[str]]):
		self.result = result
		self.settings = settings
		self.team = result.members
		self.cap = result.cap
		self.losses = losses
		self.trees = {
			"territory": tree("Territory"),
			"customer_group": tree("Customer Group"),
			"item_group": tree("Item Group"),
		}
		for member in self.team:
			if self.cap and member.owned >= self.cap:
				member.skipped = _("At the cap of {0} customers").format(self.cap)

	def eligible(self, member: Member, pc: frappe._dict) -> bool:
		if self.cap and member.room(self.cap) <= 0:
			return False
		return member.user not in self.losses.get(pc.name, ())

	def give(self, pc: frappe._dict, member: Member, reason: str, **score) -> None:
		member.given += 1
		if self.cap and member.room(self.cap) <= 0:
			member.skipped = _("Reached the cap of {0} customers").format(self.cap)
		self.result.allocations.append(Allocation(pc.name, pc.customer_name, member.user, reason, **score))

	def leave(self, pc: frappe._dict, reason: str) -> None:
		self.result.unassigned.append(Allocation(pc.name, pc.customer_name, None, reason))

	def nobody(self, pc: frappe._dict, among: list[Member] | None = None) -> str:
		among = self.team if among is None else among
		if self.cap and all(m.room(self.cap) <= 0 for m in among):
			return _("Every member is at the cap of {0} customers").format(self.cap)
		return _("No member may take it now: the others gave it up within the cooldown")

	def within(self, kind: str, value: str | None, ancestor: str | None) -> bool:
		"""`value` is `ancestor` or lies under it in the territory / customer group tree."""
		if not ancestor:
			return True
		if not value:
			return False
		if value == ancestor:
			return True
		nodes = self.trees.get(kind) or {}
		inner, outer = nodes.get(value), nodes.get(ancestor)
		return bool(inner and outer and outer[0] <= inner[0] and inner[1] <= outer[1])

	# round robin: the member whose turn it is, i.e. with the fewest customers of this batch, the
	# rotation starting after the pointer breaking ties
	def round_robin(self, customers: list[frappe._dict]) -> None:
		n = len(self.team)
		users = [m.user for m in self.team]
		start = (
			(users.index(self.settings.allocation_pointer) + 1) % n
			if self.settings.allocation_pointer in users
			else 0
		)
		turn = {m.user: (m.order - start) % n for m in self.team}
		last = None
		for pc in customers:
			eligible = [m for m in self.team if self.eligible(m, pc)]
			if not eligible:
				self.leave(pc, self.nobody(pc))
				continue
			member = min(eligible, key=lambda m: (m.given, turn[m.user]))
			self.give(pc, member, _("Round robin: {0}'s turn").format(member.full_name))
			last = member.user
		self.result.pointer = last or self.settings.allocation_pointer

	def load_balancing(self, customers: list[frappe._dict]) -> None:
		for pc in customers:
			eligible = [m for m in self.team if self.eligible(m, pc)]
			if not eligible:
				self.leave(pc, self.nobody(pc))
				continue
			member = min(eligible, key=lambda m: (m.load, m.order))
			self.give(
				pc,
				member,
				_("Load balancing: {0} had the fewest active customers ({1})").format(
					member.full_name, member.load
				),
			)

	def rule_groups(self) -> list[tuple[dict, list[Member], str]]:
		"""(criteria, members, label) of the pool's rules, most specific first; rows with the same
		criteria form one group. Members' territories follow as territory rules."""
		by_user = {m.user: m for m in self.team}
		groups: dict[tuple, list] = {}
		for row in self.settings.rules:
			criteria = {k: row.get(k) or None for k in RULE_CRITERIA}
			key = tuple(criteria.items())
			groups.setdefault(key, [criteria, [], row.idx, _("row {0}").format(row.idx)])
			if row.user in by_user and by_user[row.user] not in groups[key][1]:
				groups[key][1].append(by_user[row.user])
		ordered = sorted(groups.values(), key=lambda g: (-sum(1 for v in g[0].values() if v), g[2]))
		for member in self.team:
			if member.territory:
				criteria = {
					"territory": member.territory,
					"customer_group": None,
					"industry": None,
					"product_line": None,
					"grade": None,
				}
				ordered.append([criteria, [member], 10**6, _("member territory")])
		return [(g[0], g[1], g[3]) for g in ordered]

	def matches(self, criteria: dict, pc: frappe._dict) -> bool:
		return (
			self.within("territory", pc.territory, criteria["territory"])
			and self.within("customer_group", pc.customer_group, criteria["customer_group"])
			and (not criteria["industry"] or criteria["industry"] == pc.industry)
			and self.within("item_group", pc.product_line, criteria["product_line"])
			and (not criteria["grade"] or criteria["grade"] == pc.grade)
		)

	def rule_based(self, customers: list[frappe._dict]) -> None:
		groups = self.rule_groups()
		for pc in customers:
			matched = [
				(criteria, members, label)
				for criteria, members, label in groups
				if self.matches(criteria, pc)
			]
			if not matched:
				self.leave(pc, _("Matches no allocation rule ({0})").format(profile_label(pc)))
				continue
			for criteria, members, label in matched:
				eligible = [m for m in members if self.eligible(m, pc)]
				if eligible:
					member = min(eligible, key=lambda m: (m.load, m.order))
					self.give(
						pc,
						member,
						_("Rule {0} ({1}): {2}").format(label, criteria_label(criteria), member.full_name),
					)
					break
			else:
				criteria, members, label = matched[0]
				if any(m for _c, ms, _l in matched for m in ms):
					why = _(
						"Matches rule {0} ({1}), but its members are at the cap or gave it up within the cooldown"
					)
				else:
					why = _("Matches rule {0} ({1}), but none of its members is among those allocating")
				self.leave(pc, why.format(label, criteria_label(criteria)))

	def score_parts(self, member: Member, pc: frappe._dict, reference_load: int) -> dict[str, float]:
		if self.cap:
			capacity = max(0, member.room(self.cap)) / self.cap
		else:
			capacity = max(0.0, 1 - member.load / reference_load)
		region = 1.0 if member.territory and self.within("territory", pc.territory, member.territory) else 0.0
		return {
			"conversion": round(member.conversion, 4),
			"capacity": round(capacity, 4),
			"experience": round(member.experience, 4),
			"region": region,
		}

	def score_based(self, customers: list[frappe._dict]) -> None:
		weights = self.settings.weights
		# without a cap, capacity is measured against this batch's reference load
		reference_load = max(m.active for m in self.team) + math.ceil(len(customers) / len(self.team)) + 1
		for pc in customers:
			scored = []
			for member in self.team:
				if not self.eligible(member, pc):
					continue
				parts = self.score_parts(member, pc, reference_load)
				total = round(sum(weights[p] * parts[p] for p in SCORE_PARTS), 4)
				scored.append((member, total, parts))
			if not scored:
				self.leave(pc, self.nobody(pc))
				continue
			scored.sort(key=lambda s: (-s[1], s[0].load, s[0].order))
			member, total, parts = scored[0]
			self.give(
				pc,
				member,
				_(
					"Best score {0} of {1} members: conversion rate {2} × {3}, capacity left {4} × {5}, "
					"experience {6} × {7}, region match {8} × {9}"
				).format(
					total,
					len(scored),
					parts["conversion"],
					weights["conversion"],
					parts["capacity"],
					weights["capacity"],
					parts["experience"],
					weights["experience"],
					parts["region"],
					weights["region"],
				),
				score={"total": total, "parts": parts, "weights": dict(weights)},
				candidates=[
					{"user": m.user, "full_name": m.full_name, "total": t, "parts": p} for m, t, p in scored
				],
			)


def plan(
	result: AllocationResult,
	customers: list[frappe._dict],
	settings: frappe._dict,
	losses: dict[str, set[str]],
) -> None:
	"""Fill `result` with each customer's member (or reason to stay), by its strategy."""
	planner = Planner(result, settings, losses)
	{
		ROUND_ROBIN: planner.round_robin,
		LOAD_BALANCING: planner.load_balancing,
		RULE_BASED: planner.rule_based,
		SCORE_BASED: planner.score_based,
	}[result.strategy](customers)


def tree(doctype: str) -> dict[str, tuple[int, int]]:
	"""{node: (lft, rgt)} of a nested-set tree (Territory, Customer Group, Item Group: small tables)."""
	return {
		name: (lft, rgt) for name, lft, rgt in frappe.db.sql(f"SELECT name, lft, rgt FROM `tab{doctype}`")
	}


def criteria_label(criteria: dict) -> str:
	labels = {
		"territory": _("Territory"),
		"customer_group": _("Customer Group"),
		"industry": _("Industry"),
		"product_line": _("Product Line"),
		"grade": _("Customer Grade"),
	}
	return ", ".join(f"{labels[k]} {v}" for k, v in criteria.items() if v) or _("any customer")


def profile_label(pc: frappe._dict) -> str:
	return criteria_label(
		{
			"territory": pc.territory or "—",
			"customer_group": pc.customer_group or "—",
			"industry": pc.industry or "—",
			"product_line": pc.product_line or "—",
			"grade": pc.grade or "—",
		}
	)


# --- writing the plan, set-based -------------------------------------------------------------------


def write(result: AllocationResult) -> None:
	"""Carry out the plan: Pool Log, pool customers, ERPNext owners and assignments, recycle due
	dates, the round robin pointer, one notification per member. The caller holds the locks."""
	now = now_datetime()
	by = frappe.session.user
	names = {m.user: m.full_name for m in result.members}
	total = len(result.allocations)
	progress(5, total)
	_create_work_table()
	try:
		rows = [(a.pool_customer, a.user, names[a.user], a.reason) for a in result.allocations]
		for start in range(0, len(rows), INSERT_CHUNK):
			chunk = rows[start : start + INSERT_CHUNK]
			frappe.db.sql(
				f"INSERT INTO `{WORK_TABLE}` (name, user, full_name, reason) VALUES "
				+ ", ".join(["(%s, %s, %s, %s)"] * len(chunk)),
				[value for row in chunk for value in row],
			)
		progress(15, total)
		join = f"JOIN `{WORK_TABLE}` w ON w.name = pc.name"
		insert_logs_select(
			ASSIGN,
			"pc.status = %(in_pool)s",
			{"in_pool": IN_POOL, "rule": f"allocation: {result.strategy}"},
			to_user_sql="w.user",
			rule_sql="%(rule)s",
			reason_sql="w.reason",
			join_sql=join,
		)
		progress(35, total)
		frappe.db.sql(
			f"""UPDATE `tabPool Customer` pc {join}
			SET pc.status = IF(pc.party_type = 'Customer', %(converted)s, %(owned)s),
				pc.owned_by = w.user, pc.owner_name = w.full_name, pc.claimed_at = %(now)s,
				pc.previous_owner = COALESCE(pc.owned_by, pc.previous_owner), pc.reminder_sent_at = NULL,
				pc.modified = %(now)s, pc.modified_by = %(by)s""",
			{"converted": CONVERTED, "owned": OWNED, "now": now, "by": by},
		)
		progress(55, total)
		mirror_owners_select(now, by)
		progress(80, total)
		followup.recompute_due([a.pool_customer for a in result.allocations])
		if result.strategy == ROUND_ROBIN and result.pointer:
			frappe.db.sql(
				"UPDATE `tabCustomer Pool` SET allocation_pointer = %s WHERE name = %s",
				(result.pointer, result.pool),
			)
	finally:
		_drop_work_table()
	progress(95, total)
	notify_members(result)
	progress(100, total)


def mirror_owners_select(now, by: str) -> None:
	"""ERPNext tells the same story, set-based, for the customers in the work table: Lead.lead_owner
	and Customer.account_manager, an open ToDo for the new owner on the party (as Frappe's
	assignment makes), and the party's `_assign` list rebuilt from its open ToDos."""
	for doctype, link in (("Lead", "lead"), ("Customer", "customer")):
		frappe.db.sql(
			f"""UPDATE `tab{doctype}` party
			JOIN `tabPool Customer` pc ON pc.{link} = party.name
			JOIN `{WORK_TABLE}` w ON w.name = pc.name
			SET party.{mirror.OWNER_FIELD[doctype]} = w.user, party.modified = %(_stamp)s,
				party.modified_by = %(_stamp_by)s""",
			mirror.stamp(),
		)
	frappe.db.sql(
		f"""INSERT INTO `tabToDo` (name, creation, modified, owner, modified_by, docstatus, idx,
			status, priority, date, allocated_to, description, reference_type, reference_name,
			assigned_by, assigned_by_full_name)
		SELECT LEFT(MD5(CONCAT(pc.name, UUID())), 10), %(now)s, %(now)s, %(by)s, %(by)s, 0, 0,
			'Open', 'Medium', %(today)s, w.user, %(note)s, pc.party_type, pc.party,
			%(by)s, %(by_name)s
		FROM `{WORK_TABLE}` w JOIN `tabPool Customer` pc ON pc.name = w.name
		WHERE pc.party_type IS NOT NULL AND pc.party IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM `tabToDo` t WHERE t.reference_type = pc.party_type
			AND t.reference_name = pc.party AND t.allocated_to = w.user AND t.status = 'Open')""",
		{
			"now": now,
			"by": by,
			"today": getdate(now),
			"note": mirror.ASSIGNMENT_NOTE,
			"by_name": get_fullname(by),
		},
	)
	for doctype in mirror.OWNER_FIELD:
		frappe.db.sql(
			f"""UPDATE `tab{doctype}` party JOIN (
				SELECT t.reference_name AS party_name,
					CONCAT('[', GROUP_CONCAT(DISTINCT JSON_QUOTE(t.allocated_to) SEPARATOR ', '), ']') AS assigned
				FROM `{WORK_TABLE}` w
				JOIN `tabPool Customer` pc ON pc.name = w.name AND pc.party_type = %(doctype)s
				JOIN `tabToDo` t ON t.reference_type = pc.party_type AND t.reference_name = pc.party
				WHERE t.status NOT IN ('Cancelled', 'Closed') AND t.allocated_to IS NOT NULL
				GROUP BY t.reference_name
			) a ON a.party_name = party.name
			SET party._assign = a.assigned""",
			{"doctype": doctype},
		)


def _create_work_table() -> None:
	"""A session-private work table. CREATE/DROP TEMPORARY TABLE do not end the transaction in
	MariaDB; the leading comment keeps Frappe's implicit-commit guard (which knows only plain
	CREATE/DROP) from refusing them inside a transaction that has writes."""
	_drop_work_table()
	frappe.db.sql(
		f"""/* crm_pool work table */ CREATE TEMPORARY TABLE `{WORK_TABLE}` (
			name VARCHAR(140) NOT NULL PRIMARY KEY,
			user VARCHAR(140) NOT NULL,
			full_name VARCHAR(140),
			reason TEXT
		) ENGINE=InnoDB"""
	)


def _drop_work_table() -> None:
	frappe.db.sql(f"/* crm_pool work table */ DROP TEMPORARY TABLE IF EXISTS `{WORK_TABLE}`")


def progress(percent: int, total: int) -> None:
	"""Progress of a large allocation, shown in the desk of the user who started it."""
	if total >= ENQUEUE_ABOVE:
		frappe.publish_progress(
			percent, title=_("Allocating {0} customers").format(total), description=_("Allocation")
		)


def notify_members(result: AllocationResult) -> None:
	"""One notification (and email) per member who received customers."""
	from frappe.translate import get_user_lang

	pool_name = frappe.db.get_value("Customer Pool", result.pool, "pool_name") or result.pool
	by = get_fullname(frappe.session.user)
	for member in result.members:
		if not member.given:
			continue
		lang = get_user_lang(member.user)
		subject = _("{0} allocated {1} customers of pool {2} to you", lang).format(
			by, member.given, pool_name
		)
		listed = [a for a in result.allocations if a.user == member.user][:20]
		message = "<ul>{}</ul>".format(
			"".join(
				f"<li>{frappe.utils.escape_html(a.customer_name or a.pool_customer)} ({a.pool_customer})</li>"
				for a in listed
			)
		)
		if member.given > len(listed):
			message += "<p>{}</p>".format(_("… and {0} more", lang).format(member.given - len(listed)))
		notify(
			member.user,
			subject,
			message,
			link=f"/app/pool-customer?owned_by={quote(member.user)}",
		)


# --- background job for large batches --------------------------------------------------------------


def enqueue_allocation(pool_customers: list[str], strategy: str | None, members: list[str] | None) -> dict:
	"""Run a large allocation as a background job (one per pool at a time); the user who started it
	sees its progress and gets a notification with the outcome."""
	from frappe.utils.background_jobs import is_job_enqueued

	pool = pool_of(pool_customers)
	job_id = f"crm_pool_allocate::{pool}"
	if is_job_enqueued(job_id):
		frappe.throw(
			_("An allocation of pool {0} is already running; please wait for it to finish").format(pool),
			ownership.PoolRuleError,
		)
	job = frappe.enqueue(
		"crm_pool.pool.allocation.allocate_job",
		queue="long",
		timeout=3600,
		job_id=job_id,
		deduplicate=True,
		enqueue_after_commit=True,
		pool_customers=pool_customers,
		strategy=strategy,
		members=members,
	)
	return {"queued": True, "job_id": getattr(job, "id", None), "count": len(pool_customers), "pool": pool}


def allocate_job(
	pool_customers: list[str], strategy: str | None = None, members: list[str] | None = None
) -> dict:
	"""The background job: allocate, commit, tell the user how it went."""
	result = allocate(pool_customers, strategy, members)
	summary = result.as_dict(limit=50)
	frappe.db.commit()
	user = frappe.session.user
	notify(
		user,
		_("Allocation finished: {0} customers assigned, {1} left in the pool").format(
			summary["assigned_count"], summary["unassigned_count"]
		),
		"<ul>{}</ul>".format(
			"".join(
				f"<li>{frappe.utils.escape_html(m['full_name'])}: {m['given']}</li>"
				for m in summary["members"]
			)
		),
		document_type="Customer Pool",
		document_name=result.pool,
	)
	frappe.publish_realtime("crm_pool_allocation_done", summary, user=user, after_commit=True)
	frappe.db.commit()
	return summary


# --- pool settings ---------------------------------------------------------------------------------


def validate_pool(pool) -> None:
	"""Customer Pool validate: allocation settings make sense; the round robin pointer is the
	allocation's to move (an older copy in a form does not overwrite it)."""
	if not pool.is_new():
		pool.allocation_pointer = frappe.db.get_value("Customer Pool", pool.name, "allocation_pointer")
	for part in SCORE_PARTS:
		if (pool.get(f"score_weight_{part}") or 0) < 0:
			frappe.throw(
				_("{0} cannot be negative").format(_(pool.meta.get_label(f"score_weight_{part}"))),
				ownership.PoolRuleError,
			)
	if pool.allocation_strategy == SCORE_BASED and not any(
		pool.get(f"score_weight_{part}") for part in SCORE_PARTS
	):
		frappe.throw(
			_("Score-based allocation needs at least one score weight above 0"), ownership.PoolRuleError
		)
	members = {m.user for m in pool.get("members", []) if m.user}
	has_departments = any(m.department for m in pool.get("members", []))
	for row in pool.get("allocation_rules", []):
		if members and not has_departments and row.user not in members:
			frappe.throw(
				_("Allocation rule row {0}: {1} is not a member of this pool").format(row.idx, row.user),
				ownership.PoolRuleError,
			)
