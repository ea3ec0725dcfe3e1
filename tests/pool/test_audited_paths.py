"""Issue 8 · access ends with ownership, and ownership changes only through the audited paths
(SPEC §2, §3, §7). Each attack goes through Frappe's own REST handlers (frappe.api.v1, the code
behind /api/resource) or frappe.client, in the test's transaction."""

from __future__ import annotations

import json

import frappe
import frappe.client
import frappe.share
import pytest
from frappe.api import v1
from frappe.desk.form import assign_to
from frappe.model.workflow import apply_workflow
from frappe.utils import add_days, now_datetime

from crm_pool.allocation import requests as allocation_requests
from crm_pool.core import errors
from crm_pool.core.status import CLAIM, IN_POOL, OWNED, PENDING_REVIEW
from crm_pool.pool import ownership, recycle
from crm_pool.transfer import transfers
from tests.factories import make_lead, make_pool, make_pool_customer


def rest_post(doctype: str, data: dict):
	"""POST /api/resource/<doctype> with a JSON body, as the current user."""
	frappe.local.form_dict = frappe._dict(data=json.dumps(data))
	try:
		return v1.create_doc(doctype)
	finally:
		frappe.local.form_dict = frappe._dict()


def rest_put(doctype: str, name: str, data: dict):
	"""PUT /api/resource/<doctype>/<name> with a JSON body, as the current user."""
	frappe.local.form_dict = frappe._dict(data=json.dumps(data))
	try:
		return v1.update_doc(doctype, name)
	finally:
		frappe.local.form_dict = frappe._dict()


def pc_row(name: str) -> frappe._dict:
	return frappe.db.get_value(
		"Pool Customer", name, ["status", "owned_by", "pool", "lead", "customer", "claimed_at"], as_dict=True
	)


def can_read(user: str, doctype: str, name: str) -> bool:
	"""May `user` open the record (form, REST get: role, app hook, then Frappe's shares) or find it
	in a list?"""
	opens = frappe.has_permission(doctype, "read", doc=frappe.get_doc(doctype, name), user=user)
	frappe.set_user(user)
	try:
		listed = bool(frappe.get_list(doctype, filters={"name": name}, pluck="name"))
	finally:
		frappe.set_user("Administrator")
	return opens or listed


@pytest.fixture
def team(make_user):
	"""Sales users a and b and c, a Sales Manager m (pool admin), a Pool Manager pm, one pool."""
	a, b, c = make_user("Sales User"), make_user("Sales User"), make_user("Sales User")
	m = make_user("Sales User", "Sales Manager")
	pm = make_user("Pool Manager")
	pool = make_pool(members=[a, b, c], admins=[m])
	return frappe._dict(a=a, b=b, c=c, m=m, pm=pm, pool=pool)


# --- access ends with ownership --------------------------------------------------------------------


def test_the_creator_keeps_no_access_once_the_lead_is_in_the_pool_or_owned(team):
	pool = make_pool(members=[team.a, team.b], admins=[team.m], require_review=1)
	frappe.set_user(team.a)  # a enters a lead without an owner: it waits for review
	lead = make_lead(pool).name
	frappe.set_user("Administrator")
	pc = frappe.db.get_value("Pool Customer", {"lead": lead})
	assert pc_row(pc).status == PENDING_REVIEW
	assert can_read(team.a, "Lead", lead)  # their own submission, while nobody owns it
	frappe.set_user(team.m)
	apply_workflow(frappe.get_doc("Pool Customer", pc), "Approve")
	frappe.set_user("Administrator")
	assert pc_row(pc).status == IN_POOL
	assert not can_read(team.a, "Lead", lead)  # in the pool: the creator is nobody special
	frappe.set_user(team.b)
	ownership.claim(pc)
	frappe.set_user("Administrator")
	assert can_read(team.b, "Lead", lead) and not can_read(team.a, "Lead", lead)
	assert not frappe.has_permission("Lead", "write", doc=frappe.get_doc("Lead", lead), user=team.a)


def shared_and_assigned(team, pc: str) -> str:
	"""The owner a shares the customer's lead with c and assigns it to c (Frappe's Share and Assign
	To); returns the lead."""
	lead = pc_row(pc).lead
	frappe.set_user(team.a)
	frappe.share.add("Lead", lead, team.c, read=1, write=1)
	assign_to.add({"assign_to": [team.c], "doctype": "Lead", "name": lead, "description": "帮忙跟进"})
	frappe.set_user("Administrator")
	assert can_read(team.c, "Lead", lead)
	assert frappe.db.exists("DocShare", {"share_doctype": "Lead", "share_name": lead, "user": team.c})
	return lead


