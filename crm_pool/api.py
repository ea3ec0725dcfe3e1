"""Whitelisted methods of crm_pool (the desk buttons call these; so may the REST API).

Each checks the caller's permission and takes nothing from the client on trust: arguments are
checked against the annotations and by `crm_pool.pool.inputs` (type, range, length; free text made
inert), names are looked up, rules are checked in `crm_pool.pool.ownership` under row locks, and a
refusal is a clear, translated message that writes nothing.

No `from __future__ import annotations` here: the annotations must stay real types for the argument
validation of `inputs.api_method` (string annotations are not validated).
"""

import json

import frappe
from frappe import _

from crm_pool.pool import inputs, intake, ownership
from crm_pool.pool.inputs import api_method

MAX_BATCH = 200


def _pool_customer(name: str, for_claim: bool = False) -> str:
	"""The name of a pool customer the caller may read, else a clear error. For a claim, a customer
	of one of the caller's pools will do: if someone else took it meanwhile, the claim says so."""
	if not name or not isinstance(name, str):
		frappe.throw(_("Please choose a pool customer"), ownership.PoolRuleError)
	if len(name) > inputs.MAX_NAME or not frappe.db.exists("Pool Customer", name):
		frappe.throw(_("Pool customer {0} does not exist").format(name[:40]), frappe.DoesNotExistError)
	if for_claim and frappe.db.get_value("Pool Customer", name, "pool") in ownership.user_pools():
		return name
	frappe.get_doc("Pool Customer", name).check_permission("read")
	return name


def _names(names) -> list[str]:
	return inputs.names(names, "Pool Customers", MAX_BATCH)


def _only_sales() -> None:
	roles = set(frappe.get_roles())
	if not roles & {"Sales User", "Sales Manager", "Pool Manager", "System Manager"}:
		frappe.throw(_("Only sales staff may claim customers"), frappe.PermissionError)


@api_method(methods=["POST"])
def claim(pool_customer: str) -> dict:
	"""领取 one customer; returns its new state."""
	_only_sales()
	ownership.claim(_pool_customer(pool_customer, for_claim=True))
	return pool_status(pool_customer)


@api_method(methods=["POST"])
def claim_many(pool_customers: list[str] | str) -> dict:
	"""领取 several customers at once, as far as the rules allow: each succeeds or fails on its own
	(a savepoint per customer), and the result says which and why. Their pools are locked first and
	the customers claimed by (pool, name), the global lock order of bulk actions (no deadlock
	between two bulk claims over the same pools)."""
	_only_sales()
	claimed, refused = [], []
	for name in ownership.lock_pools_in_order(_names(pool_customers)):
		savepoint = f"claim_{frappe.generate_hash(length=8)}"
		frappe.db.savepoint(savepoint)
		try:
			ownership.claim(_pool_customer(name, for_claim=True))
			claimed.append(name)
		except (frappe.ValidationError, frappe.PermissionError) as e:
			frappe.db.rollback(save_point=savepoint)
			refused.append({"name": name, "reason": _strip_html(str(e))})
			frappe.clear_messages()
	return {"claimed": claimed, "refused": refused}


@api_method(methods=["POST"])
def release(pool_customer: str, reason: str) -> dict:
	"""释放 to the pool, with a reason (owner or manager)."""
	reason = inputs.text(reason, "Reason", required=True)
	ownership.release(_pool_customer(pool_customer), reason)
	return pool_status(pool_customer)


@api_method(methods=["POST"])
def assign(pool_customer: str, user: str, reason: str | None = None) -> dict:
	"""分配 by a pool admin or manager."""
	if len(user) > inputs.MAX_NAME or not frappe.db.exists("User", user):
		frappe.throw(_("Please choose a user to assign to"), ownership.PoolRuleError)
	reason = inputs.text(reason, "Reason")
	ownership.assign(_pool_customer(pool_customer), user, reason)
	return pool_status(pool_customer)


@api_method(methods=["POST"])
def lock(pool_customer: str, reason: str) -> dict:
	"""锁定 (exempt from recycling), by a pool admin or manager."""
	reason = inputs.text(reason, "Reason", required=True)
	ownership.lock(_pool_customer(pool_customer), reason)
	return pool_status(pool_customer)


@api_method(methods=["POST"])
def unlock(pool_customer: str, reason: str | None = None) -> dict:
	reason = inputs.text(reason, "Reason")
	ownership.unlock(_pool_customer(pool_customer), reason)
	return pool_status(pool_customer)


