"""Reading with locks (SPEC §8): the one lock order of crm_pool and the locking counts behind the caps.

The lock order. Every change of ownership takes, in this order and never the other way round:

1. its pool's row (`tabCustomer Pool`, `SELECT … FOR UPDATE` / `LOCK IN SHARE MODE`): exclusively
   for assign, release, lock, allocation's batches, transfers, merges, collaborators and bulk claims
   (`claim_many`), the daily recycle and reminders (every pool, before selecting the due customers:
   `recycle.select_into`), and by Frappe itself when the pool's rules are saved; a single
   claim in a transaction of its own (`begin_claim_transaction`) takes it *shared*, so claims in one
   pool do not wait for each other, and everything that takes the row exclusively waits for the
   claims under way (and they for it): the rules a claim reads, and the counts behind its caps,
   cannot change under it through any other path. Several pools: in name order.
2. its pool customers' rows (`tabPool Customer`, `FOR UPDATE`): one, or several in name order
   (within one pool) or by (pool, name) across pools (`lock_pools_in_order`, `lock_pool_customers`).
3. the claimant's Pool Claim Counter row (one per user and pool, `lock_claimant`): claims only; a
   user's claims in a pool wait for each other, not for other users' claims. A claim holding its
   pool's row exclusively takes it after the customer's row; a claim at READ COMMITTED (the pool's
   row shared) takes it *before* the customer's row, which it locks with the read of its rules'
   counts (`lock_claimed`: one statement). The two orders never meet: a pool's counter rows are
   taken only under that pool's row, and its exclusive holder runs alone, while the claims holding it
   shared all take counter, then customer.

The rows a change writes after that (Pool Log, its tally, ToDo, the parties) are its own. No change
of ownership locks a pool row after a customer or counter row, so no cycle appears among them.
(A follow-up is not a change of ownership: it locks its customer's row,
then reads the pool's row shared for the new due date. Claims hold that row shared too and do not
wait for it; a change holding the pool row exclusively that wants the same customer can meet it in
a deadlock, which InnoDB breaks by refusing one of the two.)

The counts behind the caps (owned customers, claims today) must see every committed change. A
claim in a transaction of its own runs at READ COMMITTED: under its counter's and its customer's
locks, each plain read sees the latest commits, and no statement takes gap locks (which, at
REPEATABLE READ, made claims by different users wait for or deadlock with each other on the
indexes of the counts, the log and the ToDos). Every other change counts with locking reads
(`LOCK IN SHARE MODE`) under the pool row's exclusive lock. The counts use narrow composite
indexes (`add_indexes`).

The site config key `crm_pool_claim_path` = "serialized" brings back the old claim path for
comparison (benchmarks/README.md): the pool row locked exclusively, locking counts, and the owner's
assignment through Frappe's `assign_to.add`.
"""

from __future__ import annotations

import frappe
from frappe.utils import add_days, getdate, now_datetime

from crm_pool.core import events, mirror
from crm_pool.core.errors import PoolRuleError
from crm_pool.core.roles import full_name_sql, pool_admin_sql, remember_full_name
from crm_pool.core.settings import member_of_sql, pool_settings
from crm_pool.core.status import (
	ASSIGN,
	CLAIM,
	HAS_OWNER,
	LOCKED,
	OWNED,
	OWNED_STATUS_SQL,
	RECYCLE,
	RELEASE,
	TRANSFER,
)
from crm_pool.core.translate import _
from crm_pool.pool.followup import claimed_due_at

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
	"owner_name",
)
_PC_SQL = ", ".join(f"`{field}`" for field in PC_FIELDS)


def check_user(user: str) -> None:
	table = frappe.qb.DocType("User")
	if not frappe.qb.from_(table).select(table.name).where((table.name == user) & (table.enabled == 1)).run():
		frappe.throw(_("User {0} does not exist or is disabled").format(user), PoolRuleError)


def read_pool_customer(name: str, *, member: str | None = None) -> frappe._dict | None:
	"""The pool customer's columns of a change of ownership, read without locks (None: no such row);
	with `member` (a user), also whether its pool is one of theirs (`user_pools`) as `is_member` and
	whether they are listed as its admin (`roles.is_pool_admin`) as `is_pool_admin`, and whether
	they have a claim counter there (`has_counter`: `begin_claim_transaction`), in the same
	statement, which also reads their full name into `roles.full_name`'s memo (a claim names its
	claimant in the log, the customer's row and the assignment). Plain SQL: the first read of every
	claim (`frappe.db.get_value` parses each field name with sqlparse, ~2 ms; frappe.qb builds the
	query anew, ~0.1 ms)."""
	membership = (
		f", {member_of_sql('`tabPool Customer`.pool')} AS is_member,"
		f" {pool_admin_sql('`tabPool Customer`.pool')} AS is_pool_admin,"
		f" {full_name_sql('%(user)s')} AS member_name,"
		f" {has_counter_sql('`tabPool Customer`.pool')} AS has_counter"
		if member
		else ""
	)
	rows = frappe.db.sql(
		f"SELECT {_PC_SQL}{membership} FROM `tabPool Customer` WHERE name = %(name)s",
		{"name": name, "user": member},
		as_dict=True,
	)
	if not rows:
		return None
	if member:
		remember_full_name(member, rows[0].pop("member_name"))
	return rows[0]