def change_owner(how: str, team, pc: str) -> None:
	if how == "release":
		frappe.set_user(team.a)
		ownership.release(pc, "客户暂无需求")
	elif how == "assign":
		frappe.set_user(team.m)
		ownership.assign(pc, team.b, "区域调整")
	elif how == "transfer":
		frappe.set_user(team.m)
		doc = frappe.get_doc(
			{
				"doctype": "Ownership Transfer",
				"from_owner": team.a,
				"to_owner": team.b,
				"trigger": transfers.ROLE_CHANGE,
				"customers": [{"pool_customer": pc}],
			}
		).insert()
		apply_workflow(doc, "Submit for Approval")
		frappe.set_user(team.pm)
		apply_workflow(frappe.get_doc("Ownership Transfer", doc.name), "Approve")
	elif how == "recycle":
		frappe.db.set_value("Pool Customer", pc, "recycle_due_at", add_days(now_datetime(), -1))
		recycle.recycle_due()
	frappe.set_user("Administrator")


@pytest.mark.parametrize("how", ["release", "assign", "transfer", "recycle"])
def test_shares_and_assignments_do_not_outlive_ownership(team, how):
	pc = make_pool_customer(team.pool, owner=team.a)
	lead = shared_and_assigned(team, pc)
	change_owner(how, team, pc)
	assert pc_row(pc).owned_by != team.a
	assert not frappe.db.exists("DocShare", {"share_doctype": "Lead", "share_name": lead})
	assert not frappe.db.exists(
		"ToDo", {"reference_type": "Lead", "reference_name": lead, "allocated_to": team.c, "status": "Open"}
	)
	assert team.c not in json.loads(frappe.db.get_value("Lead", lead, "_assign") or "[]")
	assert not can_read(team.c, "Lead", lead)
	assert not can_read(team.a, "Lead", lead)


def test_a_share_cannot_open_an_in_pool_customer(team):
	pc = make_pool_customer(team.pool)
	lead = pc_row(pc).lead
	assert not can_read(team.c, "Lead", lead)
	# Frappe grants on a share after the app's has_permission says no: such shares are never made
	with pytest.raises(errors.ShareRefusedError, match="no owner"):
		frappe.share.add("Lead", lead, team.c)
	with pytest.raises(errors.ShareRefusedError):
		frappe.share.add("Pool Customer", pc, team.c)
	assert not can_read(team.c, "Lead", lead)
	owned = make_pool_customer(team.pool, owner=team.a)
	frappe.set_user(team.a)
	with pytest.raises(errors.ShareRefusedError, match="everyone"):
		frappe.share.add("Lead", pc_row(owned).lead, everyone=1)
	frappe.set_user("Administrator")
	assert not frappe.db.exists(
		"DocShare", {"share_doctype": ("in", ["Lead", "Pool Customer"]), "user": team.c}
	)


def test_shares_made_before_the_rule_are_removed_by_the_patch(team):
	"""A share written before crm_pool refused them (straight into the table, as an older site has it)
	opens an in-pool Lead until the migrate patch removes it; the owner's own share stays."""
	from crm_pool.patches import revoke_stale_access

	in_pool = make_pool_customer(team.pool)
	owned = make_pool_customer(team.pool, owner=team.a)
	for pc in (in_pool, owned):
		frappe.get_doc(
			{
				"doctype": "DocShare",
				"share_doctype": "Lead",
				"share_name": pc_row(pc).lead,
				"user": team.c,
				"read": 1,
			}
		).db_insert()
	assert can_read(team.c, "Lead", pc_row(in_pool).lead)
	revoke_stale_access.execute()
	assert not can_read(team.c, "Lead", pc_row(in_pool).lead)
	assert can_read(team.c, "Lead", pc_row(owned).lead)


# --- ownership changes only through the audited paths ----------------------------------------------


