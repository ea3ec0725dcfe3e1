"""Builders for the allocation tests: many pool customers at once, inside the test's transaction."""

from __future__ import annotations

import uuid

import frappe

from crm_pool.bulk_demo import insert_pool_customers


def bulk_pool_customers(pool: str, count: int, *, owner: str | None = None, **fields) -> list[str]:
	"""`count` Leads and their Pool Customers in `pool`, inserted set-based (as benchmarks do): in the
	pool, or owned by `owner`. `fields` are set on every Pool Customer (territory, grade, …).
	Returns the pool customers' names, oldest in the pool first."""
	names, _leads = insert_pool_customers(
		pool, count, prefix=f"T{uuid.uuid4().hex[:8]}", owner=owner, **fields
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
