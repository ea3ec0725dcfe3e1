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

import frappe
from frappe import _

from crm_pool.allocation.model import (
	ROUND_ROBIN,
	SCORE_BASED,
	SCORE_PARTS,
	STRATEGIES,
	AllocationResult,
)
from crm_pool.allocation.planner import plan
from crm_pool.allocation.team import (
	allocation_settings,
	candidates,
	count_owned,
	load_customers,
	load_score_inputs,
	pool_of,
	recent_losses,
)
from crm_pool.allocation.writer import write
from crm_pool.core.errors import PoolRuleError
from crm_pool.core.roles import can_manage


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
		frappe.throw(_("Please choose one or more pool customers"), PoolRuleError)
	pool = pool_of(names)
	if not can_manage(pool):
		frappe.throw(_("Only a pool admin or a manager may allocate customers"), frappe.PermissionError)
	settings = allocation_settings(pool)
	if not settings.enabled:
		frappe.throw(_("Pool {0} is disabled").format(settings.pool_name), PoolRuleError)
	strategy = strategy or settings.allocation_strategy or ROUND_ROBIN
	if strategy not in STRATEGIES:
		frappe.throw(_("Unknown allocation strategy {0}").format(strategy), PoolRuleError)
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
				PoolRuleError,
			)
	if pool.allocation_strategy == SCORE_BASED and not any(
		pool.get(f"score_weight_{part}") for part in SCORE_PARTS
	):
		frappe.throw(_("Score-based allocation needs at least one score weight above 0"), PoolRuleError)
	members = {m.user for m in pool.get("members", []) if m.user}
	has_departments = any(m.department for m in pool.get("members", []))
	for row in pool.get("allocation_rules", []):
		if members and not has_departments and row.user not in members:
			frappe.throw(
				_("Allocation rule row {0}: {1} is not a member of this pool").format(row.idx, row.user),
				PoolRuleError,
			)
