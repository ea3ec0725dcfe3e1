"""Ownership of pool customers (SPEC §2): claim (领取), release (释放), manager assign (分配),
lock (锁定) and unlock, with the pool's caps and the previous-owner cooldown.

Concurrency: every change of ownership locks its pool's row, then the pool customer's row
(`SELECT … FOR UPDATE`, in that order), and reads the counts behind the caps with locking reads
(which see every committed change, whatever the transaction read before). Ownership changes within
one pool are thus serialized: of many simultaneous claims on one customer exactly one wins, and
simultaneous claims by one user never pass the pool's caps. The counts use narrow composite indexes
(`add_indexes`), so their locks do not reach other users' rows. A refusal raises a `PoolRuleError`
(a ValidationError) whose message says why.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import add_days, cint, get_fullname, getdate, now_datetime

from crm_pool.pool import followup, mirror, rules
from crm_pool.pool.log import insert_logs_select, log_change
from crm_pool.pool.status import (
	ASSIGN,
	CLAIM,
	COLLABORATE,
	CONVERTED,
	HAS_OWNER,
	IN_POOL,
	LOCK,
	LOCKED,
	OWNED,
	OWNED_STATUS_SQL,
	READ,
	READ_WRITE,
	RECYCLE,
	RELEASE,
	TRANSFER,
	UNLOCK,
	owned_status,
)
from crm_pool.pool.text import clean_text
from crm_pool.setup.roles import MANAGER_ROLES

DIRECT_CLAIM = "Direct Claim"
APPLY_AND_APPROVE = "Apply and Approve"
# Set-based ownership changes work in chunks of this many customers.
CHUNK = 5_000

# Pool customer columns read for a change of ownership.
PC_FIELDS = (
	"name",
	"customer_name",
	"pool",
	"status",
	"owned_by",
	"party_type",
	"party",
	"lead",
	"customer",
)


class PoolRuleError(frappe.ValidationError):
	"""A pool rule refused the action (already owned, cap reached, cooldown, not a member…)."""


class AuditedPathError(frappe.PermissionError):
	"""An ownership (or Workflow state) change tried outside its audited action: claim, assign,
	release, transfer, allocation request, each through its own action."""


# --- who may do what -------------------------------------------------------------------------------


def is_manager(user: str | None = None) -> bool:
	"""Pool Manager, Sales Manager and System Manager (and Administrator) manage every pool."""
	user = user or frappe.session.user
	return user == "Administrator" or bool(set(frappe.get_roles(user)) & set(MANAGER_ROLES))


def is_pool_admin(pool: str, user: str | None = None) -> bool:
	user = user or frappe.session.user
	return bool(
		frappe.db.exists(
			"Customer Pool Member",
			{"parent": pool, "parenttype": "Customer Pool", "user": user, "is_admin": 1},
		)
	)


def can_manage(pool: str, user: str | None = None) -> bool:
	"""Managers, and the admins listed on the pool, may assign, lock and unlock its customers."""
	return is_manager(user) or is_pool_admin(pool, user)


def user_pools(user: str | None = None) -> list[str]:
	"""Enabled pools the user may claim from: pools listing the user (or the user's department) as a
	member, and pools with no members at all (open to every sales user)."""
	user = user or frappe.session.user
	departments = frappe.get_all(
		"Employee", filters={"user_id": user, "department": ("is", "set")}, pluck="department"
	)
	return [
		row[0]
		for row in frappe.db.sql(
			"""
			SELECT p.name FROM `tabCustomer Pool` p
			WHERE p.enabled = 1 AND (
				EXISTS (SELECT 1 FROM `tabCustomer Pool Member` m
					WHERE m.parent = p.name AND m.parenttype = 'Customer Pool'
					AND (m.user = %(user)s OR (m.department IS NOT NULL AND m.department IN %(depts)s)))
				OR NOT EXISTS (SELECT 1 FROM `tabCustomer Pool Member` m
					WHERE m.parent = p.name AND m.parenttype = 'Customer Pool'))
			""",
			{"user": user, "depts": tuple(departments) or ("",)},
		)
	]


# --- reading with locks ----------------------------------------------------------------------------


def check_user(user: str) -> None:
	if not frappe.db.exists("User", {"name": user, "enabled": 1}):
		frappe.throw(_("User {0} does not exist or is disabled").format(user), PoolRuleError)


def lock_pool_customer(name: str) -> frappe._dict:
	"""Lock the pool customer's pool, then its row, until the transaction ends; returns the row."""
	pool = frappe.db.get_value("Pool Customer", name, "pool")
	if not frappe.db.exists("Pool Customer", name):
		frappe.throw(_("Pool customer {0} does not exist").format(name), frappe.DoesNotExistError)
	if pool:
		frappe.db.sql("SELECT name FROM `tabCustomer Pool` WHERE name = %s FOR UPDATE", pool)
	rows = frappe.db.sql(
		f"SELECT {', '.join(PC_FIELDS)} FROM `tabPool Customer` WHERE name = %s FOR UPDATE",
		name,
		as_dict=True,
	)
	if not rows:
		frappe.throw(_("Pool customer {0} does not exist").format(name), frappe.DoesNotExistError)
	if rows[0].pool != pool:
		frappe.throw(_("{0} was just moved to another pool; please try again").format(name), PoolRuleError)
	return rows[0]


def add_indexes() -> None:
	"""Composite indexes behind the caps' locking counts and the pool board (on_doctype_update)."""
	frappe.db.add_index("Pool Customer", ["pool", "owned_by", "status"], "pool_owner_status")
	# the pool board's "days in pool" filter (ageing)
	frappe.db.add_index("Pool Customer", ["status", "pool_entered_at"], "status_pool_entered")


def pool_rules(pool: str) -> frappe._dict:
	rules = frappe.db.get_value(
		"Customer Pool",
		pool,
		[
			"name",
			"pool_name",
			"enabled",
			"claim_mode",
			"max_owned",
			"converted_not_counted",
			"max_daily_claims",
			"cooldown_days",
		],
		as_dict=True,
	)
	if not rules:
		frappe.throw(_("Pool {0} does not exist").format(pool), PoolRuleError)
	return rules


def owned_count(pool: str, user: str, converted_not_counted: bool) -> int:
	"""Customers of the pool the user owns now (locking read: sees every committed claim)."""
	statuses = [OWNED, LOCKED] if converted_not_counted else list(HAS_OWNER)
	return frappe.db.sql(
		"""SELECT COUNT(*) FROM `tabPool Customer`
		WHERE pool = %s AND owned_by = %s AND status IN %s LOCK IN SHARE MODE""",
		(pool, user, tuple(statuses)),
	)[0][0]


def claims_today(pool: str, user: str) -> int:
	"""Claims the user made in the pool since midnight (site time), from the Pool Log (locking read)."""
	return frappe.db.sql(
		"""SELECT COUNT(*) FROM `tabPool Log`
		WHERE to_user = %s AND pool = %s AND action = %s AND at >= %s LOCK IN SHARE MODE""",
		(user, pool, CLAIM, getdate()),
	)[0][0]


def lost_within(pool_customer: str, user: str, days: int):
	"""When the user last released or lost this customer within `days`, else None."""
	rows = frappe.db.sql(
		"""SELECT MAX(at) FROM `tabPool Log`
		WHERE pool_customer = %s AND from_user = %s AND action IN %s AND at >= %s""",
		(pool_customer, user, (RELEASE, RECYCLE, TRANSFER, ASSIGN), add_days(now_datetime(), -days)),
	)
	return rows[0][0] if rows else None


def display_owner(pc: frappe._dict) -> str:
	"""The owner's name as the current user may see it: full for managers, masked (王*) otherwise."""
	if not pc.owned_by:
		return ""
	name = get_fullname(pc.owned_by)
	if pc.owned_by == frappe.session.user or can_manage(pc.pool):
		return name
	return rules.mask_person_name(name)


# --- the rules -------------------------------------------------------------------------------------


def check_in_pool(pc: frappe._dict | str) -> None:
	if isinstance(pc, str):
		frappe.throw(_("Pool customer {0} does not exist").format(pc), frappe.DoesNotExistError)
	if pc.status == IN_POOL:
		return
	if pc.status in HAS_OWNER:
		frappe.throw(
			_("{0} ({1}) has already been claimed by {2}").format(
				pc.customer_name, pc.name, display_owner(pc)
			),
			PoolRuleError,
			title=_("Already Claimed"),
		)
	frappe.throw(
		_("{0} ({1}) is not in the pool (status: {2})").format(pc.customer_name, pc.name, _(pc.status)),
		PoolRuleError,
	)


def check_cap(pc: frappe._dict, rules: frappe._dict, user: str) -> None:
	"""保有量上限: the most customers of this pool one user may own."""
	if rules.max_owned and owned_count(pc.pool, user, rules.converted_not_counted) >= rules.max_owned:
		frappe.throw(
			_("{0} already owns {1} customers of pool {2}, the most allowed").format(
				get_fullname(user), rules.max_owned, rules.pool_name
			),
			PoolRuleError,
			title=_("Cap Reached"),
		)


def check_daily_cap(rules: frappe._dict, user: str) -> None:
	if rules.max_daily_claims and claims_today(rules.name, user) >= rules.max_daily_claims:
		frappe.throw(
			_("You have made {0} claims today, the most allowed per day").format(rules.max_daily_claims),
			PoolRuleError,
			title=_("Daily Cap Reached"),
		)


def check_cooldown(pc: frappe._dict, rules: frappe._dict, user: str) -> None:
	"""A previous owner may not re-claim within the pool's cooldown days."""
	if not rules.cooldown_days:
		return
	lost_at = lost_within(pc.name, user, rules.cooldown_days)
	if lost_at:
		frappe.throw(
			_("You gave up {0} on {1}; you may claim it again after {2} days").format(
				pc.customer_name, frappe.format(lost_at, "Datetime"), rules.cooldown_days
			),
			PoolRuleError,
			title=_("Cooldown"),
		)


# --- actions ---------------------------------------------------------------------------------------


def claim(pool_customer: str, user: str | None = None) -> frappe._dict:
	"""领取: the user takes an in-pool customer of a pool they belong to, within its rules."""
	user = user or frappe.session.user
	check_user(user)
	# Fast refusal without locks when it is visibly taken; the locked re-check below decides.
	check_in_pool(
		frappe.db.get_value("Pool Customer", pool_customer, PC_FIELDS, as_dict=True) or pool_customer
	)
	pc = lock_pool_customer(pool_customer)
	check_in_pool(pc)
	check_claim_rules(pc, user)
	set_owner(pc, user, CLAIM)
	return pc


def check_claim_rules(pc: frappe._dict, user: str) -> None:
	"""The rules of a claim on a locked, in-pool customer: an enabled pool the user belongs to
	(managers claim from any pool), direct-claim mode, out of the cooldown, under the daily and the
	owned caps."""
	rules = pool_rules(pc.pool)
	if not rules.enabled:
		frappe.throw(_("Pool {0} is disabled").format(rules.pool_name), PoolRuleError)
	if pc.pool not in user_pools(user) and not is_manager(user):
		frappe.throw(_("You are not a member of pool {0}").format(rules.pool_name), PoolRuleError)
	if rules.claim_mode == APPLY_AND_APPROVE:
		frappe.throw(
			_("Pool {0} requires an allocation request approved by a manager").format(rules.pool_name),
			PoolRuleError,
		)
	check_cooldown(pc, rules, user)
	check_daily_cap(rules, user)
	check_cap(pc, rules, user)


def assign(
	pool_customer: str, to_user: str, reason: str | None = None, *, rule: str | None = None
) -> frappe._dict:
	"""分配: a manager gives an in-pool (or another user's) customer to a member. The owned cap holds;
	the daily claim cap and the cooldown are the claimant's rules and do not apply.

	A manager assigning a customer to themselves claims it: only from the pool, under every claim
	rule (`check_claim_rules`), logged as a claim; a colleague's customer reaches a manager through an
	Ownership Transfer another manager approves."""
	check_user(to_user)
	pc = lock_pool_customer(pool_customer)
	if not can_manage(pc.pool):
		frappe.throw(_("Only a pool admin or a manager may assign customers"), frappe.PermissionError)
	if to_user == frappe.session.user:
		if pc.status != IN_POOL:
			frappe.throw(
				_(
					"You cannot assign {0} to yourself: a manager claims customers from the pool only; "
					"a colleague's customer moves to you through an ownership transfer approved by "
					"another manager"
				).format(pc.customer_name),
				AuditedPathError,
				title=_("Not Allowed"),
			)
		check_claim_rules(pc, to_user)
		set_owner(pc, to_user, CLAIM, reason=reason, rule=rule)
		return pc
	if pc.status not in (IN_POOL, OWNED, CONVERTED):
		frappe.throw(
			_("{0} ({1}) cannot be assigned while {2}").format(pc.customer_name, pc.name, _(pc.status)),
			PoolRuleError,
		)
	if pc.owned_by == to_user:
		frappe.throw(_("{0} already owns {1}").format(get_fullname(to_user), pc.customer_name), PoolRuleError)
	if "Sales User" not in frappe.get_roles(to_user) and not is_manager(to_user):
		frappe.throw(_("{0} is not a sales user").format(get_fullname(to_user)), PoolRuleError)
	check_cap(pc, pool_rules(pc.pool), to_user)
	set_owner(pc, to_user, ASSIGN, reason=reason, rule=rule)
	return pc


def release(pool_customer: str, reason: str) -> frappe._dict:
	"""释放: the owner (or a manager) returns a customer to the pool, with a reason."""
	if not (reason or "").strip():
		frappe.throw(_("Please give a reason for releasing the customer"), PoolRuleError)
	pc = lock_pool_customer(pool_customer)
	if pc.status not in (OWNED, CONVERTED):
		msg = (
			_("{0} ({1}) is locked; unlock it first") if pc.status == LOCKED else _("{0} ({1}) has no owner")
		)
		frappe.throw(msg.format(pc.customer_name, pc.name), PoolRuleError)
	if pc.owned_by != frappe.session.user and not can_manage(pc.pool):
		frappe.throw(
			_("Only the owner or a manager may release {0}").format(pc.customer_name), frappe.PermissionError
		)
	set_owner(pc, None, RELEASE, reason=reason.strip())
	return pc


def lock(pool_customer: str, reason: str) -> frappe._dict:
	"""锁定: a manager exempts an owned customer from recycling."""
	if not (reason or "").strip():
		frappe.throw(_("Please give a reason for locking the customer"), PoolRuleError)
	pc = lock_pool_customer(pool_customer)
	if not can_manage(pc.pool):
		frappe.throw(_("Only a pool admin or a manager may lock customers"), frappe.PermissionError)
	if pc.status not in (OWNED, CONVERTED):
		frappe.throw(_("Only an owned customer can be locked"), PoolRuleError)
	frappe.db.sql(
		"""UPDATE `tabPool Customer` SET status = %s, lock_reason = %s, recycle_due_at = NULL,
		reminder_sent_at = NULL, modified = %s, modified_by = %s WHERE name = %s""",
		(LOCKED, clean_text(reason.strip()), now_datetime(), frappe.session.user, pc.name),
	)
	log_change(
		pc.name,
		LOCK,
		from_user=pc.owned_by,
		to_user=pc.owned_by,
		reason=reason.strip(),
		pool=pc.pool,
		customer_name=pc.customer_name,
	)
	return pc


def unlock(pool_customer: str, reason: str | None = None) -> frappe._dict:
	"""解锁: the customer is subject to recycling again, from now."""
	pc = lock_pool_customer(pool_customer)
	if not can_manage(pc.pool):
		frappe.throw(_("Only a pool admin or a manager may unlock customers"), frappe.PermissionError)
	if pc.status != LOCKED:
		frappe.throw(_("{0} is not locked").format(pc.customer_name), PoolRuleError)
	frappe.db.sql(
		"""UPDATE `tabPool Customer` SET status = %s, lock_reason = NULL, modified = %s, modified_by = %s
		WHERE name = %s""",
		(owned_status(pc.party_type), now_datetime(), frappe.session.user, pc.name),
	)
	log_change(
		pc.name,
		UNLOCK,
		from_user=pc.owned_by,
		to_user=pc.owned_by,
		reason=reason,
		pool=pc.pool,
		customer_name=pc.customer_name,
	)
	followup.recompute_due([pc.name])
	return pc


def set_owner(
	pc: frappe._dict, user: str | None, action: str, *, reason: str | None = None, rule: str | None = None
) -> None:
	"""Move one pool customer to `user` (None: back to the pool): the row, the log, ERPNext's owner
	fields and assignment, and the recycle due date. `pc` must have been locked."""
	previous = pc.owned_by
	_write_owner((pc.name,), user, action, reason=reason, rule=rule, mirror_set_based=False)
	pc.owned_by = user
	mirror.mirror_owner(pc, previous)
	if user:
		followup.recompute_due([pc.name])


def set_owner_many(
	rows: list[frappe._dict],
	user: str | None,
	action: str,
	*,
	reason: str | None = None,
	rule: str | None = None,
) -> list[str]:
	"""`set_owner` for many pool customers at once, set-based (a few statements per chunk, whatever
	the number): the rows, one log entry each, ERPNext's owner fields and assignments, the recycle
	due dates. The rows must have been locked (`lock_pool_customers`). Returns their names."""
	names = [row.name for row in rows]
	for start in range(0, len(names), CHUNK):
		_write_owner(tuple(names[start : start + CHUNK]), user, action, reason=reason, rule=rule)
	for row in rows:
		row.owned_by = user
	if user:
		followup.recompute_due(names)
	return names


def _write_owner(
	names: tuple[str, ...],
	user: str | None,
	action: str,
	*,
	reason: str | None,
	rule: str | None,
	mirror_set_based: bool = True,
) -> None:
	"""The one place an owner changes (`set_owner`, `set_owner_many`): log first (it reads the old
	owner), the ERPNext mirror when set-based, then the rows.

	To an owner: status owned (已领取 / 已转化; a locked customer keeps its lock), claimed now, the old
	owner kept as previous owner, the new owner no longer listed as a collaborator. Back to the pool:
	in the pool from now, no due date, no lock, and its collaborators lose their access, as on
	recycling. Either way the party's Frappe shares and other users' assignments end
	(`mirror.revoke_access_select`)."""
	now = now_datetime()
	where = "pc.name IN %(names)s"
	values = {"names": names, "user": user, "rule": rule, "now": now, "by": frappe.session.user}
	insert_logs_select(action, where, values, to_user_sql="%(user)s", rule_sql="%(rule)s", reason=reason)
	if user:
		if mirror_set_based:
			mirror.move_owners_select(where, values, user)
		frappe.db.sql(
			f"""UPDATE `tabPool Customer` pc SET pc.previous_owner = COALESCE(pc.owned_by, pc.previous_owner),
			pc.status = {OWNED_STATUS_SQL}, pc.owned_by = %(user)s, pc.owner_name = %(user_name)s,
			pc.claimed_at = %(now)s, pc.reminder_sent_at = NULL, pc.modified = %(now)s, pc.modified_by = %(by)s
			WHERE {where}""",
			dict(values, user_name=get_fullname(user)),
		)
		frappe.db.sql(
			"""DELETE FROM `tabPool Customer Collaborator`
			WHERE parenttype = 'Pool Customer' AND parent IN %(names)s AND user = %(user)s""",
			values,
		)
	else:
		if mirror_set_based:
			mirror.clear_owners_select(where, values)
		frappe.db.sql(
			f"""UPDATE `tabPool Customer` pc SET pc.previous_owner = COALESCE(pc.owned_by, pc.previous_owner),
			pc.status = '{IN_POOL}', pc.owned_by = NULL, pc.owner_name = NULL, pc.released_at = %(now)s,
			pc.pool_entered_at = %(now)s, pc.claimed_at = NULL, pc.recycle_due_at = NULL,
			pc.reminder_sent_at = NULL, pc.lock_reason = NULL, pc.modified = %(now)s, pc.modified_by = %(by)s
			WHERE {where}""",
			values,
		)
		frappe.db.sql(
			"""DELETE FROM `tabPool Customer Collaborator`
			WHERE parenttype = 'Pool Customer' AND parent IN %(names)s""",
			values,
		)
	mirror.revoke_access_select(where, values)  # shares and others' assignments end with ownership


def lock_pools_in_order(names: list[str]) -> list[str]:
	"""Before a bulk action that changes customers one by one (each `lock_pool_customer`): lock the
	pools of these customers, in name order, and return the customers sorted by (pool, name).

	This is the one global order of bulk actions — pools in name order, then customers by pool and
	name — so that two bulk actions over customers of several pools wait for each other instead of
	deadlocking, whatever order their callers gave."""
	names = list(dict.fromkeys(n for n in names if n))
	if not names:
		return []
	pool_of = dict(
		frappe.db.sql(
			"SELECT name, pool FROM `tabPool Customer` WHERE name IN %(names)s", {"names": tuple(names)}
		)
	)
	pools = sorted({pool for pool in pool_of.values() if pool})
	if pools:
		frappe.db.sql(
			"SELECT name FROM `tabCustomer Pool` WHERE name IN %(pools)s ORDER BY name FOR UPDATE",
			{"pools": tuple(pools)},
		)
	return sorted(names, key=lambda name: (pool_of.get(name) or "", name))


def lock_pool_customers(names: list[str]) -> dict[str, frappe._dict]:
	"""`lock_pool_customer` for many: their pools' rows, then their rows, each in name order (the
	same order as single changes take, so the two never deadlock). Returns the locked rows by name;
	names that do not exist, and customers moved to another pool meanwhile, are left out."""
	names = sorted(set(names))
	if not names:
		return {}
	pools = frappe.db.sql_list(
		"SELECT DISTINCT pool FROM `tabPool Customer` WHERE name IN %(names)s AND pool IS NOT NULL ORDER BY pool",
		{"names": tuple(names)},
	)
	if pools:
		frappe.db.sql(
			"SELECT name FROM `tabCustomer Pool` WHERE name IN %(pools)s ORDER BY name FOR UPDATE",
			{"pools": tuple(pools)},
		)
	rows = frappe.db.sql(
		f"""SELECT {", ".join(PC_FIELDS)} FROM `tabPool Customer` WHERE name IN %(names)s
		ORDER BY name FOR UPDATE""",
		{"names": tuple(names)},
		as_dict=True,
	)
	return {row.name: row for row in rows if row.pool in pools}


def cap_room(pool: str, user: str) -> tuple[int | None, frappe._dict]:
	"""How many more customers of `pool` `user` may own under its cap (None: no cap), and the pool's
	rules. A locking read: call it with the pool's row locked."""
	rules = pool_rules(pool)
	if not rules.max_owned:
		return None, rules
	return max(0, rules.max_owned - owned_count(pool, user, rules.converted_not_counted)), rules


def counts_toward_cap(status: str, rules: frappe._dict) -> bool:
	return status in ((OWNED, LOCKED) if rules.converted_not_counted else HAS_OWNER)


# --- collaborators (协作人) ----------------------------------------------------------------------------


def add_collaborator(
	pool_customer: str, user: str, access: str = READ, reason: str | None = None
) -> frappe._dict:
	"""Add `user` as a collaborator of an owned customer with Read or Read/Write access (or change
	the access of a collaborator). The owner stays the one owner (明确唯一). The owner or a manager
	may do it; logged as COLLABORATE."""
	if access not in (READ, READ_WRITE):
		frappe.throw(_("Access must be Read or Read/Write"), PoolRuleError)
	check_user(user)
	pc = lock_pool_customer(pool_customer)
	check_may_share(pc)
	if user == pc.owned_by:
		frappe.throw(_("{0} already owns {1}").format(get_fullname(user), pc.customer_name), PoolRuleError)
	current = frappe.db.get_value(
		"Pool Customer Collaborator",
		{"parenttype": "Pool Customer", "parent": pc.name, "user": user},
		["name", "access"],
		as_dict=True,
	)
	if current and current.access == access:
		frappe.throw(
			_("{0} already collaborates on {1} with {2} access").format(
				get_fullname(user), pc.customer_name, _(access)
			),
			PoolRuleError,
		)
	if current:
		frappe.db.set_value("Pool Customer Collaborator", current.name, "access", access)
	else:
		frappe.get_doc(
			{
				"doctype": "Pool Customer Collaborator",
				"parenttype": "Pool Customer",
				"parentfield": "collaborators",
				"parent": pc.name,
				"idx": (
					frappe.db.sql(
						"""SELECT COALESCE(MAX(idx), 0) FROM `tabPool Customer Collaborator`
						WHERE parenttype = 'Pool Customer' AND parent = %s""",
						pc.name,
					)[0][0]
					+ 1
				),
				"user": user,
				"access": access,
			}
		).db_insert()
	log_collaboration(
		pc,
		f"+{user}:{access}",
		reason or _("{0} collaborates with {1} access").format(get_fullname(user), _(access)),
	)
	return pc


def remove_collaborator(pool_customer: str, user: str, reason: str | None = None) -> frappe._dict:
	"""Take a collaborator off a customer (the owner or a manager); logged as COLLABORATE."""
	pc = lock_pool_customer(pool_customer)
	check_may_share(pc)
	frappe.db.sql(
		"""DELETE FROM `tabPool Customer Collaborator`
		WHERE parenttype = 'Pool Customer' AND parent = %s AND user = %s""",
		(pc.name, user),
	)
	if not frappe.db.sql("SELECT ROW_COUNT()")[0][0]:
		frappe.throw(_("{0} is not a collaborator of {1}").format(user, pc.customer_name), PoolRuleError)
	log_collaboration(pc, f"-{user}", reason or _("{0} no longer collaborates").format(get_fullname(user)))
	return pc


def log_collaboration(pc: frappe._dict, rule: str, reason: str) -> None:
	"""A change of collaborators: the customer's modified stamp and a COLLABORATE log entry."""
	frappe.db.set_value("Pool Customer", pc.name, "modified", now_datetime(), update_modified=False)
	log_change(
		pc.name,
		COLLABORATE,
		from_user=pc.owned_by,
		to_user=pc.owned_by,
		rule=rule,
		reason=reason,
		pool=pc.pool,
		customer_name=pc.customer_name,
	)


def check_may_share(pc: frappe._dict) -> None:
	"""Collaborators are added to an owned customer, by its owner or a manager."""
	if pc.status not in HAS_OWNER or not pc.owned_by:
		frappe.throw(
			_("{0} ({1}) has no owner: collaborators work with an owner").format(pc.customer_name, pc.name),
			PoolRuleError,
		)
	if pc.owned_by != frappe.session.user and not can_manage(pc.pool):
		frappe.throw(
			_("Only the owner or a manager may change the collaborators of {0}").format(pc.customer_name),
			frappe.PermissionError,
		)


# --- ERPNext's own owner fields --------------------------------------------------------------------


def guard_party_owner(doc, method=None) -> None:
	"""Lead/Customer validate: editing lead_owner / account_manager goes through the pool's rules.

	Taking an in-pool customer for oneself is a claim; a manager setting another owner is an
	assignment; clearing the owner or a sales user handing it to someone else is refused (release and
	transfer have their own actions, with a reason)."""
	field = mirror.OWNER_FIELD.get(doc.doctype)
	if not field or doc.is_new() or doc.flags.crm_pool_owner_synced or not doc.has_value_changed(field):
		return
	pc_name = frappe.db.get_value("Pool Customer", {doc.doctype.lower(): doc.name}, "name")
	if not pc_name:
		return
	new_owner = doc.get(field)
	if not new_owner:
		frappe.throw(
			_(
				"To give up this customer use the Release action on its pool customer {0}, with a reason"
			).format(pc_name),
			PoolRuleError,
		)
	status, pool = frappe.db.get_value("Pool Customer", pc_name, ["status", "pool"])
	if new_owner == frappe.session.user and status == IN_POOL:
		claim(pc_name)
	elif can_manage(pool):
		assign(pc_name, new_owner, _("Owner changed on {0} {1}").format(_(doc.doctype), doc.name))
	else:
		frappe.throw(
			_("The owner of {0} can only be changed by a manager (allocation or transfer)").format(doc.name),
			PoolRuleError,
		)
	doc.flags.crm_pool_owner_synced = True


# --- documents whose Workflow decides (Ownership Transfer, Pool Allocation Request) ----------------


def check_workflow_change(
	doc, before, state_field: str, content_fields: tuple[str, ...], lines: str | None, draft: str = "Draft"
) -> None:
	"""A document of an approval Workflow changes state only through the Workflow's transitions:
	made as a draft (docstatus 0, the first state), then each change of state (and of docstatus) is
	a transition the user's roles allow, with the docstatus of its new state — what
	`frappe.model.workflow.apply_workflow` does. Frappe itself checks the transition, but sets the
	state of a document saved or posted with docstatus 1 after that check, which let a document
	approve itself. Outside `draft`, the content (`content_fields`, the `lines` table's pool
	customers) is frozen. Refusals raise AuditedPathError."""
	from frappe.model.workflow import get_workflow_name

	workflow_name = get_workflow_name(doc.doctype)
	workflow = frappe.get_cached_doc("Workflow", workflow_name) if workflow_name else None
	first = workflow.states[0].state if workflow and workflow.states else None
	new_state = doc.get(state_field)
	if not before:
		if doc.docstatus != 0 or (first and new_state not in (None, "", first)):
			frappe.throw(
				_("A new {0} is saved as a draft; its Workflow actions move it on").format(_(doc.doctype)),
				AuditedPathError,
				title=_("Not Allowed"),
			)
		return
	old_state = before.get(state_field)
	if workflow and (old_state != new_state or before.docstatus != doc.docstatus):
		roles = set(frappe.get_roles())
		allowed = any(
			t.state == old_state and t.next_state == new_state and t.allowed in roles
			for t in workflow.transitions
		)
		target = next((s for s in workflow.states if s.state == new_state), None)
		if not allowed or not target or cint(target.doc_status) != doc.docstatus:
			frappe.throw(
				_("{0} {1} cannot go from {2} to {3} this way: use its Workflow actions").format(
					_(doc.doctype), doc.name, _(old_state or ""), _(new_state or "")
				),
				AuditedPathError,
				title=_("Not Allowed"),
			)
	if (old_state or draft) != draft:
		changed = [f for f in content_fields if (doc.get(f) or None) != (before.get(f) or None)]
		if lines and [r.pool_customer for r in doc.get(lines)] != [
			r.pool_customer for r in before.get(lines)
		]:
			changed.append(lines)
		if changed:
			frappe.throw(
				_("{0} {1} is {2}: only a draft can be changed ({3})").format(
					_(doc.doctype),
					doc.name,
					_(old_state),
					", ".join(_(doc.meta.get_label(f)) for f in changed),
				),
				AuditedPathError,
				title=_("Not Allowed"),
			)
