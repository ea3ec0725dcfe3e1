"""Whitelisted methods for transfers (调整 · 交接), collaborators (协作人) and ownership conflicts
(撞单): the desk buttons and the transfer wizard call these; so may the REST API.

Each checks the caller's permission and trusts nothing from the client: names are looked up, the
rules are the ones in crm_pool.pool.transfer / ownership / conflicts. Arguments are checked against
the annotations and by `crm_pool.pool.inputs` (no `from __future__ import annotations` here: string
annotations are not validated).
"""

import frappe
from frappe import _

from crm_pool.pool import conflicts, inputs, ownership, transfer
from crm_pool.pool.inputs import api_method
from crm_pool.pool.status import HAS_OWNER, READ_WRITE

# The wizard lists at most this many customers to choose from (all of them move with "all").
MAX_LISTED = 500
# Customers named in one transfer (more move with "all customers").
MAX_TRANSFER = 5000


def _pool_customer(name) -> frappe._dict:
	"""A pool customer the caller may read (with its owner), else a clear error."""
	if (
		not name
		or not isinstance(name, str)
		or len(name) > inputs.MAX_NAME
		or not frappe.db.exists("Pool Customer", name)
	):
		frappe.throw(_("Pool customer {0} does not exist").format(str(name)[:40]), frappe.DoesNotExistError)
	frappe.get_doc("Pool Customer", name).check_permission("read")
	return frappe.db.get_value("Pool Customer", name, ["name", "pool", "status", "owned_by"], as_dict=True)


def _may_act_for(user: str) -> None:
	"""Managers act for anyone; a salesperson for themselves only."""
	if user != frappe.session.user and not ownership.is_manager():
		frappe.throw(_("Only a manager may transfer another user's customers"), frappe.PermissionError)


@api_method()
def owner_customers(from_owner: str) -> dict:
	"""What the wizard shows: how many customers `from_owner` owns now, and (the first MAX_LISTED of)
	them to choose from."""
	if len(from_owner) > inputs.MAX_NAME or not frappe.db.exists("User", from_owner):
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


@api_method(methods=["POST"])
def make_transfer(
	from_owner: str,
	trigger: str,
	to_owner: str | None = None,
	to_pool: bool | int = 0,
	all_customers: bool | int = 0,
	pool_customers: list[str] | str | None = None,
	reason: str | None = None,
	handover_notes: str | None = None,
	override_cap: bool | int = 0,
) -> dict:
	"""A Draft Ownership Transfer (the wizard, and the Transfer button of a customer); returns its
	name and how many customers it covers. The document's own rules and permissions apply."""
	from_owner = inputs.existing("User", from_owner, "User")
	to_pool, all_customers = inputs.flag(to_pool, "to_pool"), inputs.flag(all_customers, "all_customers")
	override_cap = inputs.flag(override_cap, "override_cap")
	if not to_pool and to_owner:
		to_owner = inputs.existing("User", to_owner, "User")
	reason = inputs.text(reason, "Reason")
	handover_notes = inputs.rich_text(handover_notes, "Hand-over Notes")
	_may_act_for(from_owner)
	names = _names(pool_customers) if not all_customers else []
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
			"to_owner": None if to_pool else to_owner,
			"to_pool": to_pool,
			"trigger": trigger,
			"all_customers": all_customers,
			"override_cap": override_cap,
			"reason": reason,
			"handover_notes": handover_notes,
			"customers": [{"pool_customer": name} for name in names],
		}
	)
	doc.insert()
	return {"name": doc.name, "customer_count": doc.customer_count}


def _names(values) -> list[str]:
	if not values:
		frappe.throw(_("Choose the customers to transfer, or all of them"), ownership.PoolRuleError)
	return inputs.names(values, "Pool Customers", MAX_TRANSFER)


@api_method(methods=["POST"])
def add_collaborator(
	pool_customer: str, user: str, access: str = READ_WRITE, reason: str | None = None
) -> dict:
	"""协作人: the owner or a manager adds a collaborator with Read or Read/Write access."""
	if len(user) > inputs.MAX_NAME or not frappe.db.exists("User", user):
		frappe.throw(_("Choose the user who collaborates"), ownership.PoolRuleError)
	reason = inputs.text(reason, "Reason")
	ownership.add_collaborator(_pool_customer(pool_customer).name, user, access, reason)
	return {"collaborators": collaborators(pool_customer)}


@api_method(methods=["POST"])
def remove_collaborator(pool_customer: str, user: str, reason: str | None = None) -> dict:
	user = inputs.existing("User", user, "User")
	reason = inputs.text(reason, "Reason")
	ownership.remove_collaborator(_pool_customer(pool_customer).name, user, reason)
	return {"collaborators": collaborators(pool_customer)}


def collaborators(pool_customer: str) -> list[dict]:
	return frappe.get_all(
		"Pool Customer Collaborator",
		filters={"parenttype": "Pool Customer", "parent": pool_customer},
		fields=["user", "access"],
		order_by="idx",
	)


@api_method(methods=["POST"])
def resolve_conflict(
	conflict: str, resolution: str, note: str | None = None, access: str | None = None
) -> dict:
	"""撞单: a manager keeps the owner, transfers the customer to the claimant, or adds the claimant
	as a collaborator."""
	conflict = inputs.name_of(conflict, "Ownership Conflict")
	note = inputs.text(note, "Resolution Note")
	doc = conflicts.resolve(conflict, resolution, note, access or READ_WRITE)
	return {"name": doc.name, "status": doc.status, "resolution": doc.resolution}