def test_only_the_owner_converts_a_lead_into_a_customer(team):
	pc = make_pool_customer(team.pool, owner=team.b)
	lead = pc_row(pc).lead
	customer = {
		"customer_name": f"无锡{frappe.generate_hash(length=6)}有限公司",
		"customer_type": "Company",
		"customer_group": frappe.db.get_value("Customer Group", {"is_group": 0}),
		"territory": frappe.db.get_value("Territory", {"is_group": 0}),
		"lead_name": lead,
	}
	frappe.set_user(team.a)  # a POSTs a Customer made from b's lead
	with pytest.raises(errors.AuditedPathError, match="Only the owner of lead"):
		rest_post("Customer", customer)
	frappe.set_user("Administrator")
	assert not frappe.db.exists("Customer", {"lead_name": lead})
	assert pc_row(pc).owned_by == team.b and not pc_row(pc).customer
	frappe.set_user(team.b)  # the owner converts it
	made = rest_post("Customer", customer)
	frappe.set_user("Administrator")
	assert pc_row(pc).customer == made.name and pc_row(pc).owned_by == team.b


def test_a_sales_user_cannot_make_a_colleague_the_owner_of_a_new_lead_or_customer(team):
	tag = frappe.generate_hash(length=6)
	frappe.set_user(team.a)
	with pytest.raises(errors.AuditedPathError, match="owner of a new"):
		rest_post(
			"Lead", {"first_name": "王", "company_name": f"苏州{tag}环保有限公司", "lead_owner": team.b}
		)
	with pytest.raises(errors.AuditedPathError, match="owner of a new"):
		rest_post(
			"Customer",
			{
				"customer_name": f"苏州{tag}检测有限公司",
				"customer_type": "Company",
				"account_manager": team.b,
			},
		)
	frappe.set_user("Administrator")
	assert not frappe.db.exists("Lead", {"company_name": f"苏州{tag}环保有限公司"})
	assert not frappe.db.exists("Customer", {"customer_name": f"苏州{tag}检测有限公司"})
	frappe.set_user(team.a)  # their own lead is theirs (首问负责)
	lead = rest_post(
		"Lead", {"first_name": "李", "company_name": f"无锡{tag}环保有限公司", "lead_owner": team.a}
	)
	frappe.set_user("Administrator")
	assert frappe.db.get_value("Pool Customer", {"lead": lead.name}, "owned_by") == team.a


def test_managers_change_pool_customer_owner_fields_only_through_the_actions(team):
	pc = make_pool_customer(team.pool, owner=team.a)
	for user in (team.pm, team.m):
		frappe.set_user(user)
		with pytest.raises(errors.AuditedPathError):
			rest_put("Pool Customer", pc, {"owned_by": user})
		with pytest.raises(errors.AuditedPathError):
			frappe.client.set_value("Pool Customer", pc, "status", IN_POOL)
		doc = frappe.client.get("Pool Customer", pc)
		doc["claimed_at"] = None
		with pytest.raises(errors.AuditedPathError):
			frappe.client.save(doc)
	frappe.set_user(team.pm)
	with pytest.raises(errors.AuditedPathError):  # nor made owned
		rest_post(
			"Pool Customer", {"party_type": "Lead", "pool": team.pool, "owned_by": team.pm, "status": OWNED}
		)
	rest_put("Pool Customer", pc, {"grade": "A"})  # the profile stays editable
	frappe.set_user("Administrator")
	row = pc_row(pc)
	assert row.owned_by == team.a and row.status == OWNED
	assert frappe.db.get_value("Pool Customer", pc, "grade") == "A"
	# the review Workflow still moves a pending customer into the pool
	review_pool = make_pool(members=[team.a], admins=[team.m], require_review=1)
	pending = frappe.db.get_value("Pool Customer", {"lead": make_lead(review_pool).name})
	frappe.set_user(team.m)
	apply_workflow(frappe.get_doc("Pool Customer", pending), "Approve")
	frappe.set_user("Administrator")
	assert pc_row(pending).status == IN_POOL


def test_a_manager_assigning_to_themselves_obeys_the_claim_rules(team):
	pool = make_pool(members=[team.a], admins=[team.m], max_owned=1, cooldown_days=7)
	colleagues = make_pool_customer(pool, owner=team.a)
	given_up, other = make_pool_customer(pool), make_pool_customer(pool)
	frappe.set_user(team.m)
	with pytest.raises(errors.AuditedPathError, match="ownership transfer"):
		ownership.assign(colleagues, team.m, "我来跟")  # a colleague's customer: a transfer
	ownership.assign(given_up, team.m, "我来跟")  # from the pool: a claim
	ownership.release(given_up, "先放回")
	with pytest.raises(errors.PoolRuleError, match="claim it again after"):
		ownership.assign(given_up, team.m, "再拿回来")  # the cooldown holds
	ownership.assign(other, team.m, "我来跟")
	another = make_pool_customer(pool)
	with pytest.raises(errors.PoolRuleError, match="the most allowed"):
		ownership.assign(another, team.m, "再来一个")  # the cap holds
	frappe.set_user("Administrator")
	assert pc_row(colleagues).owned_by == team.a and pc_row(other).owned_by == team.m
	assert frappe.get_all(
		"Pool Log", filters={"pool_customer": other, "to_user": team.m}, pluck="action"
	) == [CLAIM]