# The site config key choosing the claim path, and its value for the old one (benchmarks).
CLAIM_PATH_KEY = "crm_pool_claim_path"
SERIALIZED = "serialized"


def serialized_claims() -> bool:
	"""Do claims take the old, serialized path (site config `crm_pool_claim_path` = "serialized")?"""
	return frappe.conf.get(CLAIM_PATH_KEY) == SERIALIZED


def begin_claim_transaction(counter: tuple[str, str] | None = None) -> bool:
	"""Before a claim that is its request's only change: end the transaction (it has written
	nothing) and begin one at READ COMMITTED for the claim. Returns whether it did; it does not on
	the serialized path, after a write (nothing is committed early), nor where the binary log is
	written by statement (which refuses writes at READ COMMITTED). The request's commit or rollback
	ends that transaction; the next one is at the session's level again.

	`counter` (pool, user): the claimant has no counter row in that pool yet (`read_pool_customer`'s
	`has_counter`), so it is made in the transaction that ends here (`add_counter`): the claim's
	upsert then always finds its row. (Several claims of one user inserting the same new key, one of
	them refused and rolled back, leave the others deadlocked on the gap before it.)"""
	if serialized_claims() or frappe.db.transaction_writes or not _read_committed_allowed():
		return False
	if counter:
		add_counter(*counter)
	frappe.db.sql("COMMIT")  # reads only so far (transaction_writes is 0), or the new counter row
	# the next transaction only: the claim's first statement begins it (AUTOCOMMIT is off)
	frappe.db.sql("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
	return True


_READ_COMMITTED_ALLOWED: dict[str, bool] = {}  # per site, for the life of the process


def _read_committed_allowed() -> bool:
	site = frappe.local.site
	if site not in _READ_COMMITTED_ALLOWED:
		log_bin, binlog_format = frappe.db.sql("SELECT @@log_bin, @@binlog_format")[0]
		statement_log = int(log_bin or 0) and (binlog_format or "").upper() == "STATEMENT"
		_READ_COMMITTED_ALLOWED[site] = not statement_log
	return _READ_COMMITTED_ALLOWED[site]


def lock_pool_customer(name: str, *, pool: str | None = None) -> frappe._dict:
	"""Lock the pool customer's pool (exclusively), then its row, until the transaction ends; returns
	the row. `pool`: its pool as read before (if it moved since, the change is refused and can be
	tried again). (A claim at READ COMMITTED takes its pool's row shared with its rules:
	`settings.pool_settings(lock_shared=True)`, its counter, then `lock_claimed`.)"""
	if pool is None:
		table = frappe.qb.DocType("Pool Customer")
		found = frappe.qb.from_(table).select(table.pool).where(table.name == name).run()
		if not found:
			frappe.throw(_("Pool customer {0} does not exist").format(name), frappe.DoesNotExistError)
		pool = found[0][0]
	lock_pools([pool])
	return lock_row(name, pool)


def lock_row(name: str, pool: str) -> frappe._dict:
	"""Lock the pool customer's row, its pool's row being locked already; returns the row (refused if
	it was moved to another pool since `pool` was read)."""
	rows = frappe.db.sql(
		f"SELECT {_PC_SQL} FROM `tabPool Customer` WHERE name = %s FOR UPDATE", name, as_dict=True
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


def owned_count(pool: str, user: str, converted_not_counted: bool) -> int:
	"""Customers of the pool the user owns now, a locking read (sees every committed claim; a claim
	at READ COMMITTED counts with plain reads under its locks instead: `lock_claimed`)."""
	statuses = [OWNED, LOCKED] if converted_not_counted else list(HAS_OWNER)
	return frappe.db.sql(
		"""SELECT COUNT(*) FROM `tabPool Customer`
		WHERE pool = %s AND owned_by = %s AND status IN %s LOCK IN SHARE MODE""",
		(pool, user, tuple(statuses)),
	)[0][0]


def claims_today(pool: str, user: str) -> int:
	"""Claims the user made in the pool since midnight (site time), from the Pool Log, a locking read
	(see `owned_count`)."""
	return frappe.db.sql(
		"""SELECT COUNT(*) FROM `tabPool Log`
		WHERE to_user = %s AND pool = %s AND action = %s AND at >= %s LOCK IN SHARE MODE""",
		(user, pool, CLAIM, getdate()),
	)[0][0]


def lock_claimed(
	name: str, pool: str, settings: frappe._dict, user: str, now=None
) -> tuple[frappe._dict, frappe._dict]:
	"""A claim at READ COMMITTED holding its pool's row shared (`settings.pool_settings`) and its
	counter row (`lock_claimant`): lock the customer's row and read the claim's state in the same
	statement; returns the row (as `lock_row`) and the state. Only the customer's row is locked: the
	state's reads are subqueries, which a locking read does not lock, each seeing the latest commits
	(READ COMMITTED) once the row's lock is granted.

	The state: the counts behind the claim's rules, `owned` (as `owned_count`), `today` (as
	`claims_today`) and `lost_at` (as `lost_within` the pool's cooldown; None when it has none); what
	its writes would find to undo, so that they are left out when there is nothing: `collaborates`
	(the claimant is listed as a collaborator, a row the new owner no longer needs),
	`access_to_revoke` (shares or others' open assignments on its parties:
	`mirror.revoke_access_select`) and `assigned` (the claimant has the party assigned already:
	`mirror.assign_owner`); `due_at`, its recycle due date once claimed at `now`
	(`followup.claimed_due_at`: from the rule days of `settings`, read with the pool's lock by
	`pool_settings(columns=followup.CLAIM_RULE_DAYS_SQL)`, and its grade and last follow-up and
	deal, read with its own lock), which the claim writes with its row; `status`, its status once
	claimed (owned, or converted for a Customer); `claimed_at` (`now`, default now); the row's
	`lead`, `customer` and `party_type` (the parties its writes join: `mirror.claimed_parties_sql`);
	and the columns the capabilities above add (`events.claim_reads`: sharing's `open_shares`), given
	back to them with the change (`events.owners_changed(known=…)`)."""
	now = now or now_datetime()
	statuses = (OWNED, LOCKED) if settings.converted_not_counted else tuple(HAS_OWNER)
	columns = ", ".join(f"pc.`{field}`" for field in PC_FIELDS)
	rows = frappe.db.sql(
		f"""SELECT {columns},
			(SELECT COUNT(*) FROM `tabPool Customer`
				WHERE pool = %(pool)s AND owned_by = %(user)s AND status IN %(statuses)s) AS owned,
			(SELECT COUNT(*) FROM `tabPool Log`
				WHERE to_user = %(user)s AND pool = %(pool)s AND action = %(claim)s AND at >= %(today)s) AS today,
			(SELECT MAX(at) FROM `tabPool Log`
				WHERE pool_customer = pc.name AND from_user = %(user)s AND action IN %(lost)s
				AND at >= %(since)s) AS lost_at,
			EXISTS (SELECT 1 FROM `tabPool Customer Collaborator` c WHERE c.parenttype = 'Pool Customer'
				AND c.parent = pc.name AND c.user = %(user)s) AS collaborates,
			{mirror.access_to_revoke_sql("%(user)s")} AS access_to_revoke,
			{mirror.assigned_sql("%(user)s")} AS assigned,
			pc.grade AS due_grade, pc.last_followup_at AS due_last_followup_at,
			pc.last_deal_at AS due_last_deal_at,
			{OWNED_STATUS_SQL} AS claimed_status{events.claim_reads()}
		FROM `tabPool Customer` pc WHERE pc.name = %(pc)s FOR UPDATE""",
		{
			"pool": pool,
			"pc": name,
			"user": user,
			"statuses": statuses,
			"claim": CLAIM,
			"today": getdate(),
			"lost": LOST,
			"since": add_days(now, -(settings.cooldown_days or 0)),
			"now": now,
		},
		as_dict=True,
	)
	if not rows:
		frappe.throw(_("Pool customer {0} does not exist").format(name), frappe.DoesNotExistError)
	state = rows[0]
	row = frappe._dict((field, state.pop(field)) for field in PC_FIELDS)
	if row.pool != pool:
		frappe.throw(_("{0} was just moved to another pool; please try again").format(name), PoolRuleError)
	state.status = state.pop("claimed_status")
	state.claimed_at = now
	state.due_at = claimed_due_at(
		settings,
		state.pop("due_grade"),
		now,
		state.pop("due_last_followup_at"),
		state.pop("due_last_deal_at"),
	)
	state.update(lead=row.lead, customer=row.customer, party_type=row.party_type)  # its parties
	return row, state


def _counter_key_sql(pool_sql: str) -> str:
	"""A counter row's name: its key (pool, user) hashed, so that taking it is an upsert
	(`lock_claimant`). SQL over the pool `pool_sql` and %(user)s."""
	return f"MD5(CONCAT_WS('|', {pool_sql}, %(user)s))"


def _insert_counter_sql(claims: int, last_claim_at: str, *, ignore: bool = False) -> str:
	"""The INSERT of the user's counter row of the pool (%(pool)s, %(user)s, at %(now)s)."""
	return f"""INSERT {"IGNORE " if ignore else ""}INTO `tabPool Claim Counter`
			(name, creation, modified, owner, modified_by, docstatus, idx, pool, `user`, claims, last_claim_at)
		VALUES ({_counter_key_sql("%(pool)s")}, %(now)s, %(now)s, 'Administrator', 'Administrator', 0, 0,
			%(pool)s, %(user)s, {claims}, {last_claim_at})"""


def lock_claimant(pool: str, user: str, now=None) -> None:
	"""Lock the user's Pool Claim Counter row of the pool (creating it) and count this claim on it:
	the user's other claims in this pool wait until this transaction ends; nobody else's do. One
	upsert on the primary key: the existing row is locked exclusively, a new one is inserted (a claim
	at READ COMMITTED has its row made first: `begin_claim_transaction`). The count is the claim's
	own write: a claim refused afterwards rolls it back with the rest of its transaction (or
	savepoint). `now`: the claim's time (default: now)."""
	frappe.db.sql(
		_insert_counter_sql(1, "%(now)s")
		+ " ON DUPLICATE KEY UPDATE claims = claims + 1, last_claim_at = %(now)s, modified = %(now)s",
		{"pool": pool, "user": user, "now": now or now_datetime()},
	)


def add_counter(pool: str, user: str) -> None:
	"""The user's Pool Claim Counter row of the pool, no claim counted, unless it exists."""
	frappe.db.sql(
		_insert_counter_sql(0, "NULL", ignore=True), {"pool": pool, "user": user, "now": now_datetime()}
	)


def has_counter_sql(pool_sql: str) -> str:
	"""Whether %(user)s has a Pool Claim Counter row in the pool `pool_sql` (SQL)."""
	return f"""EXISTS (SELECT 1 FROM `tabPool Claim Counter` counter
		WHERE counter.name = {_counter_key_sql(pool_sql)})"""


# How a user loses a customer (the cooldown's start)
LOST = (RELEASE, RECYCLE, TRANSFER, ASSIGN)


def lost_within(pool_customer: str, user: str, days: int):
	"""When the user last released or lost this customer within `days`, else None."""
	since = add_days(now_datetime(), -days)
	log = frappe.qb.DocType("Pool Log")
	latest = (
		frappe.qb.from_(log)
		.select(log.at)
		.where(
			(log.pool_customer == pool_customer)
			& (log.from_user == user)
			& log.action.isin(LOST)
			& (log.at >= since)
		)
		.orderby(log.at, order=frappe.qb.desc)
		.limit(1)
		.run(pluck=True)
	)
	return latest[0] if latest else None


def lock_pools(pools) -> list[str]:
	"""Lock the rows of these pools in name order (the one order of crm_pool); returns them so."""
	pools = sorted({pool for pool in pools if pool})
	if pools:
		frappe.db.sql(
			"SELECT name FROM `tabCustomer Pool` WHERE name IN %s ORDER BY name FOR UPDATE", [pools]
		)
	return pools


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
		frappe.get_all(
			"Pool Customer", filters={"name": ("in", names)}, fields=["name", "pool"], as_list=True
		)
	)
	lock_pools(pool_of.values())
	return sorted(names, key=lambda name: (pool_of.get(name) or "", name))


def lock_pool_customers(names: list[str]) -> dict[str, frappe._dict]:
	"""`lock_pool_customer` for many: their pools' rows, then their rows, each in name order (the
	same order as single changes take, so the two never deadlock). Returns the locked rows by name;
	names that do not exist, and customers moved to another pool meanwhile, are left out."""
	names = sorted(set(names))
	if not names:
		return {}
	pools = frappe.get_all("Pool Customer", filters={"name": ("in", names)}, pluck="pool", distinct=True)
	pools = lock_pools(pools)
	rows = frappe.db.sql(
		f"""SELECT {", ".join(PC_FIELDS)} FROM `tabPool Customer` WHERE name IN %(names)s
		ORDER BY name FOR UPDATE""",
		{"names": tuple(names)},
		as_dict=True,
	)
	return {row.name: row for row in rows if row.pool in pools}


def cap_room(pool: str, user: str) -> tuple[int | None, frappe._dict]:
	"""How many more customers of `pool` `user` may own under its cap (None: no cap), and the pool's
	settings. A locking read: call it with the pool's row locked."""
	settings = pool_settings(pool)
	if not settings.max_owned:
		return None, settings
	return max(0, settings.max_owned - owned_count(pool, user, settings.converted_not_counted)), settings


def counts_toward_cap(status: str, settings: frappe._dict) -> bool:
	return status in ((OWNED, LOCKED) if settings.converted_not_counted else HAS_OWNER)
