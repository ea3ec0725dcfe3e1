"""Who is who: the roles crm_pool works with (one new role, Pool Manager, and ERPNext's sales roles)
and the one answer to "is this user a manager / a salesperson / may they manage this pool"."""

import frappe

POOL_MANAGER = "Pool Manager"  # 公海管理员: runs pools, intake review, rules, allocation, recycling
SALES_MANAGER = "Sales Manager"  # 销售经理: approves, allocates, sees the team's data
SALES_USER = "Sales User"  # 销售: claims, follows up, releases, shares leads
SYSTEM_MANAGER = "System Manager"

MANAGER_ROLES = (POOL_MANAGER, SALES_MANAGER, SYSTEM_MANAGER)
# Who sells: a Sales User, or a manager (managers may own customers too).
SELLING_ROLES = (SALES_USER, *MANAGER_ROLES)
# Accounts that are nobody's salesperson: they never own, claim or compete for a customer.
NOT_A_PERSON = ("Administrator", "Guest")


def is_manager(user: str | None = None) -> bool:
	"""Pool Manager, Sales Manager and System Manager (and Administrator) manage every pool."""
	user = user or frappe.session.user
	return user == "Administrator" or bool(set(frappe.get_roles(user)) & set(MANAGER_ROLES))


def is_salesperson(user: str | None = None) -> bool:
	"""Sells: a Sales User or a manager (who may own, receive and claim customers)."""
	user = user or frappe.session.user
	return bool(set(frappe.get_roles(user)) & set(SELLING_ROLES))


def competes(user: str | None) -> bool:
	"""A salesperson who competes for customers (撞单): a Sales User who is not a manager (managers
	act on their team's customers by right)."""
	return bool(user) and user not in NOT_A_PERSON and is_salesperson(user) and not is_manager(user)


def selling_users(users: list[str]) -> dict[str, str]:
	"""{user: full name} of the enabled people among `users` who sell (`is_salesperson`)."""
	selling = _holders(SELLING_ROLES, [["parent", "in", users or [""]]])
	filters = [["name", "in", selling or [""]], ["enabled", "=", 1], ["name", "not in", NOT_A_PERSON]]
	return dict(frappe.get_all("User", filters=filters, fields=["name", "full_name"], as_list=True))


def users_with_role(*roles: str) -> list[str]:
	"""Enabled desk users (not Administrator) holding any of `roles`, by name."""
	filters = [["name", "in", _holders(roles) or [""]], ["enabled", "=", 1], ["name", "not in", NOT_A_PERSON]]
	filters.append(["user_type", "=", "System User"])
	return frappe.get_all("User", filters=filters, order_by="name", pluck="name")


def _holders(roles, filters: list | None = None) -> list[str]:
	filters = [["parenttype", "=", "User"], ["role", "in", roles], *(filters or [])]
	return frappe.get_all("Has Role", filters=filters, pluck="parent", distinct=True)


def is_pool_admin(pool: str, user: str | None = None) -> bool:
	"""Listed as an admin of `pool` (plain SQL: a refused claim asks, to mask the owner's name or not;
	`frappe.db.exists` with filters built its query through sqlparse, a tenth of that request)."""
	values = {"pool": pool, "user": user or frappe.session.user}
	return bool(frappe.db.sql(f"SELECT {pool_admin_sql('%(pool)s')}", values)[0][0])


def pool_admin_sql(pool_sql: str) -> str:
	"""`is_pool_admin` as an SQL expression over %(user)s and `pool_sql` (a parameter, or a column of
	the statement it is part of: a claim's first read asks it with the customer's row)."""
	return f"""EXISTS (SELECT 1 FROM `tabCustomer Pool Member` admin WHERE admin.parent = {pool_sql}
		AND admin.parenttype = 'Customer Pool' AND admin.user = %(user)s AND admin.is_admin = 1)"""


def can_manage(pool: str, user: str | None = None) -> bool:
	"""Managers, and the admins listed on the pool, may assign, lock and unlock its customers."""
	return is_manager(user) or is_pool_admin(pool, user)


def full_name(user: str) -> str:
	"""Frappe's `get_fullname` (first and last name, else the user's id), sharing its per-request
	memo, in plain SQL: `frappe.db.get_value` parses the field names with sqlparse (8% of a claim's
	request under py-spy), frappe.qb builds the query anew (a third of what the read costs)."""
	known = _full_names()
	if not known.get(user):
		row = frappe.db.sql(f"SELECT {full_name_sql('%(user)s')}", {"user": user})
		remember_full_name(user, row[0][0] if row else None)
	return known[user]


def full_name_sql(user_sql: str) -> str:
	"""`full_name` as an SQL expression over `user_sql` (a parameter or a column): first and last
	name joined by a space, the empty ones left out (as Python's `" ".join(filter(None, …))`); '' for
	a user without a name, NULL for no such user. A claim's first read asks it with the customer's row."""
	return f"""(SELECT CONCAT_WS(' ', NULLIF(u.first_name, ''), NULLIF(u.last_name, ''))
		FROM `tabUser` u WHERE u.name = {user_sql})"""


def remember_full_name(user: str, name: str | None) -> None:
	"""Keep `user`'s full name as read by `full_name_sql` (None or '': their id) in the per-request
	memo `full_name` and Frappe's `get_fullname` read."""
	_full_names()[user] = name or user


def _full_names() -> dict:
	known = getattr(frappe.local, "fullnames", None)
	if known is None:
		known = frappe.local.fullnames = {}
	return known
