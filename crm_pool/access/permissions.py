"""Record-level access (SPEC §7), the same for list, form, report, search, export and REST:
`permission_query_conditions` narrows every list query, `has_permission` every single record.

Scopes, by the user's roles:
- all: Administrator, System Manager, Pool Manager; and, for Lead and Customer only, the roles whose
  ERPNext work needs every customer (accounts, stock, purchasing, maintenance);
- team: Sales Manager — the customers of the pools the manager belongs to, plus their own;
- own: Sales User — the customers they own or collaborate on, the Leads/Customers they created while
  nobody owns them and they are not in the pool (a lead waiting for review), and, for Pool Customer
  only, the in-pool customers of their pools (whose contact fields are masked: Pool Customer holds
  masked copies only; full values stay on the Lead/Customer, which the user cannot read until they
  own it). Other desk users (System Users without these roles) get the same scope on every doctype
  but Pool Customer: each of them has ERPNext's "Desk User" role, which reads every Lead;
- none of those (website users; any user on Pool Customer without a sales role): role permissions
  alone decide (this module adds nothing).

A sales user changes (writes) only the Leads/Customers they own or created (while unowned and out of
the pool), or collaborate on with Read/Write access; a Read collaborator only reads
(`party_change_condition`); the exclusive manager (专属经理) of a customer counts as a Read/Write
collaborator; only the owner shares. Access ends with ownership: the creator's access
ends once the party has an owner or enters the pool, and Frappe's shares and assignments of a party
are removed whenever its owner changes (`core.mirror.revoke_access_select`). A share cannot open a party
nobody owns: Frappe grants on a share even when `has_permission` says no, so such shares are refused
when made (`guard_share`) and removed when a party loses its owner.
"""

from __future__ import annotations

import frappe
from frappe import _

from crm_pool.core.errors import ShareRefusedError
from crm_pool.core.roles import is_manager
from crm_pool.core.settings import user_pools
from crm_pool.core.status import HAS_OWNER, IN_POOL, READ_WRITE

ALL, TEAM, OWN, UNRESTRICTED = "all", "team", "own", "unrestricted"
ALL_ROLES = {"System Manager", "Pool Manager"}
# Work on Customers/Leads that is not selling: these roles keep ERPNext's own access.
PARTY_ROLES = {
	"Accounts User",
	"Accounts Manager",
	"Stock User",
	"Stock Manager",
	"Purchase User",
	"Purchase Manager",
	"Maintenance User",
	"Maintenance Manager",
}


def scope(user: str, doctype: str) -> str:
	if user == "Administrator":
		return ALL
	roles = set(frappe.get_roles(user))
	if roles & ALL_ROLES or (doctype != "Pool Customer" and roles & PARTY_ROLES):
		return ALL
	if "Sales Manager" in roles:
		return TEAM
	if "Sales User" in roles:
		return OWN
	if doctype != "Pool Customer" and frappe.get_cached_value("User", user, "user_type") == "System User":
		# Any other staff: every desk user has ERPNext's "Desk User" role, which reads every Lead.
		return OWN
	return UNRESTRICTED


def _in(values: list[str]) -> str:
	return ", ".join(frappe.db.escape(v) for v in values) or "''"


def _collaborating(user: str) -> str:
	return (
		"SELECT c.parent FROM `tabPool Customer Collaborator` c "
		f"WHERE c.parenttype = 'Pool Customer' AND c.user = {frappe.db.escape(user)}"
	)


def pool_customer_condition(user: str, *, in_pool: bool = True) -> str:
	"""The Pool Customers `user` may see, as SQL on `tabPool Customer`. Without `in_pool`: only those
	whose data the user may read (a sales user's in-pool customers of their pools show masked copies
	on Pool Customer only; records about a customer, such as its return visits, stay closed)."""
	where = scope(user, "Pool Customer")
	if where in (ALL, UNRESTRICTED):
		return ""
	u = frappe.db.escape(user)
	own = (
		f"`tabPool Customer`.owned_by = {u} OR `tabPool Customer`.exclusive_manager = {u} "
		f"OR `tabPool Customer`.name IN ({_collaborating(user)})"
	)
	pools = _in(user_pools(user))
	if where == TEAM:
		return f"({own} OR `tabPool Customer`.pool IN ({pools}))"
	if not in_pool:
		return f"({own})"
	return f"({own} OR (`tabPool Customer`.status = '{IN_POOL}' AND `tabPool Customer`.pool IN ({pools})))"


