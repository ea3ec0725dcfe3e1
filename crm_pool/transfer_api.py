"""Whitelisted methods for transfers (调整 · 交接), collaborators (协作人) and ownership conflicts
(撞单): the desk buttons and the transfer wizard call these; so may the REST API.

Each checks the caller's permission and trusts nothing from the client: names are looked up, the
rules are the ones in crm_pool.pool.transfer / ownership / conflicts.
"""

from __future__ import annotations

import json

import frappe
from frappe import _

from crm_pool.pool import conflicts, ownership, transfer
from crm_pool.pool.status import HAS_OWNER, READ_WRITE

# The wizard lists at most this many customers to choose from (all of them move with "all").
MAX_LISTED = 500


def _pool_customer(name) -> frappe._dict:
	"""A pool customer the caller may read (with its owner), else a clear error."""
	if not name or not isinstance(name, str) or not frappe.db.exists("Pool Customer", name):
		frappe.throw(_("Pool customer {0} does not exist").format(name), frappe.DoesNotExistError)
	frappe.get_doc("Pool Customer", name).check_permission("read")
	return frappe.db.get_value("Pool Customer", name, ["name", "pool", "status", "owned_by"], as_dict=True)


def _may_act_for(user: str) -> None:
	"""Managers act for anyone; a salesperson for themselves only."""
	if user != frappe.session.user and not ownership.is_manager():
		frappe.throw(_("Only a manager may transfer another user's customers"), frappe.PermissionError)


@frappe.whitelist()
def owner_customers(from_owner: str) -> dict:
	"""What the wizard shows: how many customers `from_owner` owns now, and (the first MAX_LISTED of)
	them to choose from."""
	if not from_owner or not frappe.db.exists("User", from_owner):
		frappe.throw(_("Choose the user whose customers are transferred"), ownership.PoolRuleError)
	_may_act_for(from_owner)
	count = frappe.db.count("Pool Customer", {"owned_by": from_owner, "status": ("in", HAS_OWNER)})
	customers = frappe.db.sql(
		"""SELECT name, customer_name, status, pool FROM `tabPool Customer`
		WHERE owned_by = %s AND status IN %s ORDER BY customer_name, name LIMIT %s""",
		(from_owner, HAS_OWNER, MAX_LISTED),
		as_dict=True,
	)
	for row in customers:
		row.status_label = _(row.status)
	return {"count": count, "customers": customers, "listed": len(customers)}


@frappe.whitelist(methods=["POST"])
def make_transfer(
	from_owner: str,
	trigger: str,
	to_owner: str | None = None,
	to_pool: int | str = 0,
	all_customers: int | str = 0,
	pool_customers=None,
	reason: str | None = None,
	handover_notes: str | None = None,
	override_cap: int | str = 0,
) -> dict:
	"""A Draft Ownership Transfer (the wizard, and the Transfer button of a customer); returns its
	name and how many customers it covers. The document's own rules and permissions apply."""
	_may_act_for(from_owner)
	names = _names(pool_customers) if not frappe.utils.cint(all_customers) else []
	for name in names:
		row = _pool_customer(name)
		if row.owned_by != from_owner:
			frappe.throw(
				_("{0} is not owned by {1}").format(name, frappe.utils.get_fullname(from_owner)),
				ownership.PoolRuleError,
			)
	doc = frappe.get_doc(
		{
			"doctype": transfer.DOCTYPE,
			"from_owner": from_owner,
			"to_owner": None if frappe.utils.cint(to_pool) else to_owner,
			"to_pool": frappe.utils.cint(to_pool),
			"trigger": trigger,
			"all_customers": frappe.utils.cint(all_customers),
			"override_cap": frappe.utils.cint(override_cap),
			"reason": reason,
			"handover_notes": handover_notes,
			"customers": [{"pool_customer": name} for name in names],
		}
	)
	doc.insert()
	return {"name": doc.name, "customer_count": doc.customer_count}


def _names(values) -> list[str]:
	if isinstance(values, str):
		try:
			values = json.loads(values)
		except ValueError:
			values = [values]
	if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
		frappe.throw(_("Choose the customers to transfer, or all of them"), ownership.PoolRuleError)
	return list(dict.fromkeys(values))


@frappe.whitelist(methods=["POST"])
def add_collaborator(
	pool_customer: str, user: str, access: str = READ_WRITE, reason: str | None = None
) -> dict:
	"""协作人: the owner or a manager adds a collaborator with Read or Read/Write access."""
	if not user or not frappe.db.exists("User", user):
		frappe.throw(_("Choose the user who collaborates"), ownership.PoolRuleError)
	ownership.add_collaborator(_pool_customer(pool_customer).name, user, access, reason)
	return {"collaborators": collaborators(pool_customer)}


@frappe.whitelist(methods=["POST"])
def remove_collaborator(pool_customer: str, user: str, reason: str | None = None) -> dict:
	ownership.remove_collaborator(_pool_customer(pool_customer).name, user, reason)
	return {"collaborators": collaborators(pool_customer)}


def collaborators(pool_customer: str) -> list[dict]:
	return frappe.get_all(
		"Pool Customer Collaborator",
		filters={"parenttype": "Pool Customer", "parent": pool_customer},
		fields=["user", "access"],
		order_by="idx",
	)


@frappe.whitelist(methods=["POST"])
def resolve_conflict(
	conflict: str, resolution: str, note: str | None = None, access: str | None = None
) -> dict:
	"""撞单: a manager keeps the owner, transfers the customer to the claimant, or adds the claimant
	as a collaborator."""
	doc = conflicts.resolve(conflict, resolution, note, access or READ_WRITE)
	return {"name": doc.name, "status": doc.status, "resolution": doc.resolution}
