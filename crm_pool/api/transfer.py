"""Whitelisted methods of transfers (调整 · 交接) and ownership conflicts (撞单): the transfer wizard and
the conflict form call these; so may the REST API. See crm_pool.api.pool for the conventions (typed
`api_method`s, no `from __future__ import annotations`).
"""

import frappe
from frappe import _

from crm_pool.api import args
from crm_pool.api.args import api_method
from crm_pool.core.errors import PoolRuleError
from crm_pool.core.roles import is_manager
from crm_pool.core.status import HAS_OWNER, READ_WRITE
from crm_pool.transfer import conflicts, transfers

# The wizard lists at most this many customers to choose from (all of them move with "all").
MAX_LISTED = 500
# Customers named in one transfer (more move with "all customers").
MAX_TRANSFER = 5000


def _may_act_for(user: str) -> None:
	"""Managers act for anyone; a salesperson for themselves only."""
	if user != frappe.session.user and not is_manager():
		frappe.throw(_("Only a manager may transfer another user's customers"), frappe.PermissionError)


@api_method()
def owner_customers(from_owner: str) -> dict:
	"""What the wizard shows: how many customers `from_owner` owns now, and (the first MAX_LISTED of)
	them to choose from."""
	if len(from_owner) > args.MAX_NAME or not frappe.db.exists("User", from_owner):
		frappe.throw(_("Choose the user whose customers are transferred"), PoolRuleError)
	_may_act_for(from_owner)
	count = frappe.db.count("Pool Customer", {"owned_by": from_owner, "status": ("in", HAS_OWNER)})
	customers = frappe.get_all(
		"Pool Customer",
		filters={"owned_by": from_owner, "status": ("in", HAS_OWNER)},
		fields=["name", "customer_name", "status", "pool"],
		order_by="customer_name, name",
		limit=MAX_LISTED,
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
	from_owner = args.existing("User", from_owner, "User")
	to_pool, all_customers = args.flag(to_pool, "to_pool"), args.flag(all_customers, "all_customers")
	override_cap = args.flag(override_cap, "override_cap")
	if not to_pool and to_owner:
		to_owner = args.existing("User", to_owner, "User")
	reason = args.text(reason, "Reason")
	handover_notes = args.rich_text(handover_notes, "Hand-over Notes")
	_may_act_for(from_owner)
	names = _names(pool_customers) if not all_customers else []
	for name in names:
		if frappe.db.get_value("Pool Customer", args.pool_customer(name), "owned_by") != from_owner:
			frappe.throw(
				_("{0} is not owned by {1}").format(name, frappe.utils.get_fullname(from_owner)),
				PoolRuleError,
			)
	doc = frappe.get_doc(
		{
			"doctype": transfers.DOCTYPE,
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
		frappe.throw(_("Choose the customers to transfer, or all of them"), PoolRuleError)
	return args.names(values, "Pool Customers", MAX_TRANSFER)


@api_method(methods=["POST"])
def resolve_conflict(
	conflict: str, resolution: str, note: str | None = None, access: str | None = None
) -> dict:
	"""撞单: a manager keeps the owner, transfers the customer to the claimant, or adds the claimant
	as a collaborator."""
	conflict = args.name_of(conflict, "Ownership Conflict")
	note = args.text(note, "Resolution Note")
	doc = conflicts.resolve(conflict, resolution, note, access or READ_WRITE)
	return {"name": doc.name, "status": doc.status, "resolution": doc.resolution}
