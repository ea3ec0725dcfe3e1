"""The reports of sharing (SPEC §5): "Referral Reward Summary" (推荐奖励汇总) for managers and accounts,
"My Shares and Rewards" (我的共享与奖励) for every employee, about themselves only.

Neither shows a customer's contact data: the summary has no customer at all; "My Shares and Rewards"
shows the customer's name of a converted share (a Data column: the sharer may not read the Customer
itself, which belongs to the other line's salesperson), never its contact person, mobile or address.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import add_months, flt, get_first_day, getdate
from frappe.utils.nestedset import get_descendants_of

from crm_pool.core.errors import InvalidArgument
from crm_pool.sharing.model import (
	CONVERTED,
	CUSTOMER_SHARE,
	PAID,
	REWARD,
	REWARDED,
)


def _month_range(filters: dict) -> tuple:
	"""[first day of from_month, first day after to_month): the months of the report (default: this
	year so far)."""
	today = getdate()
	start = get_first_day(filters.get("from_month") or today.replace(month=1, day=1))
	end = add_months(get_first_day(filters.get("to_month") or today), 1)
	if start >= end:
		frappe.throw(_("The first month must not be after the last month"), InvalidArgument)
	return start, end


def _line_names(business_line: str | None) -> list[str] | None:
	"""The business line and every Item Group under it (a line is a subtree)."""
	if not business_line:
		return None
	if not frappe.db.exists("Item Group", business_line):
		frappe.throw(_("Business line {0} does not exist").format(business_line), InvalidArgument)
	return [business_line, *get_descendants_of("Item Group", business_line, ignore_permissions=True)]


# --- Referral Reward Summary -----------------------------------------------------------------------


def summary_columns() -> list[dict]:
	currency = {"fieldtype": "Currency", "width": 120}
	return [
		{
			"fieldname": "business_line",
			"label": _("Business Line"),
			"fieldtype": "Link",
			"options": "Item Group",
			"width": 150,
		},
		{"fieldname": "sharer", "label": _("Sharer"), "fieldtype": "Link", "options": "User", "width": 200},
		{"fieldname": "sharer_name", "label": _("Sharer Name"), "fieldtype": "Data", "width": 120},
		{"fieldname": "month", "label": _("Month"), "fieldtype": "Data", "width": 90},
		{"fieldname": "shares", "label": _("Shares"), "fieldtype": "Int", "width": 80},
		{"fieldname": "converted", "label": _("Converted Shares"), "fieldtype": "Int", "width": 120},
		{"fieldname": "rewards", "label": _("Rewards"), "fieldtype": "Int", "width": 80},
		{"fieldname": "reward", "label": _("Reward Amount"), **currency},
		{"fieldname": "clawback", "label": _("Clawback Amount"), **currency},
		{"fieldname": "net", "label": _("Net Amount"), **currency},
		{"fieldname": "paid", "label": _("Paid"), **currency},
	]


def summary_rows(filters: dict) -> list[dict]:
	"""Rows by business line, sharer and month: the shares made that month (and how many of them are
	converted or rewarded by now), the rewards of periods starting that month, their reward, clawback
	and net amounts, and the net amount paid. Raw SQL: one GROUP BY over both tables (UNION ALL),
	however many shares and rewards there are."""
	start, end = _month_range(filters)
	values = {
		"start": start,
		"end": end,
		"converted": (CONVERTED, REWARDED),
		"paid": PAID,
		"company": filters.get("company"),
		"sharer": filters.get("sharer"),
		"state": filters.get("state"),
		"lines": _line_names(filters.get("business_line")),
	}
	share_where = ["s.creation >= %(start)s", "s.creation < %(end)s"]
	reward_where = ["r.period_start >= %(start)s", "r.period_start < %(end)s"]
	if values["sharer"]:
		share_where.append("s.sharer = %(sharer)s")
		reward_where.append("r.sharer = %(sharer)s")
	if values["lines"] is not None:
		share_where.append("s.business_line IN %(lines)s")
		reward_where.append("r.business_line IN %(lines)s")
	if values["company"]:
		reward_where.append("r.company = %(company)s")
	if values["state"]:
		reward_where.append("r.workflow_state = %(state)s")
		share_where.append("1 = 0")  # a reward's state: only rewards are counted
	return frappe.db.sql(
		f"""
		SELECT t.business_line, t.sharer, u.full_name AS sharer_name, t.month,
			SUM(t.shares) AS shares, SUM(t.converted) AS converted, SUM(t.rewards) AS rewards,
			SUM(t.reward) AS reward, SUM(t.clawback) AS clawback, SUM(t.net) AS net, SUM(t.paid) AS paid
		FROM (
			SELECT s.business_line, s.sharer, DATE_FORMAT(s.creation, '%%Y-%%m') AS month,
				1 AS shares, IF(s.status IN %(converted)s, 1, 0) AS converted, 0 AS rewards,
				0 AS reward, 0 AS clawback, 0 AS net, 0 AS paid
			FROM `tab{CUSTOMER_SHARE}` s WHERE {" AND ".join(share_where)}
			UNION ALL
			SELECT r.business_line, r.sharer, DATE_FORMAT(r.period_start, '%%Y-%%m'),
				0, 0, 1, r.reward_amount, r.clawback_amount, r.net_amount,
				IF(r.workflow_state = %(paid)s, r.net_amount, 0)
			FROM `tab{REWARD}` r WHERE {" AND ".join(reward_where)}
		) t
		LEFT JOIN `tabUser` u ON u.name = t.sharer
		GROUP BY t.business_line, t.sharer, u.full_name, t.month
		ORDER BY t.month, t.business_line, t.sharer
		""",
		values,
		as_dict=True,
	)


def summary_chart(rows: list[dict]) -> dict | None:
	"""Net reward by month (a bar per month of the rows)."""
	months: dict[str, float] = {}
	for row in rows:
		months[row["month"]] = months.get(row["month"], 0.0) + flt(row["net"])
	if not months:
		return None
	labels = sorted(months)
	return {
		"data": {
			"labels": labels,
			"datasets": [{"name": _("Net Amount"), "values": [months[m] for m in labels]}],
		},
		"type": "bar",
		"fieldtype": "Currency",
	}


def execute_summary(filters: dict | None = None):
	"""Referral Reward Summary: columns, rows, no message, a chart of the net amount by month."""
	rows = summary_rows(frappe._dict(filters or {}))
	return summary_columns(), rows, None, summary_chart(rows)


# --- My Shares and Rewards -----------------------------------------------------------------------


def my_columns() -> list[dict]:
	return [
		{"fieldname": "kind", "label": _("Type"), "fieldtype": "Data", "width": 90},
		{
			"fieldname": "document",
			"label": _("Document"),
			"fieldtype": "Dynamic Link",
			"options": "doctype",
			"width": 150,
		},
		{"fieldname": "doctype", "label": _("Document Type"), "fieldtype": "Data", "hidden": 1},
		{"fieldname": "date", "label": _("Date"), "fieldtype": "Date", "width": 100},
		{
			"fieldname": "business_line",
			"label": _("Business Line"),
			"fieldtype": "Link",
			"options": "Item Group",
			"width": 140,
		},
		{"fieldname": "status", "label": _("Status"), "fieldtype": "Data", "width": 110},
		{"fieldname": "customer_name", "label": _("Customer Name"), "fieldtype": "Data", "width": 200},
		{"fieldname": "net_amount", "label": _("Net Amount"), "fieldtype": "Currency", "width": 120},
		{
			"fieldname": "journal_entry",
			"label": _("Journal Entry"),
			"fieldtype": "Link",
			"options": "Journal Entry",
			"width": 140,
		},
	]


def my_rows(user: str, filters: dict) -> list[dict]:
	"""The user's shares (the customer's name only once converted: the company name they shared is
	theirs anyway; never contact data) and their rewards, newest first within each."""
	start, end = _month_range(filters)
	shares = frappe.get_all(
		CUSTOMER_SHARE,
		filters=[["sharer", "=", user], ["creation", ">=", start], ["creation", "<", end]],
		fields=["name", "creation", "business_line", "status", "company_name", "customer"],
		order_by="creation desc",
		ignore_permissions=True,  # the session user's own shares, whatever the share's access rules
	)
	names = dict(
		frappe.get_all(
			"Customer",
			filters={"name": ("in", [s.customer for s in shares if s.customer] or [""])},
			fields=["name", "customer_name"],
			as_list=True,
			ignore_permissions=True,  # the name only, of the customer the sharer brought
		)
	)
	rows = [
		{
			"kind": _("Share"),
			"doctype": CUSTOMER_SHARE,
			"document": s.name,
			"date": getdate(s.creation),
			"business_line": s.business_line,
			"status": _(s.status),
			"customer_name": names.get(s.customer) or s.company_name,
		}
		for s in shares
	]
	rewards = frappe.get_all(
		REWARD,
		filters=[["sharer", "=", user], ["period_start", ">=", start], ["period_start", "<", end]],
		fields=["name", "period_start", "business_line", "workflow_state", "net_amount", "journal_entry"],
		order_by="period_start desc",
		ignore_permissions=True,
	)
	rows += [
		{
			"kind": _("Reward"),
			"doctype": REWARD,
			"document": r.name,
			"date": r.period_start,
			"business_line": r.business_line,
			"status": _(r.workflow_state or ""),
			"net_amount": r.net_amount,
			"journal_entry": r.journal_entry,
		}
		for r in rewards
	]
	return rows


def my_summary(rows: list[dict]) -> list[dict]:
	"""Shares, converted shares, rewards' net and paid amounts of the user."""
	shares = [r for r in rows if r["doctype"] == CUSTOMER_SHARE]
	rewards = [r for r in rows if r["doctype"] == REWARD]
	converted = {_(CONVERTED), _(REWARDED)}
	return [
		{"label": _("Shares"), "value": len(shares), "datatype": "Int"},
		{
			"label": _("Converted Shares"),
			"value": sum(r["status"] in converted for r in shares),
			"datatype": "Int",
		},
		{
			"label": _("Net Amount"),
			"value": sum(flt(r["net_amount"]) for r in rewards),
			"datatype": "Currency",
		},
		{
			"label": _("Paid"),
			"value": sum(flt(r["net_amount"]) for r in rewards if r["status"] == _(PAID)),
			"datatype": "Currency",
		},
	]


def execute_mine(filters: dict | None = None):
	"""My Shares and Rewards: the session user's rows only, and their summary line."""
	rows = my_rows(frappe.session.user, frappe._dict(filters or {}))
	return my_columns(), rows, None, None, my_summary(rows)
