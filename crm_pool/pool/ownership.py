"""Ownership of pool customers (SPEC §2): claim (领取), release (释放), manager assign (分配),
lock (锁定) and unlock, with the pool's caps and the previous-owner cooldown, and the one writer
through which every owner changes (`write_owners`). Locks are taken as `crm_pool.pool.locking`
describes; a refusal raises a `PoolRuleError` (a ValidationError) whose message says why.
"""

from __future__ import annotations

import json

import frappe
from frappe.utils import now_datetime

from crm_pool.core import events, mirror
from crm_pool.core.errors import AuditedPathError, PoolRuleError
from crm_pool.core.log import insert_logs_select, log_change
from crm_pool.core.normalize import clean_text, mask_person_name
from crm_pool.core.roles import can_manage, full_name, is_manager, is_pool_admin, is_salesperson
from crm_pool.core.setbased import chunks
from crm_pool.core.settings import APPLY_AND_APPROVE, pool_settings, user_pools
from crm_pool.core.status import (
	ASSIGN,
	CLAIM,
	CONVERTED,
	HAS_OWNER,
	IN_POOL,
	LOCK,
	LOCKED,
	OWNED,
	OWNED_STATUS_SQL,
	RELEASE,
	UNLOCK,
	owned_status,
)
from crm_pool.core.translate import _
from crm_pool.pool import followup
from crm_pool.pool.locking import (
	begin_claim_transaction,
	check_user,
	claims_today,
	lock_claimant,
	lock_claimed,
	lock_pool_customer,
	lost_within,
	owned_count,
	read_pool_customer,
	serialized_claims,
)


def display_owner(pc: frappe._dict) -> str:
	"""The owner's name as the current user may see it: full for managers, masked (王*) otherwise."""
	if not pc.owned_by:
		return ""
	name = pc.get("owner_name") or full_name(pc.owned_by)
	if pc.owned_by == frappe.session.user or is_manager():
		return name
	# read with the row by a claim's argument check (`locking.read_pool_customer`), else asked
	if pc.is_pool_admin if "is_pool_admin" in pc else is_pool_admin(pc.pool):
		return name
	return mask_person_name(name)


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


def check_cap(
	pc: frappe._dict,
	settings: frappe._dict,
	user: str,
	*,
	counts: frappe._dict | None = None,
) -> None:
	"""保有量上限: the most customers of this pool one user may own (`counts`: as `lock_claimed` read
	them; none: a locking count)."""
	if not settings.max_owned:
		return
	owned = counts.owned if counts else owned_count(pc.pool, user, settings.converted_not_counted)
	if owned >= settings.max_owned:
		frappe.throw(
			_("{0} already owns {1} customers of pool {2}, the most allowed").format(
				full_name(user), settings.max_owned, settings.pool_name
			),
			PoolRuleError,
			title=_("Cap Reached"),
		)


def check_daily_cap(settings: frappe._dict, user: str, *, counts: frappe._dict | None = None) -> None:
	"""每日领取上限: the most claims one user may make in this pool a day."""
	if not settings.max_daily_claims:
		return
	today = counts.today if counts else claims_today(settings.name, user)
	if today >= settings.max_daily_claims:
		frappe.throw(
			_("You have made {0} claims today, the most allowed per day").format(settings.max_daily_claims),
			PoolRuleError,
			title=_("Daily Cap Reached"),
		)


def check_cooldown(
	pc: frappe._dict, settings: frappe._dict, user: str, *, counts: frappe._dict | None = None
) -> None:
	"""A previous owner may not re-claim within the pool's cooldown days."""
	if not settings.cooldown_days:
		return
	lost_at = counts.lost_at if counts else lost_within(pc.name, user, settings.cooldown_days)
	if lost_at:
		frappe.throw(
			_("You gave up {0} on {1}; you may claim it again after {2} days").format(
				pc.customer_name, frappe.format(lost_at, "Datetime"), settings.cooldown_days
			),
			PoolRuleError,
			title=_("Cooldown"),
		)


# --- actions ---------------------------------------------------------------------------------------


