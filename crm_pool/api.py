"""Whitelisted methods of crm_pool (the desk buttons call these; so may the REST API).

Each checks the caller's permission and takes nothing from the client on trust: names are looked
up, rules are checked in `crm_pool.pool.ownership` under row locks, and a refusal is a clear,
translated message that writes nothing.
"""

from __future__ import annotations

import json

import frappe
from frappe import _

from crm_pool.pool import ownership

MAX_BATCH = 200


def _pool_customer(name: str, for_claim: bool = False) -> str:
	"""The name of a pool customer the caller may read, else a clear error. For a claim, a customer
	of one of the caller's pools will do: if someone else took it meanwhile, the claim says so."""
	if not name or not isinstance(name, str):
		frappe.throw(_("Please choose a pool customer"), ownership.PoolRuleError)
	if not frappe.db.exists("Pool Customer", name):
		frappe.throw(_("Pool customer {0} does not exist").format(name), frappe.DoesNotExistError)
	if for_claim and frappe.db.get_value("Pool Customer", name, "pool") in ownership.user_pools():
		return name
	frappe.get_doc("Pool Customer", name).check_permission("read")
	return name


def _names(names) -> list[str]:
	if isinstance(names, str):
		try:
			names = json.loads(names)
		except ValueError:
			names = [names]
	if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
		frappe.throw(_("Please choose one or more pool customers"), ownership.PoolRuleError)
	if len(names) > MAX_BATCH:
		frappe.throw(
			_("Please choose at most {0} customers at a time").format(MAX_BATCH), ownership.PoolRuleError
		)
	return list(dict.fromkeys(names))


def _only_sales() -> None:
	roles = set(frappe.get_roles())
	if not roles & {"Sales User", "Sales Manager", "Pool Manager", "System Manager"}:
		frappe.throw(_("Only sales staff may claim customers"), frappe.PermissionError)


@frappe.whitelist(methods=["POST"])
def claim(pool_customer: str) -> dict:
	"""领取 one customer; returns its new state."""
	_only_sales()
	ownership.claim(_pool_customer(pool_customer, for_claim=True))
	return pool_status(pool_customer)


@frappe.whitelist(methods=["POST"])
def claim_many(pool_customers) -> dict:
	"""领取 several customers at once, as far as the rules allow: each succeeds or fails on its own
	(a savepoint per customer), and the result says which and why."""
	_only_sales()
	claimed, refused = [], []
	for name in _names(pool_customers):
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


@frappe.whitelist(methods=["POST"])
def release(pool_customer: str, reason: str) -> dict:
	"""释放 to the pool, with a reason (owner or manager)."""
	ownership.release(_pool_customer(pool_customer), reason)
	return pool_status(pool_customer)


@frappe.whitelist(methods=["POST"])
def assign(pool_customer: str, user: str, reason: str | None = None) -> dict:
	"""分配 by a pool admin or manager."""
	if not user or not frappe.db.exists("User", user):
		frappe.throw(_("Please choose a user to assign to"), ownership.PoolRuleError)
	ownership.assign(_pool_customer(pool_customer), user, reason)
	return pool_status(pool_customer)


@frappe.whitelist(methods=["POST"])
def lock(pool_customer: str, reason: str) -> dict:
	"""锁定 (exempt from recycling), by a pool admin or manager."""
	ownership.lock(_pool_customer(pool_customer), reason)
	return pool_status(pool_customer)


@frappe.whitelist(methods=["POST"])
def unlock(pool_customer: str, reason: str | None = None) -> dict:
	ownership.unlock(_pool_customer(pool_customer), reason)
	return pool_status(pool_customer)


@frappe.whitelist()
def pool_status(
	pool_customer: str | None = None, doctype: str | None = None, name: str | None = None
) -> dict:
	"""What a Lead/Customer form shows: pool, status, owner (masked if the caller may not see it),
	what the caller may do, and the ownership history (Pool Log)."""
	if not pool_customer:
		if doctype not in ("Lead", "Customer", "Prospect") or not name:
			frappe.throw(_("Please give a pool customer, or a Lead/Customer"), ownership.PoolRuleError)
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
	mine = pc.owned_by == user
	history = frappe.get_all(
		"Pool Log",
		filters={"pool_customer": pc.name},
		fields=["action", "from_user", "to_user", "by_user", "at", "reason", "rule"],
		order_by="at desc, creation desc",
		limit=20,
	)
	for row in history:
		for field in ("from_user", "to_user", "by_user"):
			row[field + "_name"] = frappe.utils.get_fullname(row[field]) if row[field] else ""
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
		"can": {
			"claim": pc.status == "In Pool",
			"release": pc.status in ("Owned", "Converted") and (mine or manage),
			"assign": manage and pc.status in ("In Pool", "Owned", "Converted"),
			"lock": manage and pc.status in ("Owned", "Converted"),
			"unlock": manage and pc.status == "Locked",
		},
		"history": history,
	}


def _strip_html(text: str) -> str:
	return frappe.utils.strip_html_tags(text or "").strip()
