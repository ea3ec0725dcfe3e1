"""Whitelisted methods of the pool (公海): claim, release, assign, lock, unlock, collaborators, and what a
Lead/Customer form shows of its pool customer. The desk buttons call these; so may the REST API.

Each is an `api_method` (crm_pool.api.args: typed arguments, roles); names are looked up and read
permission checked (`args.pool_customer`), the rules are checked in crm_pool.pool under row locks, and
a refusal is a clear, translated message that writes nothing. No `from __future__ import annotations`
here: the annotations must stay real types for the argument validation.
"""

import frappe
from frappe import _

from crm_pool.api import args
from crm_pool.api.args import api_method
from crm_pool.core.errors import PoolRuleError
from crm_pool.core.roles import SELLING_ROLES, can_manage
from crm_pool.core.settings import APPLY_AND_APPROVE
from crm_pool.core.status import READ_WRITE
from crm_pool.grading.panel import grade_summary
from crm_pool.pool import collaborators, dedupe, ownership
from crm_pool.pool.locking import lock_pools_in_order

MAX_BATCH = 200
# What a claim answers: the claimed customer's new state.
CLAIM_ANSWER = ("name", "customer_name", "pool", "status", "owned_by", "claimed_at", "recycle_due_at")


def _names(names) -> list[str]:
	return args.names(names, "Pool Customers", MAX_BATCH)


@api_method(methods=["POST"], roles=SELLING_ROLES)
def claim(pool_customer: str) -> dict:
	"""领取 one customer, in a transaction of its own (see `ownership.claim`); returns its new state:
	name, customer name, pool, status, owner, claim time and recycle due date, as the claim wrote
	them (or read back when it took the locking path). (Not
	`pool_status`, what the form shows — the caller's rights, masked history, grade panel —, which
	was two thirds of a claim request's time: the desk reloads the form or the list after a claim.)"""
	pc = ownership.claim(args.pool_customer_row(pool_customer, for_claim=True), own_transaction=True)
	if "recycle_due_at" not in pc:  # claimed with locking reads (see `ownership.claim`): read back
		pc = frappe.db.sql(  # plain SQL (frappe.qb builds a query anew, ~0.1 ms)
			f"SELECT {', '.join(CLAIM_ANSWER)} FROM `tabPool Customer` WHERE name = %s", pc.name, as_dict=True
		)[0]
	return {field: pc[field] for field in CLAIM_ANSWER}


@api_method(methods=["POST"], roles=SELLING_ROLES)
def claim_many(pool_customers: list[str] | str) -> dict:
	"""领取 several customers at once, as far as the rules allow: each succeeds or fails on its own
	(a savepoint per customer), and the result says which and why. Their pools are locked first and
	the customers claimed by (pool, name), the global lock order of bulk actions (no deadlock
	between two bulk claims over the same pools)."""
	claimed, refused = [], []
	for name in lock_pools_in_order(_names(pool_customers)):
		savepoint = f"claim_{frappe.generate_hash(length=8)}"
		frappe.db.savepoint(savepoint)
		try:
			ownership.claim(args.pool_customer(name, for_claim=True))
			claimed.append(name)
		except (frappe.ValidationError, frappe.PermissionError) as e:
			frappe.db.rollback(save_point=savepoint)
			refused.append({"name": name, "reason": frappe.utils.strip_html_tags(str(e)).strip()})
			frappe.clear_messages()
	return {"claimed": claimed, "refused": refused}


def _with_reason(action, pool_customer: str, reason: str | None, required: bool) -> dict:
	"""An ownership action on a readable pool customer with a reason; returns its new state."""
	action(args.pool_customer(pool_customer), args.text(reason, "Reason", required=required))
	return pool_status(pool_customer)


@api_method(methods=["POST"])
def release(pool_customer: str, reason: str) -> dict:
	"""释放 to the pool, with a reason (owner or manager)."""
	return _with_reason(ownership.release, pool_customer, reason, required=True)