def claim(
	pool_customer: str | frappe._dict, user: str | None = None, *, own_transaction: bool = False
) -> frappe._dict:
	"""领取: the user takes an in-pool customer of a pool they belong to, within its rules.

	With `own_transaction` (the claim is its request's only change: the API's claim), the claim runs
	in a transaction of its own at READ COMMITTED (`locking.begin_claim_transaction`, when nothing
	was written yet) and takes its pool's row shared: claims by different users in one pool do not
	wait for each other. Otherwise (bulk claims, a claim inside another change) the pool's row is
	taken exclusively. Either way the customer's row, then the claimant's counter row, are locked
	before the rules are read (the lock order of `crm_pool.pool.locking`); on the serialized path
	(site config `crm_pool_claim_path`) the claim takes the old path: the pool's row exclusively,
	no counter row, the assignment through Frappe's `assign_to.add`.

	`pool_customer`: its name, or its row as `locking.read_pool_customer` read it (the API's argument
	check did). Returns the customer's row as locked, its owner the claimant; at READ COMMITTED also
	its new status, claim time and recycle due date (`set_owner`)."""
	user = user or frappe.session.user
	if user != frappe.session.user:  # the session's own user is enabled (Frappe checks every request)
		check_user(user)
	serialized = serialized_claims()
	seen = pool_customer if isinstance(pool_customer, dict) else read_pool_customer(pool_customer)
	# Fast refusal without locks when it is visibly taken; the locked re-check below decides.
	check_in_pool(seen or pool_customer)
	# a first claim in the pool has its counter row made first (`begin_claim_transaction`); the API's
	# first read says whether the session's user has one (`read_pool_customer(member=…)`)
	known_counter = seen.get("has_counter") and user == frappe.session.user
	counter = None if known_counter else (seen.pool, user)
	if own_transaction and begin_claim_transaction(counter):
		# its pool's row shared with the pool's rules, its counter row, then its own row with what the
		# claim reads (`lock_claimed`): three statements
		now = now_datetime()  # one time for the whole claim: counter, row, log, assignment
		settings = pool_settings(
			seen.pool, lock_shared=True, member=user, columns=followup.CLAIM_RULE_DAYS_SQL
		)
		lock_claimant(seen.pool, user, now)
		pc, state = lock_claimed(seen.name, seen.pool, settings, user, now)
		check_in_pool(pc)
		check_claim_rules(pc, user, settings=settings, state=state)
	else:
		pc = lock_pool_customer(seen.name, pool=seen.pool)
		check_in_pool(pc)
		if not serialized:
			lock_claimant(pc.pool, user)
		state = None
		check_claim_rules(pc, user)
	set_owner(pc, user, CLAIM, known=state)
	return pc


def check_claim_rules(
	pc: frappe._dict,
	user: str,
	*,
	settings: frappe._dict | None = None,
	state: frappe._dict | None = None,
) -> None:
	"""The rules of a claim on a locked, in-pool customer: an enabled pool the user belongs to
	(managers claim from any pool), direct-claim mode, out of the cooldown, under the daily and the
	owned caps. The counts are locking reads, or `state`'s (a claim at READ COMMITTED holding its
	counter row: `locking.lock_claimed`). `settings`: the pool's, if read already under the pool's
	lock (with `is_member`: whether it is one of the user's pools)."""
	settings = settings or pool_settings(pc.pool)
	if not settings.enabled:
		frappe.throw(_("Pool {0} is disabled").format(settings.pool_name), PoolRuleError)
	member = settings.is_member if "is_member" in settings else user_pools(user, only=pc.pool)
	if not member and not is_manager(user):
		frappe.throw(_("You are not a member of pool {0}").format(settings.pool_name), PoolRuleError)
	if settings.claim_mode == APPLY_AND_APPROVE:
		frappe.throw(
			_("Pool {0} requires an allocation request approved by a manager").format(settings.pool_name),
			PoolRuleError,
		)
	check_cooldown(pc, settings, user, counts=state)
	check_daily_cap(settings, user, counts=state)
	check_cap(pc, settings, user, counts=state)


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
		frappe.throw(_("{0} already owns {1}").format(full_name(to_user), pc.customer_name), PoolRuleError)
	if not is_salesperson(to_user):
		frappe.throw(_("{0} is not a sales user").format(full_name(to_user)), PoolRuleError)
	check_cap(pc, pool_settings(pc.pool), to_user)
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
	lock_reason = clean_text(reason.strip())
	update = {"status": LOCKED, "lock_reason": lock_reason, "recycle_due_at": None, "reminder_sent_at": None}
	frappe.db.set_value("Pool Customer", pc.name, update)
	log_change(pc, LOCK, from_user=pc.owned_by, to_user=pc.owned_by, reason=reason.strip())
	return pc


