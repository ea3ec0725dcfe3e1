"""Builders for the allocation tests: many pool customers at once, inside the test's transaction."""

from __future__ import annotations

import uuid

import frappe
from frappe.utils import add_to_date, now_datetime

from crm_pool.pool.status import IN_POOL, OWNED


def bulk_pool_customers(pool: str, count: int, *, owner: str | None = None, **fields) -> list[str]:
	"""`count` Leads and their Pool Customers in `pool`, inserted set-based (as benchmarks do): in the
	pool, or owned by `owner`. `fields` are set on every Pool Customer (territory, grade, …).
	Returns the pool customers' names, oldest in the pool first."""
	tag = uuid.uuid4().hex[:8]
	now = now_datetime()
	leads = [f"TL-{tag}-{i:05d}" for i in range(count)]
	frappe.db.bulk_insert(
		"Lead",
		[
			"name",
			"lead_name",
			"company_name",
			"status",
			"lead_owner",
			"creation",
			"modified",
			"owner",
			"modified_by",
		],
		[
			(
				lead,
				f"客户{i}",
				f"分配测试{tag}{i}有限公司",
				"Lead",
				owner,
				now,
				now,
				"Administrator",
				"Administrator",
			)
			for i, lead in enumerate(leads)
		],
	)
	names = [f"PCT-{tag}-{i:05d}" for i in range(count)]
	columns = [
		"name",
		"customer_name",
		"party_type",
		"party",
		"lead",
		"pool",
		"status",
		"owned_by",
		"review_status",
		"pool_entered_at",
		"creation",
		"modified",
		"owner",
		"modified_by",
		*fields,
	]
	frappe.db.bulk_insert(
		"Pool Customer",
		columns,
		[
			(
				name,
				f"分配测试{tag}{i}有限公司",
				"Lead",
				lead,
				lead,
				pool,
				OWNED if owner else IN_POOL,
				owner,
				"Approved",
				add_to_date(now, seconds=i - count),
				now,
				now,
				"Administrator",
				"Administrator",
				*fields.values(),
			)
			for i, (name, lead) in enumerate(zip(names, leads, strict=True))
		],
	)
	return names


def make_territory(name: str | None = None, parent: str | None = None, is_group: int = 0) -> str:
	"""A Territory (under `parent`, default the root), inside the test's transaction."""
	root = frappe.db.get_value("Territory", {"parent_territory": ("in", ("", None))}, "name")
	doc = frappe.get_doc(
		{
			"doctype": "Territory",
			"territory_name": name or f"测试区域-{uuid.uuid4().hex[:6]}",
			"parent_territory": parent or root,
			"is_group": is_group,
		}
	).insert(ignore_permissions=True)
	return doc.name


def make_industry() -> str:
	return (
		frappe.get_doc({"doctype": "Industry Type", "industry": f"测试行业-{uuid.uuid4().hex[:6]}"})
		.insert(ignore_permissions=True)
		.name
	)