@api_method(methods=["POST"])
def assign(pool_customer: str, user: str, reason: str | None = None) -> dict:
	"""分配 by a pool admin or manager."""
	if len(user) > args.MAX_NAME or not frappe.db.exists("User", user):
		frappe.throw(_("Please choose a user to assign to"), PoolRuleError)
	reason = args.text(reason, "Reason")
	ownership.assign(args.pool_customer(pool_customer), user, reason)
	return pool_status(pool_customer)


@api_method(methods=["POST"])
def lock(pool_customer: str, reason: str) -> dict:
	"""锁定 (exempt from recycling), by a pool admin or manager."""
	return _with_reason(ownership.lock, pool_customer, reason, required=True)


@api_method(methods=["POST"])
def unlock(pool_customer: str, reason: str | None = None) -> dict:
	"""解锁, by a pool admin or manager."""
	return _with_reason(ownership.unlock, pool_customer, reason, required=False)


@api_method()
def pool_status(
	pool_customer: str | None = None, doctype: str | None = None, name: str | None = None
) -> dict:
	"""What a Lead/Customer form shows: pool, status, owner (masked if the caller may not see it),
	what the caller may do, and the ownership history (Pool Log)."""
	if not pool_customer:
		if doctype not in ("Lead", "Customer", "Prospect") or not name:
			frappe.throw(_("Please give a pool customer, or a Lead/Customer"), PoolRuleError)
		args.existing(doctype, name)
		frappe.get_doc(doctype, name).check_permission("read")
		pool_customer = frappe.db.get_value("Pool Customer", {"party_type": doctype, "party": name}) or (
			frappe.db.get_value("Pool Customer", {doctype.lower(): name}) if doctype != "Prospect" else None
		)
		if not pool_customer:
			return {}
	else:
		args.pool_customer(pool_customer)
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
	manage = can_manage(pc.pool)
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
	visible = dedupe.can_see(pc)
	for row in history:
		for field in ("from_user", "to_user", "by_user"):
			row[field + "_name"] = dedupe.display_user_name(row[field], pc, visible)
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
			"claim": pc.status == "In Pool" and claim_mode != APPLY_AND_APPROVE,
			"apply": pc.status == "In Pool",
			"allocate": manage and pc.status == "In Pool",
			"release": pc.status in ("Owned", "Converted") and (mine or manage),
			"assign": manage and pc.status in ("In Pool", "Owned", "Converted"),
			"lock": manage and pc.status in ("Owned", "Converted"),
			"unlock": manage and pc.status == "Locked",
		},
		"history": history,
		"grading": grade_summary(pc.name),
	}


# --- collaborators (协作人) -------------------------------------------------------------------------


@api_method(methods=["POST"])
def add_collaborator(
	pool_customer: str, user: str, access: str = READ_WRITE, reason: str | None = None
) -> dict:
	"""协作人: the owner or a manager adds a collaborator with Read or Read/Write access."""
	if len(user) > args.MAX_NAME or not frappe.db.exists("User", user):
		frappe.throw(_("Choose the user who collaborates"), PoolRuleError)
	reason = args.text(reason, "Reason")
	collaborators.add_collaborator(args.pool_customer(pool_customer), user, access, reason)
	return {"collaborators": collaborators_of(pool_customer)}


@api_method(methods=["POST"])
def remove_collaborator(pool_customer: str, user: str, reason: str | None = None) -> dict:
	user = args.existing("User", user, "User")
	reason = args.text(reason, "Reason")
	collaborators.remove_collaborator(args.pool_customer(pool_customer), user, reason)
	return {"collaborators": collaborators_of(pool_customer)}


def collaborators_of(pool_customer: str) -> list[dict]:
	return frappe.get_all(
		"Pool Customer Collaborator",
		filters={"parenttype": "Pool Customer", "parent": pool_customer},
		fields=["user", "access"],
		order_by="idx",
	)
