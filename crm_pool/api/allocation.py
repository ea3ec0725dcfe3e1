"""Whitelisted methods of allocation (分配): a manager's batch allocation by strategy (调配), its
dialog's settings, and salespeople's allocation requests (申请) with their Workflow actions. See
crm_pool.api.pool for the conventions (typed `api_method`s, no `from __future__ import annotations`).
"""

import frappe
from frappe import _
from frappe.model import workflow

from crm_pool.allocation import jobs, requests
from crm_pool.allocation.allocate import allocate as allocate_batch
from crm_pool.allocation.model import ENQUEUE_ABOVE, ROUND_ROBIN, STRATEGIES, Member
from crm_pool.allocation.team import allocation_settings as settings_of
from crm_pool.allocation.team import count_owned, pool_member_rows, pool_of
from crm_pool.api import args
from crm_pool.api.args import api_method
from crm_pool.core.errors import InvalidArgument, PoolRuleError
from crm_pool.core.roles import SELLING_ROLES, can_manage, selling_users

MAX_REQUEST = 200  # customers in one allocation request
PREVIEW_ROWS = 200  # rows of a plan sent back to the desk
MAX_ALLOCATE = 20000  # customers in one allocation
FILTER_FIELDS = ("territory", "customer_group", "industry", "grade")


def _pool_batch(pool: str | None, filters) -> list[str]:
	"""The in-pool customers of `pool` matching `filters` (territory, customer_group, industry,
	grade; the territory with the territories under it), most valuable and longest waiting first."""
	if not pool or len(pool) > args.MAX_NAME or not frappe.db.exists("Customer Pool", pool):
		frappe.throw(_("Please choose a pool"), PoolRuleError)
	if not can_manage(pool):
		frappe.throw(_("Only a pool admin or a manager may allocate customers"), frappe.PermissionError)
	filters = args.mapping(filters, "Filters")
	for key in FILTER_FIELDS:
		if filters.get(key) is not None and not isinstance(filters[key], str):
			frappe.throw(_("Invalid {0}").format(_("Filters")), InvalidArgument)
	conditions, values = (
		["pc.pool = %(pool)s", "pc.status = %(in_pool)s"],
		{"pool": pool, "in_pool": "In Pool"},
	)
	for key in FILTER_FIELDS:
		if filters.get(key):
			values[key] = filters[key]
			if key == "territory":
				conditions.append(
					"""pc.territory IN (SELECT t.name FROM `tabTerritory` t, `tabTerritory` p
					WHERE p.name = %(territory)s AND t.lft >= p.lft AND t.rgt <= p.rgt)"""
				)
			else:
				conditions.append(f"pc.{key} = %({key})s")
	limit = args.limit(filters.get("limit"), "At Most", MAX_ALLOCATE, default=MAX_ALLOCATE)
	return frappe.db.sql_list(  # the territory subtree and the grade order as SQL
		f"""SELECT pc.name FROM `tabPool Customer` pc WHERE {" AND ".join(conditions)}
		ORDER BY FIELD(pc.grade, 'A', 'B', 'C') = 0, FIELD(pc.grade, 'A', 'B', 'C'), pc.pool_entered_at, pc.name
		LIMIT {limit}""",
		values,
	)


@api_method(methods=["POST"])
def allocate(
	pool_customers: list[str] | str | None = None,
	strategy: str | None = None,
	members: list[str] | str | None = None,
	dry_run: bool | int = 0,
	pool: str | None = None,
	filters: dict | str | None = None,
) -> dict:
	"""调配 by a pool admin or manager: the given pool customers, or the in-pool customers of `pool`
	matching `filters`, to `members` (default: the pool's) by `strategy` (default: the pool's).
	`dry_run` returns the plan (who gets what, and why) without writing. Large batches run in the
	background (the result says `queued`)."""
	dry_run = args.flag(dry_run, "dry_run")
	if strategy and strategy not in STRATEGIES:
		frappe.throw(_("Unknown allocation strategy {0}").format(strategy[:40]), InvalidArgument)
	members = args.names(members, "Pool Members", MAX_ALLOCATE, required=False) or None
	if members:
		for member in members:
			args.existing("User", member, "User")
	names = (
		args.names(pool_customers, "Pool Customers", MAX_ALLOCATE, required=False)
		if pool_customers
		else _pool_batch(pool, filters)
	)
	if not names:
		frappe.throw(_("No customers of the pool match"), PoolRuleError)
	if len(names) > MAX_ALLOCATE:
		frappe.throw(_("Please allocate at most {0} customers at a time").format(MAX_ALLOCATE), PoolRuleError)
	batch_pool = pool_of(list(dict.fromkeys(names)))
	if not can_manage(batch_pool):
		frappe.throw(_("Only a pool admin or a manager may allocate customers"), frappe.PermissionError)
	if not dry_run and len(names) > ENQUEUE_ABOVE:
		return jobs.enqueue_allocation(names, strategy or None, members)
	result = allocate_batch(names, strategy or None, members, dry_run=bool(dry_run))
	return result.as_dict(limit=PREVIEW_ROWS)


