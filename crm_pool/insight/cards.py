"""The workspace's number cards that a "Document Type" card cannot count: a ratio or a join, or a
count whose meaning depends on the viewer. Each is a whitelisted method for a "Custom" Number Card
(`frappe.call(method, {filters})`); it answers {value, fieldtype, route, route_options}.

The counts go through `insight.scope` (the viewer's record-level access). Raw SQL: the permission
conditions are SQL (as Frappe's permission_query_conditions), one aggregate query per card.

Each card reads from the site's MariaDB replica when it has one (`read_from_replica` in the site's
config, `frappe.read_only`; scripts/replica): nothing here writes.
"""

from __future__ import annotations

import frappe
from frappe.utils import flt, get_first_day, getdate, nowdate

from crm_pool.core.status import ASSIGN, CLAIM, CONVERT
from crm_pool.insight.scope import POOL_LOG, check_read, log_condition, pool_filter
from crm_pool.sharing.model import REWARD, SUBMITTED
from crm_pool.sharing.payout import DECIDER_ROLES


def _card(value, fieldtype: str, route: list[str], route_options: dict | None = None) -> dict:
	return {"value": value, "fieldtype": fieldtype, "route": route, "route_options": route_options or {}}


def count_claims(user: str, day: str, filters=None) -> int:
	"""Claims (Pool Log "Claim") on `day` that `user` counts: a salesperson their own."""
	pool_sql, values = pool_filter(filters, POOL_LOG)
	return frappe.db.sql(
		f"""SELECT COUNT(*) FROM `tabPool Log`
		WHERE `tabPool Log`.action = %(claim)s AND `tabPool Log`.at >= %(day)s
			AND `tabPool Log`.at < DATE_ADD(%(day)s, INTERVAL 1 DAY)
			AND {log_condition(user)}{pool_sql}""",
		{"claim": CLAIM, "day": day, **values},
	)[0][0]


@frappe.whitelist()
@frappe.read_only()
def claims_today(filters=None) -> dict:
	"""Number card "Claims Today" (今日领取)."""
	check_read(POOL_LOG)
	today = nowdate()
	return _card(
		count_claims(frappe.session.user, today, filters),
		"Int",
		["List", POOL_LOG],
		{"action": CLAIM, "at": [">=", today]},
	)


def conversion_rate(user: str, since: str, filters=None) -> tuple[int, int, float]:
	"""(taken, converted, rate %) of the customers claimed or allocated (Pool Log "Claim", "Assign")
	since `since` that `user` counts, converted (Pool Log "Convert") since by the one who took them."""
	pool_sql, values = pool_filter(filters, POOL_LOG)
	taken, converted = frappe.db.sql(
		f"""SELECT COUNT(DISTINCT `tabPool Log`.pool_customer), COUNT(DISTINCT c.pool_customer)
		FROM `tabPool Log`
		LEFT JOIN `tabPool Log` c ON c.pool_customer = `tabPool Log`.pool_customer
			AND c.action = %(convert)s AND c.at >= `tabPool Log`.at
			AND c.to_user = `tabPool Log`.to_user
		WHERE `tabPool Log`.action IN %(taken)s AND `tabPool Log`.at >= %(since)s
			AND {log_condition(user)}{pool_sql}""",
		{"convert": CONVERT, "taken": (CLAIM, ASSIGN), "since": since, **values},
	)[0]
	return taken, converted, flt(100.0 * converted / taken, 1) if taken else 0.0


@frappe.whitelist()
@frappe.read_only()
def conversion_rate_this_month(filters=None) -> dict:
	"""Number card "Conversion Rate This Month" (本月转化率): converted / (claimed + allocated)."""
	check_read(POOL_LOG)
	since = str(get_first_day(getdate(nowdate())))
	_taken, _converted, rate = conversion_rate(frappe.session.user, since, filters)
	return _card(rate, "Percent", ["List", POOL_LOG], {"action": CONVERT, "at": [">=", since]})


def count_rewards_to_approve(user: str) -> int:
	"""Referral Rewards waiting in "Submitted" for `user`'s decision: a decider (Sales Manager, Pool
	Manager, System Manager) decides the rewards they may read, never their own (as the Workflow's
	check in `sharing.payout`)."""
	if user != "Administrator" and not set(frappe.get_roles(user)) & set(DECIDER_ROLES):
		return 0
	rows = frappe.get_list(
		REWARD,
		filters={"workflow_state": SUBMITTED, "sharer": ["!=", user]},
		fields=["count(*) as n"],
		user=user,
	)
	return rows[0].n if rows else 0


@frappe.whitelist()
@frappe.read_only()
def rewards_to_approve(filters=None) -> dict:
	"""Number card "Rewards to Approve" (待审批奖励)."""
	check_read(REWARD)
	return _card(
		count_rewards_to_approve(frappe.session.user),
		"Int",
		["List", REWARD],
		{"workflow_state": SUBMITTED},
	)