@api_method()
def pool_status(
	pool_customer: str | None = None, doctype: str | None = None, name: str | None = None
) -> dict:
	"""What a Lead/Customer form shows: pool, status, owner (masked if the caller may not see it),
	what the caller may do, and the ownership history (Pool Log)."""
	if not pool_customer:
		if doctype not in ("Lead", "Customer", "Prospect") or not name:
			frappe.throw(_("Please give a pool customer, or a Lead/Customer"), ownership.PoolRuleError)
		inputs.existing(doctype, name)
		frappe.get_doc(doctype, name).check_permission("read")
		pool_customer = frappe.db.get_value("Pool Customer", {"party_type": doctype, "party": name}) or (
			frappe.db.get_value("Pool Customer", {doctype.lower(): name}) if doctype != "Prospect" else None
		)
		if not pool_customer:
			return {}
	else:
		_pool_customer(pool_customer)
	pc = frappe.db.get_value(
		"Pool Customer",
		pool_customer,
		[
			"name",
			"customer_name",
			"pool",
			"status",
			"owned_by",
			"grade",
			"claimed_at",
			"recycle_due_at",
			"last_followup_at",
			"lock_reason",
		],
		as_dict=True,
	)
	user = frappe.session.user
	manage = ownership.can_manage(pc.pool)
	claim_mode = frappe.db.get_value("Customer Pool", pc.pool, "claim_mode")
	mine = pc.owned_by == user
	history = frappe.get_all(
		"Pool Log",
		filters={"pool_customer": pc.name},
		fields=["action", "from_user", "to_user", "by_user", "at", "reason", "rule"],
		order_by="at desc, creation desc",
		limit=20,
	)
	# Names in the history are masked (张*) like the owner in a duplicate refusal for a user who may
	# not see this customer in full (a pool member looking at an in-pool customer); so are user ids.
	visible = intake.can_see(pc)
	for row in history:
		for field in ("from_user", "to_user", "by_user"):
			row[field + "_name"] = intake.display_user_name(row[field], pc, visible)
			if not visible and row[field] != user:
				row[field] = None
	return {
		"name": pc.name,
		"customer_name": pc.customer_name,
		"pool": pc.pool,
		"pool_name": frappe.db.get_value("Customer Pool", pc.pool, "pool_name"),
		"status": pc.status,
		"status_label": _(pc.status),
		"owned_by": pc.owned_by if (mine or manage) else None,
		"owner_name": ownership.display_owner(pc),
		"grade": pc.grade,
		"claimed_at": pc.claimed_at,
		"recycle_due_at": pc.recycle_due_at if (mine or manage) else None,
		"last_followup_at": pc.last_followup_at,
		"lock_reason": pc.lock_reason if (mine or manage) else None,
		"claim_mode": claim_mode,
		"can": {
			"claim": pc.status == "In Pool" and claim_mode != ownership.APPLY_AND_APPROVE,
			"apply": pc.status == "In Pool",
			"allocate": manage and pc.status == "In Pool",
			"release": pc.status in ("Owned", "Converted") and (mine or manage),
			"assign": manage and pc.status in ("In Pool", "Owned", "Converted"),
			"lock": manage and pc.status in ("Owned", "Converted"),
			"unlock": manage and pc.status == "Locked",
		},
		"history": history,
	}


def _strip_html(text: str) -> str:
	return frappe.utils.strip_html_tags(text or "").strip()


# --- allocation (分配): requests (申请) and manager allocation (调配) ---------------------------------

PREVIEW_ROWS = 200  # rows of a plan sent back to the desk
MAX_ALLOCATE = 20000  # customers in one allocation
FILTER_FIELDS = ("territory", "customer_group", "industry", "grade")


def _json_list(value, label: str, maximum: int) -> list[str]:
	"""Names as a list, a JSON list or comma-separated text; empty is []."""
	if isinstance(value, str):
		value = value.strip()
		if value.startswith("["):
			try:
				value = json.loads(value)
			except ValueError:
				frappe.throw(_("Please choose one or more {0}").format(_(label)), inputs.InvalidArgument)
		else:
			value = [v.strip() for v in value.split(",") if v.strip()]
	if not value:
		return []
	return inputs.names(value, label, maximum)


