"""Builders for the follow-up and recycle tests: pools with recycle rules, owned pool customers,
and the ERPNext documents that count as follow-ups.

`make_pool_customer` inserts a Lead and then takes the Lead's Pool Customer if intake created one
(Lead after_insert), or inserts one itself; either way it ends with the asked-for state.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import frappe
from frappe.utils import add_days, now_datetime, nowdate

from crm_pool.core.status import OWNED
from crm_pool.pool import followup
from tests import pool_helpers


def unique(prefix: str) -> str:
	return f"{prefix}{uuid.uuid4().hex[:8]}"


def make_pool(**rules) -> str:
	"""A Customer Pool with recycle rules, e.g. make_pool(no_followup_days=30, grade_rules=[...]).
	Defaults: 30 days without follow-up, no deal rule, reminder 3 days ahead, no exemptions."""
	defaults = {"no_followup_days": 30, "no_deal_days": 0, "reminder_days": 3}
	return pool_helpers.make_pool(
		**{**defaults, "exempt_open_opportunity": 0, "exempt_with_deal": 0, **rules}
	)


def make_pool_customer(
	pool: str,
	owner: str | None,
	*,
	status: str = OWNED,
	claimed_days_ago: float | None = 0,
	grade: str | None = None,
	company_name: str | None = None,
	**fields,
):
	"""A Lead and its Pool Customer in `pool`, owned by `owner` since `claimed_days_ago` days
	(status OWNED unless given), with its recycle due date computed. Returns the Pool Customer doc."""
	company_name = company_name or unique("回收测试环保科技有限公司")
	lead = frappe.get_doc(
		{
			"doctype": "Lead",
			"company_name": company_name,
			"lead_name": "测试联系人",
			"first_name": "测试联系人",
			"lead_owner": owner,
			"status": "Lead",
		}
	)
	lead.flags.pool = pool
	lead.insert(ignore_permissions=True)

	claimed_at = None
	if owner and claimed_days_ago is not None:
		claimed_at = now_datetime() - timedelta(days=claimed_days_ago)
	state = {
		"pool": pool,
		"status": status,
		"owned_by": owner,
		"claimed_at": claimed_at,
		"grade": grade,
		**fields,
	}
	name = frappe.db.get_value("Pool Customer", {"lead": lead.name})
	if name:  # created by intake (Lead after_insert): bring it to the asked-for state
		frappe.db.set_value("Pool Customer", name, state, update_modified=False)
	else:
		name = (
			frappe.get_doc(
				{
					"doctype": "Pool Customer",
					"customer_name": company_name,
					"party_type": "Lead",
					"party": lead.name,
					"lead": lead.name,
					**state,
				}
			)
			.insert(ignore_permissions=True)
			.name
		)
	followup.recompute_due([name])
	return frappe.get_doc("Pool Customer", name)


def convert_to_customer(pc) -> str:
	"""Make an ERPNext Customer from the pool customer's Lead; the Pool Customer points to it
	(intake does that on Customer after_insert; without intake the test sets it)."""
	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": pc.customer_name,
			"customer_type": "Company",
			"lead_name": pc.lead,
			"account_manager": pc.owned_by,
		}
	).insert(ignore_permissions=True)
	if frappe.db.get_value("Pool Customer", pc.name, "customer") != customer.name:
		frappe.db.set_value(
			"Pool Customer",
			pc.name,
			{"customer": customer.name, "party_type": "Customer", "party": customer.name},
			update_modified=False,
		)
	return customer.name


def set_dates(pc_name: str, **dates: datetime | None) -> None:
	"""Set follow-up/deal/claim dates directly (the past the tests need) and recompute the due date."""
	frappe.db.set_value("Pool Customer", pc_name, dates, update_modified=False)
	followup.recompute_due([pc_name])


def pool_customer(name: str) -> frappe._dict:
	return frappe.db.get_value("Pool Customer", name, "*", as_dict=True)


# --- ERPNext documents -----------------------------------------------------------------------------


def company() -> str:
	return frappe.defaults.get_global_default("company") or frappe.db.get_value("Company", {}, "name")


def make_item() -> str:
	"""A non-stock service item."""
	group = frappe.db.get_value("Item Group", {"is_group": 0}, "name") or "All Item Groups"
	uom = "Nos" if frappe.db.exists("UOM", "Nos") else frappe.db.get_value("UOM", {}, "name")
	return (
		frappe.get_doc(
			{
				"doctype": "Item",
				"item_code": unique("RECYCLE-TEST-"),
				"item_name": "检测服务",
				"item_group": group,
				"stock_uom": uom,
				"is_stock_item": 0,
				"include_item_in_manufacturing": 0,
			}
		)
		.insert(ignore_permissions=True)
		.name
	)


def make_opportunity(party_type: str, party: str, status: str = "Open", owner: str | None = None) -> str:
	"""An Opportunity for the party, made by the session user; `owner` is its opportunity_owner."""
	doc = frappe.get_doc(
		{
			"doctype": "Opportunity",
			"opportunity_from": party_type,
			"party_name": party,
			"company": company(),
			"status": "Open",
			"opportunity_owner": owner,
		}
	).insert(ignore_permissions=True)
	if status != "Open":
		frappe.db.set_value("Opportunity", doc.name, "status", status, update_modified=False)
	return doc.name


def make_quotation(party_type: str, party: str) -> str:
	return (
		frappe.get_doc(
			{
				"doctype": "Quotation",
				"quotation_to": party_type,
				"party_name": party,
				"company": company(),
				"transaction_date": nowdate(),
				"valid_till": add_days(nowdate(), 30),
				"currency": "CNY",
				"items": [{"item_code": make_item(), "qty": 1, "rate": 1000}],
			}
		)
		.insert(ignore_permissions=True)
		.name
	)


def submit_sales_invoice(customer: str) -> str:
	doc = frappe.get_doc(
		{
			"doctype": "Sales Invoice",
			"company": company(),
			"customer": customer,
			"currency": "CNY",
			"posting_date": nowdate(),
			"due_date": add_days(nowdate(), 30),
			"items": [{"item_code": make_item(), "qty": 1, "rate": 5000}],
		}
	)
	doc.insert(ignore_permissions=True)
	doc.submit()
	return doc.name


def submit_sales_order(customer: str) -> str:
	doc = make_sales_order(customer)
	doc.submit()
	return doc.name


def make_sales_order(customer: str) -> frappe.model.document.Document:
	"""A draft Sales Order of `customer`."""
	doc = frappe.get_doc(
		{
			"doctype": "Sales Order",
			"company": company(),
			"customer": customer,
			"currency": "CNY",
			"transaction_date": nowdate(),
			"delivery_date": add_days(nowdate(), 10),
			"items": [
				{"item_code": make_item(), "qty": 1, "rate": 5000, "delivery_date": add_days(nowdate(), 10)}
			],
		}
	)
	return doc.insert(ignore_permissions=True)