def unlock(pool_customer: str, reason: str | None = None) -> frappe._dict:
	"""解锁: the customer is subject to recycling again, from now."""
	pc = lock_pool_customer(pool_customer)
	if not can_manage(pc.pool):
		frappe.throw(_("Only a pool admin or a manager may unlock customers"), frappe.PermissionError)
	if pc.status != LOCKED:
		frappe.throw(_("{0} is not locked").format(pc.customer_name), PoolRuleError)
	frappe.db.set_value(
		"Pool Customer", pc.name, {"status": owned_status(pc.party_type), "lock_reason": None}
	)
	log_change(pc, UNLOCK, from_user=pc.owned_by, to_user=pc.owned_by, reason=reason)
	followup.recompute_due([pc.name])
	return pc


def set_owner(
	pc: frappe._dict,
	user: str | None,
	action: str,
	*,
	reason: str | None = None,
	rule: str | None = None,
	known: frappe._dict | None = None,
) -> None:
	"""Move one pool customer to `user` (None: back to the pool): the row, the log, ERPNext's owner
	fields and assignment with its comment and notification, and the recycle due date. `pc` must
	have been locked. A claim (from the pool) writes the assignment itself (`mirror.assign_owner`);
	other changes, and claims on the serialized path, go through Frappe's assignment. `known`: what
	a claim at READ COMMITTED read under its locks (`locking.lock_claimed`; see `write_owners`), with
	which the claim's due date is written with its row and `pc` gets its new status, claim time and
	due date."""
	previous = pc.owned_by
	write_owners(
		"pc.name = %(name)s",
		{"name": pc.name},
		action,
		user,
		reason=reason,
		rule=rule,
		now=known.claimed_at if known else None,
		mirror_parties=False,
		known=known,
	)
	pc.owned_by = user
	if action == CLAIM and user and not previous and not serialized_claims():
		mirror.assign_owner(
			pc,
			assigned=known.assigned if known else None,
			owner_fields_written=bool(known),
			assign_written=bool(known) and _assign_written(known),
			now=known.claimed_at if known else None,
		)
	else:
		mirror.mirror_owner(pc, previous)
	if known:  # its new state, as written: the due date was read with the state
		pc.update(status=known.status, claimed_at=known.claimed_at, recycle_due_at=known.due_at)
	elif user:
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
	for chunk in chunks(names):
		write_owners("pc.name IN %(names)s", {"names": tuple(chunk)}, action, user, reason=reason, rule=rule)
	for row in rows:
		row.owned_by = user
	if user:
		followup.recompute_due(names)
	return names