def _pool_batch(pool: str | None, filters) -> list[str]:
	"""The in-pool customers of `pool` matching `filters` (territory, customer_group, industry,
	grade; the territory with the territories under it), most valuable and longest waiting first."""
	if not pool or len(pool) > inputs.MAX_NAME or not frappe.db.exists("Customer Pool", pool):
		frappe.throw(_("Please choose a pool"), ownership.PoolRuleError)
	if not ownership.can_manage(pool):
		frappe.throw(_("Only a pool admin or a manager may allocate customers"), frappe.PermissionError)
	filters = inputs.mapping(filters, "Filters")
	for key in FILTER_FIELDS:
		if filters.get(key) is not None and not isinstance(filters[key], str):
			frappe.throw(_("Invalid {0}").format(_("Filters")), inputs.InvalidArgument)
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
	limit = inputs.limit(filters.get("limit"), "At Most", MAX_ALLOCATE, default=MAX_ALLOCATE)
	return frappe.db.sql_list(
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
	from crm_pool.pool import allocation

	dry_run = inputs.flag(dry_run, "dry_run")
	if strategy and strategy not in allocation.STRATEGIES:
		frappe.throw(_("Unknown allocation strategy {0}").format(strategy[:40]), inputs.InvalidArgument)
	members = _json_list(members, "Pool Members", MAX_ALLOCATE) or None
	if members:
		for member in members:
			inputs.existing("User", member, "User")
	names = (
		_json_list(pool_customers, "Pool Customers", MAX_ALLOCATE)
		if pool_customers
		else _pool_batch(pool, filters)
	)
	if not names:
		frappe.throw(_("No customers of the pool match"), ownership.PoolRuleError)
	if len(names) > MAX_ALLOCATE:
		frappe.throw(
			_("Please allocate at most {0} customers at a time").format(MAX_ALLOCATE), ownership.PoolRuleError
		)
	batch_pool = allocation.pool_of(list(dict.fromkeys(names)))
	if not ownership.can_manage(batch_pool):
		frappe.throw(_("Only a pool admin or a manager may allocate customers"), frappe.PermissionError)
	if not dry_run and len(names) > allocation.ENQUEUE_ABOVE:
		return allocation.enqueue_allocation(names, strategy or None, members)
	result = allocation.allocate(names, strategy or None, members, dry_run=bool(dry_run))
	return result.as_dict(limit=PREVIEW_ROWS)


@api_method()
def allocation_settings(pool: str) -> dict:
	"""What the allocation dialog offers for `pool`: its strategy and its members with their
	numbers (for pool admins and managers)."""
	from crm_pool.pool import allocation

	if len(pool) > inputs.MAX_NAME or not frappe.db.exists("Customer Pool", pool):
		frappe.throw(_("Please choose a pool"), ownership.PoolRuleError)
	if not ownership.can_manage(pool):
		frappe.throw(_("Only a pool admin or a manager may allocate customers"), frappe.PermissionError)
	settings = allocation.pool_settings(pool)
	rows = allocation.pool_member_rows(pool)
	selling = allocation.sales_users([r.user for r in rows])
	team = [
		allocation.Member(user=r.user, full_name=selling[r.user], order=i, territory=r.territory)
		for i, r in enumerate(rows)
		if r.user in selling
	]
	if team:
		allocation.count_owned(pool, team, settings.converted_not_counted, lock=False)
	excluded = {r.user for r in rows if r.no_allocation}
	return {
		"pool": pool,
		"pool_name": settings.pool_name,
		"strategy": settings.allocation_strategy or allocation.ROUND_ROBIN,
		"strategies": [{"value": s, "label": _(s)} for s in allocation.STRATEGIES],
		"cap": settings.max_owned or None,
		"members": [dict(m.summary(settings.max_owned), default=m.user not in excluded) for m in team],
		"in_pool": frappe.db.count("Pool Customer", {"pool": pool, "status": "In Pool"}),
	}


@api_method(methods=["POST"])
def request_allocation(
	pool_customers: list[str] | str,
	reason: str,
	expected_resources: str | None = None,
	submit: bool | int = 1,
) -> dict:
	"""申请: the current user applies for pool customers (one pool), with a reason; the request goes
	to the approvers unless `submit` is 0 (then it stays a draft)."""
	_only_sales()
	from crm_pool.pool import allocation_request

	names = _names(pool_customers)
	reason = inputs.text(reason, "Reason for Request", required=True)
	expected_resources = inputs.text(expected_resources, "Expected Resources")
	submit = inputs.flag(submit, "submit")
	for name in names:
		_pool_customer(name, for_claim=True)
	doc = allocation_request.create(names, reason, expected_resources, submit=bool(submit))
	return _request_state(doc)


@api_method(methods=["POST"])
def allocation_request_action(name: str, action: str, note: str | None = None) -> dict:
	"""Apply a Workflow action (Submit for Approval, Approve, Reject, Cancel) to an allocation
	request, with an optional note from the approver. The Workflow checks the role; the request's
	controller checks everything else (no self approval, availability at approval)."""
	from frappe.model.workflow import apply_workflow

	from crm_pool.pool import allocation_request

	if len(name) > inputs.MAX_NAME or not frappe.db.exists(allocation_request.DOCTYPE, name):
		frappe.throw(_("Allocation request {0} does not exist").format(name[:40]), frappe.DoesNotExistError)
	frappe.get_doc(allocation_request.DOCTYPE, name).check_permission("read")
	note = inputs.text(note, "Approver's Note")
	if note:
		# apply_workflow reads the request from the database: the note goes there first, in the
		# same transaction (undone with the action if the action is refused)
		frappe.db.set_value(allocation_request.DOCTYPE, name, "decision_note", note, update_modified=False)
	doc = apply_workflow(frappe.get_doc(allocation_request.DOCTYPE, name), action)
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
