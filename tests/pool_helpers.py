"""Builders for pool tests: pools and pool customers inside the test's transaction."""

from __future__ import annotations

import uuid

import frappe


def make_pool(members: list[str] | tuple = (), admins: list[str] | tuple = (), **rules) -> str:
	"""A Customer Pool with the given members (users, or member rows as dicts), admins and rules;
	returns its name."""
	pool = frappe.get_doc(
		{
			"doctype": "Customer Pool",
			"pool_name": f"测试公海-{uuid.uuid4().hex[:8]}",
			"enabled": 1,
			"require_review": 0,
			"claim_mode": "Direct Claim",
			"members": [m if isinstance(m, dict) else {"user": m} for m in members]
			+ [{"user": u, "is_admin": 1} for u in admins],
			**rules,
		}
	)
	pool.insert(ignore_permissions=True)
	return pool.name


def make_lead(pool: str | None = None, owner: str | None = None, **fields) -> frappe.model.document.Document:
	"""A Lead (no owner unless given), taken into `pool` by intake."""
	tag = uuid.uuid4().hex[:8]
	lead = frappe.get_doc(
		{
			"doctype": "Lead",
			"first_name": f"联系人{tag}",
			"company_name": f"测试客户{tag}有限公司",
			"email_id": f"lead-{tag}@example.cn",
			"lead_owner": owner or "",
			**fields,
		}
	)
	lead.flags.pool = pool
	lead.insert(ignore_permissions=True)
	return lead


def make_pool_customer(pool: str, owner: str | None = None, **fields) -> str:
	"""A pool customer standing for a new Lead (intake takes it into `pool`): in the pool, or owned by
	`owner` through a manager's assignment. Returns its name."""
	lead = make_lead(pool)
	name = frappe.db.get_value("Pool Customer", {"lead": lead.name})
	assert name, "intake did not take the lead into the pool"
	if fields:
		frappe.db.set_value("Pool Customer", name, fields, update_modified=False)
	if owner:
		from crm_pool.pool import ownership

		user = frappe.session.user
		frappe.set_user("Administrator")
		ownership.assign(name, owner, "test set-up")
		frappe.set_user(user)
	return name