def pool_customer_parts(user: str, *, in_pool: bool = True) -> dict[str, str] | None:
	"""`pool_customer_condition` as disjoint conditions on `tabPool Customer` whose union is the same
	set, by name: "pools" (the customers of their pools a Sales Manager sees, the in-pool ones a
	sales user sees), then "owned", "managed" (exclusive manager) and "collaborating", each without
	the ones before. Each is a range of an index of its own: a report counting per part and adding
	(UNION ALL) reads those ranges, where the OR makes MariaDB read every customer. None: the user
	sees every customer."""
	where = scope(user, "Pool Customer")
	if where in (ALL, UNRESTRICTED):
		return None
	u, t = frappe.db.escape(user), "`tabPool Customer`."
	pools = _in(user_pools(user))
	conditions = {}
	if where == TEAM:
		conditions["pools"] = f"{t}pool IN ({pools})"
	elif in_pool:
		conditions["pools"] = f"({t}status = '{IN_POOL}' AND {t}pool IN ({pools}))"
	conditions["owned"] = f"{t}owned_by = {u}"
	conditions["managed"] = f"{t}exclusive_manager = {u}"
	conditions["collaborating"] = f"{t}name IN ({_collaborating(user)})"
	parts, before = {}, []
	for name, condition in conditions.items():
		parts[name] = " AND ".join([f"({condition})", *(f"({b}) IS NOT TRUE" for b in before)])
		before.append(condition)
	return parts


def party_condition(doctype: str, user: str) -> str:
	"""The Leads or Customers `user` may see, as SQL on `tabLead` / `tabCustomer`."""
	where = scope(user, doctype)
	if where in (ALL, UNRESTRICTED):
		return ""
	table = f"`tab{doctype}`"
	owner_field = "lead_owner" if doctype == "Lead" else "account_manager"
	link = "lead" if doctype == "Lead" else "customer"
	u = frappe.db.escape(user)
	visible_pcs = f"SELECT pc.{link} FROM `tabPool Customer` pc WHERE pc.{link} IS NOT NULL AND "
	own = (
		f"{table}.{owner_field} = {u} OR {creator_condition(doctype, user)} OR {table}.name IN "
		f"({visible_pcs} (pc.name IN ({_collaborating(user)}) OR pc.exclusive_manager = {u}))"
	)
	if where == TEAM:
		return f"({own} OR {table}.name IN ({visible_pcs} pc.pool IN ({_in(user_pools(user))})))"
	return f"({own})"


def creator_condition(doctype: str, user: str) -> str:
	"""The Leads or Customers `user` created that nobody owns yet and that are not in the pool (a
	draft or a lead waiting for review), as SQL: the creator's access ends with ownership."""
	table = f"`tab{doctype}`"
	link = "lead" if doctype == "Lead" else "customer"
	return (
		f"({table}.owner = {frappe.db.escape(user)} AND NOT EXISTS (SELECT 1 FROM `tabPool Customer` pcc "
		f"WHERE pcc.{link} = {table}.name AND (pcc.owned_by IS NOT NULL OR pcc.status = '{IN_POOL}')))"
	)


def pool_customer_query(user: str | None = None) -> str:
	return pool_customer_condition(user or frappe.session.user)


def lead_query(user: str | None = None) -> str:
	return party_condition("Lead", user or frappe.session.user)


def customer_query(user: str | None = None) -> str:
	return party_condition("Customer", user or frappe.session.user)


def pool_log_query(user: str | None = None) -> str:
	"""Pool Log entries of the pool customers the user may see."""
	condition = pool_customer_condition(user or frappe.session.user)
	if not condition:
		return ""
	return f"`tabPool Log`.pool_customer IN (SELECT `tabPool Customer`.name FROM `tabPool Customer` WHERE {condition})"


def _visible(doctype: str, name: str, condition: str) -> bool:
	if not condition:
		return True
	table = f"`tab{doctype}`"
	# the permission condition is SQL (as permission_query_conditions)
	return bool(frappe.db.sql(f"SELECT 1 FROM {table} WHERE {table}.name = %s AND {condition}", name))


def has_pool_customer_permission(doc, ptype: str | None = None, user: str | None = None, debug=False):
	user = user or frappe.session.user
	if doc.is_new() or _visible("Pool Customer", doc.name, pool_customer_condition(user)):
		return None  # role permissions decide
	return False


def has_party_permission(doc, ptype: str | None = None, user: str | None = None, debug=False):
	user = user or frappe.session.user
	if doc.is_new():
		return None
	if not _visible(doc.doctype, doc.name, party_condition(doc.doctype, user)):
		return False
	if ptype == "share" and scope(user, doc.doctype) == OWN:
		# only the owner shares (collaborators are the pool's way to work together)
		owner_field = "lead_owner" if doc.doctype == "Lead" else "account_manager"
		return None if doc.get(owner_field) == user else False
	if ptype in CHANGE_PTYPES and scope(user, doc.doctype) == OWN:
		may_change = _visible(doc.doctype, doc.name, party_change_condition(doc.doctype, user, ptype))
		return None if may_change else False
	return None


