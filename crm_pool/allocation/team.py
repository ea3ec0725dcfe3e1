"""Reading an allocation's inputs: the batch's pool and settings, who may receive (the pool's members
who sell), the batch's customers (locked when allocating for real) and the members' numbers."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import add_days, date_diff, get_fullname, getdate, now_datetime, nowdate

from crm_pool.allocation.model import (
	CONVERSION_DAYS,
	DEFAULT_WEIGHTS,
	GRADE_ORDER,
	SCORE_PARTS,
	Allocation,
	Member,
)
from crm_pool.core.errors import PoolRuleError
from crm_pool.core.roles import selling_users
from crm_pool.core.settings import pool_settings
from crm_pool.core.status import (
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


def pool_of(names: list[str]) -> str:
	"""The one pool of the given pool customers (refuses missing customers and mixed pools)."""
	rows = frappe.get_all("Pool Customer", filters={"name": ("in", names)}, fields=["name", "pool"])
	missing = set(names) - {r.name for r in rows}
	if missing:
		frappe.throw(
			_("Pool customer {0} does not exist").format(", ".join(sorted(missing)[:5])),
			frappe.DoesNotExistError,
		)
	pools = {r.pool for r in rows}
	if len(pools) != 1 or None in pools:
		frappe.throw(_("Please choose customers of one pool at a time"), PoolRuleError)
	return pools.pop()


def allocation_settings(pool: str) -> frappe._dict:
	"""The pool's settings (`pool_settings`) with its score weights (the defaults when none is set) and
	its allocation rules."""
	settings = pool_settings(pool)
	settings.weights = {part: settings.get(f"score_weight_{part}") or 0.0 for part in SCORE_PARTS}
	if not any(settings.weights.values()):
		settings.weights = dict(DEFAULT_WEIGHTS)
	settings.allocation_rules = frappe.get_all(
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


def candidates(pool: str, members: list[str] | None = None) -> list[Member]:
	"""The members a batch may go to: `members` if given (each must be an enabled sales user and a
	member of the pool, unless the pool lists no members), else the pool's members taking part in
	allocation."""
	rows = pool_member_rows(pool)
	by_user = {r.user: r for r in rows}
	if members:
		members = list(dict.fromkeys(m for m in members if m))
		selling = selling_users(members)
		for user in members:
			if user not in selling:
				frappe.throw(_("{0} is not an enabled sales user").format(get_fullname(user)), PoolRuleError)
			if rows and user not in by_user:
				frappe.throw(_("{0} is not a member of pool {1}").format(selling[user], pool), PoolRuleError)
		chosen = members
	else:
		chosen = [r.user for r in rows if not r.no_allocation]
		selling = selling_users(chosen)
		chosen = [u for u in chosen if u in selling]
	if not chosen:
		frappe.throw(
			_("Pool {0} has no members to allocate to; please choose members").format(pool),
			PoolRuleError,
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


# Criteria of an allocation rule row, in the order they are shown.# --- reading the batch -----------------------------------------------------------------------------

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
	rows = frappe.db.sql(  # a locking read when allocating
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
	counts = frappe.db.sql(  # a locking read when allocating
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
	for user, received, converted in frappe.db.sql(  # two counts per user in one pass
		"""SELECT to_user,
			COUNT(DISTINCT CASE WHEN action IN %(taken)s THEN pool_customer END),
			COUNT(DISTINCT CASE WHEN action = %(convert)s THEN pool_customer END)
		FROM `tabPool Log` WHERE to_user IN %(users)s AND at >= %(since)s GROUP BY to_user""",
		{"users": users, "since": since, "taken": (CLAIM, ASSIGN, TRANSFER), "convert": CONVERT},
	):
		by_user[user].received_recently = received
		by_user[user].converted_recently = converted
	joined = dict(  # the earliest date of joining of each user's Employee records
		frappe.get_all(
			"Employee",
			filters={"user_id": ("in", users), "date_of_joining": ("is", "set")},
			fields=["user_id", "date_of_joining"],
			order_by="date_of_joining desc",
			as_list=True,
		)
	)
	created = dict(
		frappe.get_all("User", filters={"name": ("in", users)}, fields=["name", "creation"], as_list=True)
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
	for pc, user in frappe.db.sql(  # the losses of every customer and member at once
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
