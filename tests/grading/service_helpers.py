"""Builders for the grading service tests: owned pool customers of a grade, complaints."""

from __future__ import annotations

from datetime import timedelta

import frappe
from frappe.utils import now_datetime

from tests.recycle_helpers import (  # noqa: F401
	convert_to_customer,
	make_pool,
	make_pool_customer,
	pool_customer,
	set_dates,
)


def customer_of_grade(
	pool: str, owner: str, grade: str, claimed_days_ago: float = 0, **fields
) -> frappe._dict:
	"""An owned pool customer of `grade` standing for an ERPNext Customer; returns its row."""
	pc = make_pool_customer(pool, owner, grade=grade, claimed_days_ago=claimed_days_ago, **fields)
	convert_to_customer(pc)
	if owner:  # the conversion counted as a follow-up: back to the asked-for past
		set_dates(
			pc.name, claimed_at=now_datetime() - timedelta(days=claimed_days_ago), last_followup_at=None
		)
	return pool_customer(pc.name)


def make_issue(
	customer: str, subject: str = "设备故障投诉", sla_start=None, **fields
) -> frappe.model.document.Document:
	"""A complaint (Issue) of `customer`; `sla_start` fixes when its agreement starts counting."""
	doc = frappe.get_doc(
		{
			"doctype": "Issue",
			"subject": subject,
			"customer": customer,
			"raised_by": "customer@example.cn",
			"service_level_agreement_creation": sla_start,
			**fields,
		}
	)
	return doc.insert(ignore_permissions=True)