# What a sales user may do to a Lead/Customer they can see beyond reading it: write (and submit,
# cancel) if they own it, created it (while unowned and out of the pool), or collaborate on it with Read/Write access; delete only if
# they own or created it. A Read collaborator reads.
CHANGE_PTYPES = ("write", "submit", "cancel", "amend", "delete")


def party_change_condition(doctype: str, user: str, ptype: str) -> str:
	"""The Leads or Customers a sales user may change (`ptype`), as SQL on `tabLead` / `tabCustomer`."""
	table = f"`tab{doctype}`"
	owner_field = "lead_owner" if doctype == "Lead" else "account_manager"
	link = "lead" if doctype == "Lead" else "customer"
	u = frappe.db.escape(user)
	own = f"{table}.{owner_field} = {u} OR {creator_condition(doctype, user)}"
	if ptype == "delete":
		return f"({own})"
	writers = (
		f"SELECT pc.{link} FROM `tabPool Customer` pc WHERE pc.{link} IS NOT NULL AND (pc.name IN ("
		"SELECT c.parent FROM `tabPool Customer Collaborator` c WHERE c.parenttype = 'Pool Customer' "
		f"AND c.user = {u} AND c.access = '{READ_WRITE}') OR pc.exclusive_manager = {u})"
	)
	return f"({own} OR {table}.name IN ({writers}))"


def has_pool_log_permission(doc, ptype: str | None = None, user: str | None = None, debug=False):
	if ptype not in (None, "read", "select", "print", "email", "report", "export"):
		return False  # append-only: entries are written by crm_pool's own code, never through the API
	user = user or frappe.session.user
	condition = pool_customer_condition(user)
	if not condition or (doc.pool_customer and _visible("Pool Customer", doc.pool_customer, condition)):
		return None
	return False


def guard_share(doc, method=None) -> None:
	"""DocShare validate. Frappe grants access on a share even when this app's `has_permission` says
	no, so a share must never open what the pool keeps closed: pool customers are not shared
	(collaborators are), nor are Leads/Customers nobody owns (in the pool, waiting for review,
	invalid), nor any of them with everyone. An owner's share ends with their ownership
	(`core.mirror.revoke_access_select`)."""
	if doc.share_doctype == "Pool Customer":
		frappe.throw(
			_("Pool customers are not shared: the owner or a manager adds a collaborator"), ShareRefusedError
		)
	if doc.share_doctype not in ("Lead", "Customer"):
		return
	link = "lead" if doc.share_doctype == "Lead" else "customer"
	status = frappe.db.get_value("Pool Customer", {link: doc.share_name}, "status")
	if not status:
		return  # not a pool customer: Frappe's rules
	if doc.everyone:
		frappe.throw(
			_("{0} {1} cannot be shared with everyone: add collaborators instead").format(
				_(doc.share_doctype), doc.share_name
			),
			ShareRefusedError,
		)
	if status not in HAS_OWNER:
		frappe.throw(
			_("{0} {1} has no owner and cannot be shared: it is claimed or assigned first").format(
				_(doc.share_doctype), doc.share_name
			),
			ShareRefusedError,
		)


# --- grading: Customer Grade Log and Customer Grade Override follow their pool customer ------------


def _of_visible_pool_customer(doctype: str, user: str) -> str:
	condition = pool_customer_condition(user)
	if not condition:
		return ""
	return f"`tab{doctype}`.pool_customer IN (SELECT `tabPool Customer`.name FROM `tabPool Customer` WHERE {condition})"


def grade_log_query(user: str | None = None) -> str:
	"""Customer Grade Log rows of the pool customers the user may see."""
	return _of_visible_pool_customer("Customer Grade Log", user or frappe.session.user)


def grade_override_query(user: str | None = None) -> str:
	"""Customer Grade Overrides of the pool customers the user may see."""
	return _of_visible_pool_customer("Customer Grade Override", user or frappe.session.user)


def has_grade_log_permission(doc, ptype: str | None = None, user: str | None = None, debug=False):
	"""Append-only (written by the regrade and by approved overrides), readable with its customer."""
	return has_pool_log_permission(doc, ptype, user, debug)


def has_grade_override_permission(doc, ptype: str | None = None, user: str | None = None, debug=False):
	"""An override is seen only with its pool customer, and changed by a salesperson only when they
	asked for it (a new one: role permissions, then the controller checks the customer)."""
	user = user or frappe.session.user
	condition = pool_customer_condition(user)
	if doc.is_new() or not condition:
		return None
	if not (doc.pool_customer and _visible("Pool Customer", doc.pool_customer, condition)):
		return False
	if ptype in CHANGE_PTYPES and doc.get("requester") not in (None, user) and not is_manager(user):
		return False  # a salesperson changes only their own request (managers decide the others)
	return None
