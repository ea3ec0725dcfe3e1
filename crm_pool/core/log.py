"""Pool Log (客户归属日志): append-only history of every ownership change.

Write entries only through these functions: `log_change` for one change, `insert_logs_select` for a
set-based change (one INSERT ... SELECT over the affected pool customers).
"""

from __future__ import annotations

import frappe
from frappe.utils import now_datetime

from crm_pool.core.normalize import clean_text


def log_change(
	pc: str | frappe._dict,
	action: str,
	*,
	from_user: str | None = None,
	to_user: str | None = None,
	reason: str | None = None,
	rule: str | None = None,
	at=None,
) -> str:
	"""Append one entry about the pool customer `pc` (its name, or a row with its pool and
	customer_name); who did it is the session user. Returns the entry's name."""
	if isinstance(pc, str):
		pc = frappe.db.get_value("Pool Customer", pc, ["name", "pool", "customer_name"], as_dict=True)
	doc = frappe.get_doc(
		{
			"doctype": "Pool Log",
			"pool_customer": pc.name,
			"customer_name": pc.customer_name,
			"action": action,
			"from_user": from_user,
			"to_user": to_user,
			"pool": pc.pool,
			"by_user": frappe.session.user,
			"at": at or now_datetime(),
			"rule": rule,
			"reason": clean_text(reason),
		}
	)
	doc.insert(ignore_permissions=True)
	return doc.name


def insert_logs_select(
	action: str,
	where_sql: str,
	values: dict,
	*,
	from_user_sql: str = "pc.owned_by",
	to_user_sql: str = "NULL",
	rule_sql: str = "NULL",
	reason: str | None = None,
	reason_sql: str | None = None,
	join_sql: str = "",
) -> int:
	"""Append one entry per Pool Customer `pc` matching `where_sql`, in one INSERT ... SELECT.

	Call it before the UPDATE that changes the rows (so `pc.owned_by` is still the old owner).
	`where_sql` and the *_sql expressions are trusted SQL written in this app; user input goes
	into `values` only. `join_sql` joins further tables (e.g. a work table holding each row's new
	owner and reason) for the expressions to use; `reason_sql`, when given, replaces `reason`.
	Returns the number of entries written.
	"""
	params = dict(
		values, _action=action, _by=frappe.session.user, _at=now_datetime(), _reason=clean_text(reason)
	)
	frappe.db.sql(
		f"""
		INSERT INTO `tabPool Log`
			(name, creation, modified, owner, modified_by, docstatus, idx,
			pool_customer, customer_name, action, from_user, to_user, pool, by_user, at, rule, reason)
		SELECT
			LEFT(MD5(CONCAT(pc.name, UUID())), 12), %(_at)s, %(_at)s, %(_by)s, %(_by)s, 0, 0,
			pc.name, pc.customer_name, %(_action)s, {from_user_sql}, {to_user_sql}, pc.pool, %(_by)s,
			%(_at)s, {rule_sql}, {reason_sql or "%(_reason)s"}
		FROM `tabPool Customer` pc {join_sql}
		WHERE {where_sql}
		""",
		params,
	)
	return frappe.db.sql("SELECT ROW_COUNT()")[0][0]
