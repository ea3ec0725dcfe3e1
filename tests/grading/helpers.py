"""Builders for the grading tests: a pool with its own Customer Grade Rule (so the rule's population is
only the test's customers), Customers in it, and submitted Sales Invoices and credit notes made
through ERPNext."""

from __future__ import annotations

import uuid

import frappe
from frappe.utils import add_days, add_months, getdate, nowdate

from crm_pool.grading.regrade import regrade
from tests import recycle_helpers


def unique(prefix: str) -> str:
	return f"{prefix}{uuid.uuid4().hex[:8]}"


def make_rule(pool: str, *, grades=(("A", 80), ("B", 50), ("C", 0)), **fields) -> str:
	"""A Customer Grade Rule of `pool`: fixed bands by score, margin 5, monetary only (weights and
	bands overridable with `fields`)."""
	doc = frappe.get_doc(
		{
			"doctype": "Customer Grade Rule",
			"rule_name": unique("测试分级规则-"),
			"enabled": 1,
			"pool": pool,
			"window_months": 12,
			"scoring_method": "Fixed Bands",
			"threshold_basis": "Score",
			"hysteresis_margin": 5,
			"full_monetary": 100000,
			"full_frequency": 10,
			"zero_recency_days": 100,
			"full_profit": 100000,
			"grades": [{"grade": g, "label": g, "threshold": t} for g, t in grades],
			"weight_monetary": 1,
			"weight_frequency": 0,
			"weight_recency": 0,
			"weight_profit": 0,
			"weight_repeat": 0,
			"weight_potential": 0,
			**fields,
		}
	)
	return doc.insert(ignore_permissions=True).name


def make_customer(pool: str, owner: str | None = None, potential: int = 0) -> frappe._dict:
	"""A Customer taken into `pool` (owned by `owner` if given); returns customer and pool_customer."""
	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": unique("分级测试客户有限公司"),
			"customer_type": "Company",
			"account_manager": owner,
			"potential_score": potential,
		}
	)
	customer.flags.pool = pool
	customer.insert(ignore_permissions=True)
	pc = frappe.db.get_value("Pool Customer", {"customer": customer.name}, "name")
	assert pc, "intake did not take the customer into the pool"
	return frappe._dict(customer=customer.name, pc=pc)


_items: dict[str, str] = {}


def item() -> str:
	"""One service item per test run (made inside each test's transaction)."""
	code = _items.get("item")
	if not code or not frappe.db.exists("Item", code):
		_items["item"] = recycle_helpers.make_item()
	return _items["item"]


def ensure_fiscal_year(date) -> None:
	"""ERPNext refuses postings outside a Fiscal Year: make the calendar year of `date` if missing."""
	date = getdate(date)
	if frappe.db.sql(
		"SELECT 1 FROM `tabFiscal Year` WHERE %s BETWEEN year_start_date AND year_end_date AND disabled = 0",
		date,
	):
		return
	frappe.get_doc(
		{
			"doctype": "Fiscal Year",
			"year": f"{date.year}-grading-test",
			"year_start_date": f"{date.year}-01-01",
			"year_end_date": f"{date.year}-12-31",
		}
	).insert(ignore_permissions=True)


def invoice(customer: str, amount: float, days_ago: int = 0, *, submit: bool = True, qty: int = 1) -> str:
	"""A submitted Sales Invoice of `customer` for `amount` (no taxes), posted `days_ago` days ago."""
	posting = add_days(nowdate(), -days_ago)
	ensure_fiscal_year(posting)
	doc = frappe.get_doc(
		{
			"doctype": "Sales Invoice",
			"company": recycle_helpers.company(),
			"customer": customer,
			"currency": "CNY",
			"set_posting_time": 1,
			"posting_date": posting,
			"due_date": add_days(posting, 30),
			"items": [{"item_code": item(), "qty": qty, "rate": amount / qty}],
		}
	)
	doc.insert(ignore_permissions=True)
	if submit:
		doc.submit()
	return doc.name


def credit_note(invoice_name: str, qty: int = 1) -> str:
	"""A submitted credit note (return) of `qty` units of `invoice_name`'s item at its rate
	(ERPNext's make_sales_return)."""
	from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

	doc = make_sales_return(invoice_name)
	doc.items[0].qty = -qty
	doc.insert(ignore_permissions=True)
	doc.submit()
	return doc.name


def pc_row(pc: str) -> frappe._dict:
	return frappe.db.get_value("Pool Customer", pc, "*", as_dict=True)


def logs(pc: str) -> list[frappe._dict]:
	return frappe.get_all(
		"Customer Grade Log",
		filters={"pool_customer": pc},
		fields=["from_grade", "to_grade", "why", "run", "score", "override"],
		order_by="at asc, creation asc",
	)


def months_ago(months: int) -> str:
	return add_months(nowdate(), -months)


__all__ = ["regrade"]