@api_method()
def allocation_settings(pool: str) -> dict:
	"""What the allocation dialog offers for `pool`: its strategy and its members with their
	numbers (for pool admins and managers)."""
	if len(pool) > args.MAX_NAME or not frappe.db.exists("Customer Pool", pool):
		frappe.throw(_("Please choose a pool"), PoolRuleError)
	if not can_manage(pool):
		frappe.throw(_("Only a pool admin or a manager may allocate customers"), frappe.PermissionError)
	settings = settings_of(pool)
	rows = pool_member_rows(pool)
	selling = selling_users([r.user for r in rows])
	team = [
		Member(user=r.user, full_name=selling[r.user], order=i, territory=r.territory)
		for i, r in enumerate(rows)
		if r.user in selling
	]
	if team:
		count_owned(pool, team, settings.converted_not_counted, lock=False)
	excluded = {r.user for r in rows if r.no_allocation}
	return {
		"pool": pool,
		"pool_name": settings.pool_name,
		"strategy": settings.allocation_strategy or ROUND_ROBIN,
		"strategies": [{"value": s, "label": _(s)} for s in STRATEGIES],
		"cap": settings.max_owned or None,
		"members": [dict(m.summary(settings.max_owned), default=m.user not in excluded) for m in team],
		"in_pool": frappe.db.count("Pool Customer", {"pool": pool, "status": "In Pool"}),
	}


@api_method(methods=["POST"], roles=SELLING_ROLES)
def request_allocation(
	pool_customers: list[str] | str,
	reason: str,
	expected_resources: str | None = None,
	submit: bool | int = 1,
) -> dict:
	"""申请: the current user applies for pool customers (one pool), with a reason; the request goes
	to the approvers unless `submit` is 0 (then it stays a draft)."""
	names = args.names(pool_customers, "Pool Customers", MAX_REQUEST)
	reason = args.text(reason, "Reason for Request", required=True)
	expected_resources = args.text(expected_resources, "Expected Resources")
	submit = args.flag(submit, "submit")
	for name in names:
		args.pool_customer(name, for_claim=True)
	doc = requests.create(names, reason, expected_resources, submit=bool(submit))
	return _request_state(doc)


@api_method(methods=["POST"])
def allocation_request_action(name: str, action: str, note: str | None = None) -> dict:
	"""Apply a Workflow action (Submit for Approval, Approve, Reject, Cancel) to an allocation
	request, with an optional note from the approver. The Workflow checks the role; the request's
	controller checks everything else (no self approval, availability at approval)."""
	if len(name) > args.MAX_NAME or not frappe.db.exists(requests.DOCTYPE, name):
		frappe.throw(_("Allocation request {0} does not exist").format(name[:40]), frappe.DoesNotExistError)
	frappe.get_doc(requests.DOCTYPE, name).check_permission("read")
	note = args.text(note, "Approver's Note")
	if note:
		# apply_workflow reads the request from the database: the note goes there first, in the
		# same transaction (undone with the action if the action is refused)
		frappe.db.set_value(requests.DOCTYPE, name, "decision_note", note, update_modified=False)
	doc = workflow.apply_workflow(frappe.get_doc(requests.DOCTYPE, name), action)
	return _request_state(doc)


def _request_state(doc) -> dict:
	return {
		"name": doc.name,
		"workflow_state": doc.workflow_state,
		"assigned_count": doc.assigned_count,
		"unavailable_count": doc.unavailable_count,
		"lines": [
			{
				"pool_customer": line.pool_customer,
				"customer_name": line.customer_name,
				"status": line.status,
				"message": line.message,
			}
			for line in doc.lines
		],
	}
