"""Reading a pool's settings (Customer Pool): its rules, its masks, who belongs to it, and which pool a
new party enters. One reader per question; the rules themselves are applied by the capabilities."""

import frappe
from frappe import _

from crm_pool.core.errors import PoolRuleError

# claim_mode
DIRECT_CLAIM = "Direct Claim"
APPLY_AND_APPROVE = "Apply and Approve"

# What claims, transfers and allocation read of a pool.
SETTINGS = (
	"name",
	"pool_name",
	"enabled",
	"claim_mode",
	"max_owned",
	"converted_not_counted",
	"max_daily_claims",
	"cooldown_days",
	"allocation_strategy",
	"allocation_pointer",
	"score_weight_conversion",
	"score_weight_capacity",
	"score_weight_experience",
	"score_weight_region",
)
_SETTINGS_SQL = ", ".join(f"`{field}`" for field in SETTINGS)
# Masks of a pool's contact copies (mask_mobile / mask_email / mask_address).
MASK_SETTINGS = ("mask_mobile", "mask_email", "mask_address")


def pool_settings(
	pool: str, *, lock_shared: bool = False, member: str | None = None, columns: str = ""
) -> frappe._dict:
	"""The pool's rules (caps, cooldown, claim mode, allocation), else a refusal naming the pool. With
	`lock_shared`, the read takes the pool's row shared (a claim at READ COMMITTED: the lock and the
	rules in one statement; `crm_pool.pool.locking`); with `member` (a user), it also says whether
	the pool is one of theirs (`user_pools`) as `is_member`; `columns`: more of them, SQL over
	`tabCustomer Pool` starting with a comma (a claim's rule days). Plain SQL: it runs on every
	claim, where `frappe.db.get_value` parsed the 14 field names with sqlparse (~3 ms) and
	frappe.qb builds the query anew (~0.1 ms)."""
	membership = f", {member_of_sql('`tabCustomer Pool`.name')} AS is_member" if member else ""
	rows = frappe.db.sql(
		f"SELECT {_SETTINGS_SQL}{membership}{columns} FROM `tabCustomer Pool` WHERE name = %(pool)s"
		+ (" LOCK IN SHARE MODE" if lock_shared else ""),
		{"pool": pool, "user": member},
		as_dict=True,
	)
	if not rows:
		frappe.throw(_("Pool {0} does not exist").format(pool), PoolRuleError)
	return rows[0]


def mask_settings(pool: str | None) -> dict:
	"""Which contact fields `pool` masks on its pool customers (all of them when unknown)."""
	values = frappe.db.get_value("Customer Pool", pool, MASK_SETTINGS, as_dict=True) if pool else None
	return {
		field: 1 if values is None or values.get(field) is None else values[field] for field in MASK_SETTINGS
	}


def user_pools(user: str | None = None, *, only: str | None = None) -> list[str]:
	"""Enabled pools the user may claim from: pools listing the user (or the user's department) as a
	member, and pools with no members at all (open to every sales user). With `only`: that pool if
	so, else none (one pool's rows read instead of every pool's). One statement in plain SQL; a claim
	asks the same question inside its own reads (`member_of_sql`, the one form of the rule)."""
	values = {"user": user or frappe.session.user, "only": only}
	if only is not None:
		return [only] if frappe.db.sql(f"SELECT {member_of_sql('%(only)s')}", values)[0][0] else []
	return frappe.db.sql_list(
		f"SELECT pool.name FROM `tabCustomer Pool` pool WHERE {member_of_sql('pool.name')}", values
	)


def member_of_sql(pool_sql: str) -> str:
	"""Whether the pool `pool_sql` (a parameter, or a column of the statement it is part of) is one of
	%(user)s's pools, as `user_pools` says: an SQL expression reading that pool's rows only (its
	member rows by the (parent, user) index). A claim asks it in its own reads (its first read, and
	the one that locks the pool's row)."""
	member = f"m.parent = {pool_sql} AND m.parenttype = 'Customer Pool'"
	return f"""(EXISTS (SELECT 1 FROM `tabCustomer Pool` enabled_pool
			WHERE enabled_pool.name = {pool_sql} AND enabled_pool.enabled = 1)
		AND (EXISTS (SELECT 1 FROM `tabCustomer Pool Member` m WHERE {member} AND m.user = %(user)s)
			OR EXISTS (SELECT 1 FROM `tabCustomer Pool Member` m WHERE {member} AND m.department IN (
				SELECT e.department FROM `tabEmployee` e
				WHERE e.user_id = %(user)s AND e.department IS NOT NULL AND e.department != ''))
			OR NOT EXISTS (SELECT 1 FROM `tabCustomer Pool Member` m WHERE {member})))"""


# The index names `add_indexes` adds.
MEMBER_INDEX, EMPLOYEE_USER_INDEX = "parent_user", "crm_pool_user_id"


def add_indexes() -> None:
	"""The indexes `member_of_sql` reads by, twice in every claim (Customer Pool Member's
	on_doctype_update; patches `add_pool_member_index`, `add_employee_user_index`): Customer Pool
	Member's (parent, user), a member's row of a pool, and Employee's user_id, the claimant's
	department (ERPNext has none: every claim read every Employee row twice)."""
	frappe.db.add_index("Customer Pool Member", ["parent", "user"], MEMBER_INDEX)
	frappe.db.add_index("Employee", ["user_id"], EMPLOYEE_USER_INDEX)


def default_pool() -> str | None:
	"""The enabled default pool, if any."""
	return frappe.db.get_value("Customer Pool", {"is_default": 1, "enabled": 1}, "name")


def choose_pool(territory: str | None) -> str | None:
	"""The enabled pool for a party in `territory`: the one whose territory is `territory` or its
	nearest ancestor (nested set), else the enabled default pool, else None."""
	if territory:
		pool = frappe.qb.DocType("Customer Pool")
		covered = frappe.qb.DocType("Territory").as_("covered")
		party = frappe.qb.DocType("Territory").as_("party")
		rows = (
			frappe.qb.from_(pool)
			.join(covered)
			.on(covered.name == pool.territory)
			.join(party)
			.on(party.name == territory)
			.select(pool.name)
			.where((pool.enabled == 1) & (covered.lft <= party.lft) & (covered.rgt >= party.rgt))
			.orderby(covered.lft, order=frappe.qb.desc)
			.orderby(pool.name)
			.limit(1)
			.run(pluck=True)
		)
		if rows:
			return rows[0]
	return default_pool()
