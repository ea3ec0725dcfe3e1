"""Reading with locks (SPEC §8): the one lock order of crm_pool and the locking counts behind the caps.

Every change of ownership locks its pool's row, then the pool customer's row (`SELECT … FOR UPDATE`,
in that order), and reads the counts behind the caps with locking reads (which see every committed
change, whatever the transaction read before). Ownership changes within one pool are thus
serialized: of many simultaneous claims on one customer exactly one wins, and simultaneous claims by
one user never pass the pool's caps. Bulk actions lock their pools in name order, then their
customers by (pool, name). The counts use narrow composite indexes (`add_indexes`), so their locks
do not reach other users' rows.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import add_days, getdate, now_datetime

from crm_pool.core.errors import PoolRuleError
from crm_pool.core.settings import pool_settings
from crm_pool.core.status import ASSIGN, CLAIM, HAS_OWNER, LOCKED, OWNED, RECYCLE, RELEASE, TRANSFER

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


def check_user(user: str) -> None:
	if not frappe.db.exists("User", {"name": user, "enabled": 1}):
		frappe.throw(_("User {0} does not exist or is disabled").format(user), PoolRuleError)


def lock_pool_customer(name: str) -> frappe._dict:
	"""Lock the pool customer's pool, then its row, until the transaction ends; returns the row."""
	pool = frappe.db.get_value("Pool Customer", name, "pool")
	if not frappe.db.exists("Pool Customer", name):
		frappe.throw(_("Pool customer {0} does not exist").format(name), frappe.DoesNotExistError)
	lock_pools([pool])
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
	lost = (RELEASE, RECYCLE, TRANSFER, ASSIGN)
	since = add_days(now_datetime(), -days)
	filters = {"pool_customer": pool_customer, "from_user": user, "action": ("in", lost), "at": (">=", since)}
	latest = frappe.get_all("Pool Log", filters=filters, pluck="at", order_by="at desc", limit=1)
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
