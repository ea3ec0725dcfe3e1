"""Exclusive manager scorecard (专属经理考核, seed 003 §10): per manager and period, one set-based query
per measure (grouped by manager), joined in Python by manager.

A customer is served by its exclusive manager, else its owner (`SERVER_SQL`). Measures:
- customers: the customers each serves now;
- new customers: the times a customer came to the manager in the period (Pool Log: claim,
  assignment, transfer to them);
- churned: the times a customer left the manager in the period back to the pool (Pool Log: release,
  recycle, or a transfer to the pool);
  both count hand-overs, not distinct customers: a customer claimed, released and claimed again in
  the period is two new and one churned, so that customers at the start + new − churned − transfers
  away = customers at the end; and both are read from the Pool Log Tally (`core.log`: the entries
  per day, pool, action and owners), a few rows a day instead of every entry of the period;
- visits done and average satisfaction (1-5, visits where it was asked) of Return Visits done by the
  manager in the period;
- sales: net total of submitted Sales Invoices in the period of the customers each serves (returns
  and credit notes are negative invoices, so they net; cancelled ones are not submitted); gross
  profit: net amount less cost (stock qty × ERPNext's incoming rate) of the lines whose cost ERPNext
  knows, blank when none does;
- complaints: Issues raised in the period that the manager serves (`Issue.service_manager`), and the
  share first answered within their agreement's response time.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import flt, get_first_day, getdate, nowdate

from crm_pool.core.roles import is_manager
from crm_pool.core.status import ASSIGN, CLAIM, HAS_OWNER, RECYCLE, RELEASE, TRANSFER

SERVER_SQL = "COALESCE(pc.exclusive_manager, pc.owned_by)"
_OWNED = ", ".join(f"'{s}'" for s in HAS_OWNER)


def columns() -> list[dict]:
	return [
		{
			"fieldname": "manager",
			"label": _("Exclusive Manager"),
			"fieldtype": "Link",
			"options": "User",
			"width": 200,
		},
		{"fieldname": "customers", "label": _("Customers"), "fieldtype": "Int", "width": 100},
		{"fieldname": "new_customers", "label": _("New Customers"), "fieldtype": "Int", "width": 110},
		{"fieldname": "churned", "label": _("Churned"), "fieldtype": "Int", "width": 90},
		{"fieldname": "visits_done", "label": _("Visits Done"), "fieldtype": "Int", "width": 100},
		{
			"fieldname": "satisfaction",
			"label": _("Average Satisfaction"),
			"fieldtype": "Float",
			"precision": 2,
			"width": 120,
		},
		{"fieldname": "sales", "label": _("Sales"), "fieldtype": "Currency", "width": 120},
		{"fieldname": "gross_profit", "label": _("Gross Profit"), "fieldtype": "Currency", "width": 120},
		{"fieldname": "complaints", "label": _("Complaints"), "fieldtype": "Int", "width": 100},
		{
			"fieldname": "answered_in_time",
			"label": _("Answered within SLA"),
			"fieldtype": "Int",
			"width": 130,
		},
		{
			"fieldname": "answered_in_time_pct",
			"label": _("Answered within SLA %"),
			"fieldtype": "Percent",
			"width": 130,
		},
	]


def period(filters: dict) -> tuple:
	"""The period of the filters: from_date (default the first day of this month) to to_date (today)."""
	to_date = getdate(filters.get("to_date") or nowdate())
	from_date = getdate(filters.get("from_date") or get_first_day(to_date))
	return from_date, to_date


def scorecard(from_date, to_date, manager: str | None = None) -> list[dict]:
	"""One row per manager with any measure in the period (or `manager` only), by manager."""
	v = {"from": from_date, "to": to_date, "manager": manager}
	only = "HAVING manager = %(manager)s" if manager else ""
	gains, losses = (CLAIM, ASSIGN, TRANSFER), (RELEASE, RECYCLE, TRANSFER)
	v.update(gains=gains, losses=losses)
	measures = {
		"customers": f"""SELECT {SERVER_SQL} AS manager, COUNT(*) AS customers FROM `tabPool Customer` pc
			WHERE pc.status IN ({_OWNED}) AND {SERVER_SQL} IS NOT NULL GROUP BY manager {only}""",
		"new": """SELECT t.to_user AS manager, SUM(t.entries) AS new_customers
			FROM `tabPool Log Tally` t WHERE t.action IN %(gains)s AND t.to_user IS NOT NULL
				AND t.day BETWEEN %(from)s AND %(to)s GROUP BY manager {only}""",
		"churn": """SELECT t.from_user AS manager, SUM(t.entries) AS churned
			FROM `tabPool Log Tally` t WHERE t.action IN %(losses)s AND t.to_user IS NULL
				AND t.from_user IS NOT NULL AND t.day BETWEEN %(from)s AND %(to)s GROUP BY manager {only}""",
		"visits": """SELECT rv.assigned_to AS manager, COUNT(*) AS visits_done,
				AVG(NULLIF(rv.satisfaction, 0)) AS satisfaction
			FROM `tabReturn Visit` rv WHERE rv.status = 'Done' AND DATE(rv.done_at) BETWEEN %(from)s AND %(to)s
			GROUP BY manager {only}""",
		"sales": f"""SELECT {SERVER_SQL} AS manager, SUM(si.base_net_total) AS sales
			FROM `tabSales Invoice` si JOIN `tabPool Customer` pc ON pc.customer = si.customer
			WHERE si.docstatus = 1 AND si.posting_date BETWEEN %(from)s AND %(to)s
			GROUP BY manager {only}""",
		"profit": f"""SELECT {SERVER_SQL} AS manager,
				SUM(sii.base_net_amount - sii.stock_qty * sii.incoming_rate) AS gross_profit
			FROM `tabSales Invoice` si JOIN `tabSales Invoice Item` sii ON sii.parent = si.name
			JOIN `tabPool Customer` pc ON pc.customer = si.customer
			WHERE si.docstatus = 1 AND si.posting_date BETWEEN %(from)s AND %(to)s AND sii.incoming_rate > 0
			GROUP BY manager {only}""",
		"complaints": """SELECT i.service_manager AS manager, COUNT(*) AS complaints,
				SUM(i.first_responded_on IS NOT NULL AND i.first_responded_on <= i.response_by) AS answered_in_time
			FROM `tabIssue` i WHERE i.service_manager IS NOT NULL AND i.opening_date BETWEEN %(from)s AND %(to)s
			GROUP BY manager {only}""",
	}
	rows: dict[str, dict] = {}
	for sql in measures.values():
		for r in frappe.db.sql(sql.format(only=only), v, as_dict=True):  # aggregation in SQL
			if r.manager:
				rows.setdefault(r.manager, {"manager": r.manager}).update(r)
	result = []
	for name in sorted(rows):
		row = {c["fieldname"]: 0 for c in columns()}
		row.update(gross_profit=None, satisfaction=None)
		row.update(rows[name])
		row["satisfaction"] = flt(row["satisfaction"], 2) if row["satisfaction"] is not None else None
		for count in (
			"customers",
			"new_customers",
			"churned",
			"visits_done",
			"complaints",
			"answered_in_time",
		):
			row[count] = int(row[count] or 0)
		row["answered_in_time_pct"] = (
			flt(100.0 * row["answered_in_time"] / row["complaints"], 1) if row["complaints"] else None
		)
		result.append(row)
	return result


def execute(filters: dict | None = None) -> tuple[list, list]:
	"""The Script Report: managers see every manager (or the one filtered); anyone else their own row."""
	filters = frappe._dict(filters or {})
	manager = filters.get("manager")
	if not is_manager():
		manager = frappe.session.user
	from_date, to_date = period(filters)
	return columns(), scorecard(from_date, to_date, manager)