def write_owners(
	where_sql: str,
	values: dict,
	action: str,
	user: str | None = None,
	*,
	owner_sql: str | None = None,
	owner_name_sql: str | None = None,
	rule: str | None = None,
	rule_sql: str | None = None,
	reason: str | None = None,
	reason_sql: str | None = None,
	now=None,
	mirror_parties: bool = True,
	known: frappe._dict | None = None,
) -> None:
	"""The one place owners change, set-based, for every pool customer `pc` matching `where_sql`
	(locked by the caller): the Pool Log first (it reads the old owner), ERPNext's owner fields and
	assignments (unless `mirror_parties` is False: the caller mirrors one party itself), then the rows.

	The new owner is `user`, or per row `owner_sql` / `owner_name_sql` (SQL over `pc`, e.g. a work
	table's column); neither: back to the pool. To an owner: status owned (已领取 / 已转化; a locked
	customer keeps its lock), claimed now, the old owner kept as previous owner, the new owner no
	longer listed as a collaborator. Back to the pool (release, recycle, transfer to the pool): in the
	pool from `now`, no due date, no lock, no exclusive manager, and its collaborators lose their access
	(an exclusive manager who was the old owner becomes the new owner). Either way the
	party's Frappe shares and other users' assignments end (`mirror.revoke_access_select`).

	`known` (one customer from the pool, to `user`, in a transaction at READ COMMITTED:
	`locking.lock_claimed` read under its locks): the row gets its recycle due date (`known.due_at`,
	for `now` = `known.claimed_at`) and its parties their owner fields in the same UPDATE
	(`_write_claimed`), and the statements that would find nothing are left out: the collaborator
	row of the new owner when `known.collaborates` is false, the shares and assignments when
	`known.access_to_revoke` is."""
	values = dict(
		values,
		_user=user,
		_user_name=full_name(user) if user else None,
		_rule=rule,
		_now=now or now_datetime(),
		_by=frappe.session.user,
		_due=known.due_at if known else None,
	)
	owner_sql = owner_sql or ("%(_user)s" if user else None)
	insert_logs_select(
		action,
		where_sql,
		values,
		at=values["_now"],
		to_user_sql=owner_sql or "NULL",
		rule_sql=rule_sql or "%(_rule)s",
		reason=reason,
		reason_sql=reason_sql,
	)
	if owner_sql:
		if mirror_parties:
			mirror.move_owners_select(where_sql, values, owner_sql)
		if known:
			_write_claimed(where_sql, values, known)
		else:
			frappe.db.sql(
				f"""UPDATE `tabPool Customer` pc SET pc.previous_owner = COALESCE(pc.owned_by, pc.previous_owner),
				pc.exclusive_manager = IF(pc.exclusive_manager = pc.owned_by, {owner_sql}, pc.exclusive_manager),
				pc.status = {OWNED_STATUS_SQL}, pc.owned_by = {owner_sql},
				pc.owner_name = {owner_name_sql or "%(_user_name)s"}, pc.claimed_at = %(_now)s,
				pc.reminder_sent_at = NULL, pc.modified = %(_now)s, pc.modified_by = %(_by)s
				WHERE {where_sql}""",
				values,
			)
		collaborators = "c.user = pc.owned_by"
	else:
		if mirror_parties:
			mirror.clear_owners_select(where_sql, values)
		frappe.db.sql(
			f"""UPDATE `tabPool Customer` pc SET pc.previous_owner = COALESCE(pc.owned_by, pc.previous_owner),
			pc.status = '{IN_POOL}', pc.owned_by = NULL, pc.owner_name = NULL, pc.exclusive_manager = NULL,
			pc.released_at = %(_now)s,
			pc.pool_entered_at = %(_now)s, pc.claimed_at = NULL, pc.recycle_due_at = NULL,
			pc.reminder_sent_at = NULL, pc.lock_reason = NULL, pc.modified = %(_now)s, pc.modified_by = %(_by)s
			WHERE {where_sql}""",
			values,
		)
		collaborators = "1 = 1"
	if not known or known.collaborates:
		frappe.db.sql(
			f"""DELETE c FROM `tabPool Customer Collaborator` c JOIN `tabPool Customer` pc ON pc.name = c.parent
			WHERE c.parenttype = 'Pool Customer' AND {collaborators} AND {where_sql}""",
			values,
		)
	if not known or known.access_to_revoke:  # shares and others' assignments end with ownership
		mirror.revoke_access_select(where_sql, values)
	events.owners_changed(where_sql, values, known)  # capabilities above (sharing) follow the new owners


def _write_claimed(where_sql: str, values: dict, known: frappe._dict) -> None:
	"""`write_owners`' UPDATE for one customer claimed from the pool at READ COMMITTED (`known`:
	`locking.lock_claimed`): its row with its recycle due date, and its parties' owner fields with the
	party's `_assign` (`mirror.claimed_parties_sql`), in one multi-table UPDATE. MariaDB promises no
	order to a multi-table UPDATE's assignments, so each is a value or reads only columns nobody
	assigns: the new status was read with the state (owned, or converted for a Customer), and the
	generic UPDATE's previous owner and exclusive manager are left as they are, which is what it
	does to a customer without an owner (one in the pool)."""
	join, parties = mirror.claimed_parties_sql(known, assign=_assign_written(known))
	frappe.db.sql(
		f"""UPDATE `tabPool Customer` pc {join}
		SET pc.status = %(_status)s, pc.owned_by = %(_user)s, pc.owner_name = %(_user_name)s,
			pc.claimed_at = %(_now)s, pc.recycle_due_at = %(_due)s, pc.reminder_sent_at = NULL,
			pc.modified = %(_now)s, pc.modified_by = %(_by)s{parties}
		WHERE {where_sql}""",
		dict(values, _status=known.status, _assign=json.dumps([values["_user"]])),
	)


def _assign_written(known: frappe._dict) -> bool:
	"""Does the claim's own UPDATE write the party's `_assign` (the owner alone)? When the owner is
	to be assigned and no other assignment is open: with access to revoke, `_assign` is recomputed
	after the revoke, and the owner's assignment comes after that (`mirror.assign_owner`)."""
	return not known.assigned and not known.access_to_revoke


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
