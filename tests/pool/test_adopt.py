"""Adoption of the Leads and Customers that were there before crm_pool (install, patch, command)."""

from __future__ import annotations

import uuid

import frappe
from frappe.utils import now_datetime

from crm_pool.core.status import CONVERTED, IN_POOL, INTAKE, OWNED
from crm_pool.pool.adopt import REASON, adopt_existing
from tests.factories import make_pool


def raw_insert(doctype: str, **fields) -> str:
	"""A record written straight to the table, as if it predated the app (no hooks)."""
	now = now_datetime()
	name = fields.pop("name", f"OLD-{uuid.uuid4().hex[:10]}")
	row = {
		"name": name,
		"creation": now,
		"modified": now,
		"owner": "Administrator",
		"modified_by": "Administrator",
		**fields,
	}
	frappe.db.bulk_insert(doctype, list(row), [tuple(row.values())])
	return name


def test_existing_parties_are_adopted_once_with_owner_pool_and_log(make_user):
	seller = make_user("Sales User")
	pool = make_pool()
	frappe.db.set_value("Customer Pool", pool, "is_default", 1)
	free = raw_insert(
		"Lead", lead_name="老线索", company_name="老客户一号有限公司", mobile_no="13811112222", status="Lead"
	)
	owned = raw_insert(
		"Lead", lead_name="老线索2", company_name="老客户二号有限公司", lead_owner=seller, status="Lead"
	)
	converted_lead = raw_insert(
		"Lead", lead_name="老线索3", company_name="老客户三号有限公司", status="Converted"
	)
	customer = raw_insert(
		"Customer",
		customer_name="老客户三号有限公司",
		customer_type="Company",
		account_manager=seller,
		lead_name=converted_lead,
	)

	result = adopt_existing(commit=False)
	assert result["leads"] >= 2 and result["customers"] >= 1

	def pc(**filters):
		return frappe.db.get_value(
			"Pool Customer",
			filters,
			["name", "status", "owned_by", "pool", "mobile_masked", "party_type", "lead"],
			as_dict=True,
		)

	row = pc(lead=free)
	assert (row.status, row.owned_by, row.pool, row.mobile_masked) == (IN_POOL, None, pool, "138****2222")
	row = pc(lead=owned)
	assert (row.status, row.owned_by) == (OWNED, seller)
	row = pc(customer=customer)
	assert (row.status, row.owned_by, row.party_type, row.lead) == (
		CONVERTED,
		seller,
		"Customer",
		converted_lead,
	)
	assert frappe.db.count("Pool Customer", {"lead": converted_lead}) == 1
	assert frappe.db.get_value("Lead", free, "pool_customer") == pc(lead=free).name
	assert frappe.db.get_value("Customer", customer, "pool_customer") == row.name
	log = frappe.get_all(
		"Pool Log", filters={"pool_customer": row.name}, fields=["action", "to_user", "reason"]
	)
	assert [(e.action, e.to_user, e.reason) for e in log] == [(INTAKE, seller, REASON)]

	again = adopt_existing(commit=False)
	assert again["leads"] == 0 and again["customers"] == 0