def test_an_ownership_transfer_posted_with_docstatus_1_is_refused(team):
	customers = [make_pool_customer(team.pool, owner=team.a) for _ in range(3)]
	frappe.set_user(team.m)  # all of a's customers to himself, over the cap, approved by nobody
	with pytest.raises(errors.AuditedPathError, match="draft"):
		rest_post(
			"Ownership Transfer",
			{
				"from_owner": team.a,
				"to_owner": team.m,
				"all_customers": 1,
				"override_cap": 1,
				"trigger": transfers.REORGANIZATION,
				"reason": "统一管理",
				"docstatus": 1,
			},
		)
	frappe.set_user("Administrator")
	assert {pc_row(pc).owned_by for pc in customers} == {team.a}


def test_a_transfer_moves_on_only_through_its_workflow_and_is_frozen_outside_draft(team):
	customers = [make_pool_customer(team.pool, owner=team.a) for _ in range(2)]
	frappe.set_user(team.m)
	doc = rest_post(
		"Ownership Transfer",
		{
			"from_owner": team.a,
			"to_owner": team.b,
			"trigger": transfers.ROLE_CHANGE,
			"customers": [{"pool_customer": customers[0]}],
		},
	)
	frappe.set_user(team.pm)  # another manager, who may approve it, tries around the Workflow
	with pytest.raises(errors.AuditedPathError):  # a draft saved as submitted approves nothing
		rest_put("Ownership Transfer", doc.name, {"docstatus": 1})
	with pytest.raises(errors.AuditedPathError):
		rest_put("Ownership Transfer", doc.name, {"status": transfers.APPROVED, "docstatus": 1})
	frappe.set_user(team.m)
	apply_workflow(frappe.get_doc("Ownership Transfer", doc.name), "Submit for Approval")
	frappe.set_user(team.pm)
	with pytest.raises(errors.AuditedPathError, match="only a draft"):  # the content is frozen
		rest_put("Ownership Transfer", doc.name, {"to_owner": team.c})
	with pytest.raises(errors.AuditedPathError, match="only a draft"):
		rest_put(
			"Ownership Transfer",
			doc.name,
			{"customers": [{"pool_customer": pc} for pc in customers], "override_cap": 1},
		)
	apply_workflow(frappe.get_doc("Ownership Transfer", doc.name), "Approve")
	frappe.set_user("Administrator")
	assert pc_row(customers[0]).owned_by == team.b and pc_row(customers[1]).owned_by == team.a


def test_an_allocation_request_is_never_submitted_nor_moved_by_hand(team):
	pcs = [make_pool_customer(team.pool) for _ in range(2)]
	# Frappe refuses docstatus 1 on a doctype that is not submittable to everyone but Administrator
	with pytest.raises(errors.AuditedPathError, match="draft"):
		rest_post(
			allocation_requests.DOCTYPE,
			{
				"requester": team.a,
				"pool": team.pool,
				"reason": "重点客户",
				"lines": [{"pool_customer": pcs[0]}],
				"docstatus": 1,
			},
		)
	frappe.set_user(team.a)
	doc = rest_post(
		allocation_requests.DOCTYPE,
		{"requester": team.a, "pool": team.pool, "reason": "重点客户", "lines": [{"pool_customer": pcs[0]}]},
	)
	frappe.set_user("Administrator")
	with pytest.raises(errors.AuditedPathError):
		rest_put(allocation_requests.DOCTYPE, doc.name, {"docstatus": 1})
	with pytest.raises((frappe.ValidationError, frappe.PermissionError)):  # along the Workflow only
		rest_put(allocation_requests.DOCTYPE, doc.name, {"workflow_state": allocation_requests.APPROVED})
	assert frappe.db.get_value(allocation_requests.DOCTYPE, doc.name, ["workflow_state", "docstatus"]) == (
		allocation_requests.DRAFT,
		0,
	)
	assert {pc_row(pc).status for pc in pcs} == {IN_POOL}
