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
# Masks of a pool's contact copies (mask_mobile / mask_email / mask_address).
MASK_SETTINGS = ("mask_mobile", "mask_email", "mask_address")


def pool_settings(pool: str) -> frappe._dict:
	"""The pool's rules (caps, cooldown, claim mode, allocation), else a refusal naming the pool.
	(Through frappe.qb: `frappe.db.get_value` parses each of the 14 field names with sqlparse, ~3 ms
	on every claim.)"""
	table = frappe.qb.DocType("Customer Pool")
	rows = (
		frappe.qb.from_(table)
		.select(*(table[f] for f in SETTINGS))
		.where(table.name == pool)
		.run(as_dict=True)
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
	so, else none (one pool's row read instead of every pool's)."""
	user = user or frappe.session.user
	employee = frappe.qb.DocType("Employee")
	departments = (
		frappe.qb.from_(employee)
		.select(employee.department)
		.where((employee.user_id == user) & (employee.department.isnotnull()) & (employee.department != ""))
		.run(pluck=True)
	)
	pool = frappe.qb.DocType("Customer Pool")
	member = frappe.qb.DocType("Customer Pool Member")
	members = frappe.qb.from_(member).select(member.parent).where(member.parenttype == "Customer Pool")
	mine = members.where(
		(member.user == user) | (member.department.isnotnull() & member.department.isin(departments or [""]))
	)
	query = (
		frappe.qb.from_(pool)
		.select(pool.name)
		.where((pool.enabled == 1) & (pool.name.isin(mine) | pool.name.notin(members)))
	)
	if only is not None:
		query = query.where(pool.name == only)
	return query.run(pluck=True)


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
