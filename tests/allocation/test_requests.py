"""Allocation requests (申请, SPEC §3): the Workflow, re-checks at approval with per-line results, no
self approval, notifications, and the desk's whitelisted methods."""

from __future__ import annotations

import frappe
import pytest
from frappe.model.workflow import WorkflowTransitionError, apply_workflow

from crm_pool.allocation import requests as allocation_requests
from crm_pool.allocation.requests import (
	APPROVED,
	ASSIGNED,
	CANCELLED,
	PENDING,
	PENDING_APPROVAL,
	REJECTED,
	UNAVAILABLE,
)
from crm_pool.api import allocation as allocation_api
from crm_pool.api import pool as pool_api
from crm_pool.core import errors
from crm_pool.core import settings as pool_settings_
from crm_pool.core.status import ASSIGN, IN_POOL, OWNED
from crm_pool.pool import ownership
from tests.factories import make_pool, make_pool_customer

DOCTYPE = allocation_requests.DOCTYPE


@pytest.fixture
def sales(make_user):
	"""Two sales users and a pool manager, in one direct-claim pool (the manager is its admin)."""
	a, b = make_user("Sales User"), make_user("Sales User")
	manager = make_user("Sales User", "Pool Manager")
	pool = make_pool(members=[a, b], admins=[manager])
	return frappe._dict(a=a, b=b, manager=manager, pool=pool)


def request_as(user: str, names: list[str], reason: str = "重点跟进华东区环保项目", **kw) -> str:
	frappe.set_user(user)
	result = allocation_api.request_allocation(names, reason, **kw)
	return result["name"]


def act(user: str, name: str, action: str, note: str | None = None) -> dict:
	frappe.set_user(user)
	return allocation_api.allocation_request_action(name, action, note)


def lines(name: str) -> dict[str, frappe._dict]:
	return {line.pool_customer: line for line in frappe.get_doc(DOCTYPE, name).lines}


def notifications(user: str, name: str) -> list[str]:
	return frappe.get_all(
		"Notification Log",
		filters={"for_user": user, "document_type": DOCTYPE, "document_name": name},
		pluck="subject",
	)


def test_approval_after_a_competitors_claim_reports_that_line_and_assigns_the_rest(sales):
	first, contested, third = (make_pool_customer(sales.pool) for _ in range(3))
	name = request_as(sales.a, [first, contested, third], expected_resources="三个月内完成拜访和报价")
	assert frappe.db.get_value(DOCTYPE, name, "workflow_state") == PENDING_APPROVAL
	frappe.set_user(sales.b)
	ownership.claim(contested)  # the competitor is faster

	result = act(sales.manager, name, "Approve", "同意，注意跟进节奏")

	frappe.set_user("Administrator")
	assert result["workflow_state"] == APPROVED
	assert (result["assigned_count"], result["unavailable_count"]) == (2, 1)
	by_line = lines(name)
	assert by_line[first].status == by_line[third].status == ASSIGNED
	assert by_line[contested].status == UNAVAILABLE
	assert "before the approval" in by_line[contested].message
	assert frappe.utils.get_fullname(sales.b) not in by_line[contested].message  # masked for the requester
	assert frappe.db.get_value("Pool Customer", contested, "owned_by") == sales.b
	for pc in (first, third):
		row = frappe.db.get_value("Pool Customer", pc, ["status", "owned_by"], as_dict=True)
		assert row.status == OWNED and row.owned_by == sales.a
		log = frappe.db.get_value(
			"Pool Log",
			{"pool_customer": pc, "action": ASSIGN, "to_user": sales.a},
			["rule", "by_user", "reason"],
			as_dict=True,
		)
		assert log.rule == f"allocation request {name}" and log.by_user == sales.manager
		assert log.reason == "重点跟进华东区环保项目"
	assert not frappe.db.exists("Pool Log", {"pool_customer": contested, "to_user": sales.a})
	doc = frappe.get_doc(DOCTYPE, name)
	assert doc.decided_by == sales.manager and doc.decided_at and doc.decision_note == "同意，注意跟进节奏"
	[subject] = notifications(sales.a, name)
	assert name in subject and "2 of 3" in subject


def test_apply_and_approve_pools_are_claimed_through_requests(make_user):
	a, b = make_user("Sales User"), make_user("Sales User")
	manager = make_user("Sales User", "Sales Manager")
	pool = make_pool(members=[a, b], admins=[manager], claim_mode=pool_settings_.APPLY_AND_APPROVE)
	pc = make_pool_customer(pool)
	frappe.set_user(a)
	assert (
		pool_api.pool_status(pc)["can"]["claim"] is False and pool_api.pool_status(pc)["can"]["apply"] is True
	)
	with pytest.raises(errors.PoolRuleError, match="allocation request"):
		pool_api.claim(pc)
	mine = request_as(a, [pc])
	theirs = request_as(b, [pc])  # both apply for the same customer
	act(manager, theirs, "Approve")
	act(manager, mine, "Approve")
	frappe.set_user("Administrator")
	assert lines(theirs)[pc].status == ASSIGNED and lines(mine)[pc].status == UNAVAILABLE
	assert frappe.db.get_value("Pool Customer", pc, "owned_by") == b
	assert notifications(a, mine) and notifications(b, theirs)


def test_nobody_approves_their_own_request(make_user):
	manager = make_user("Sales User", "Sales Manager")
	pool = make_pool(members=[manager])
	pc = make_pool_customer(pool)
	name = request_as(manager, [pc])

	frappe.set_user(manager)
	with pytest.raises(frappe.ValidationError, match="Self approval"):
		apply_workflow(frappe.get_doc(DOCTYPE, name), "Approve")  # the Workflow's own check
	doc = frappe.get_doc(DOCTYPE, name)
	doc.workflow_state = APPROVED  # around the Workflow's buttons: the server still refuses
	with pytest.raises(errors.SelfApprovalError):
		doc.save()
	doc.reload()
	doc.workflow_state = REJECTED
	with pytest.raises(errors.SelfApprovalError):
		doc.save()
	frappe.set_user("Administrator")
	assert frappe.db.get_value(DOCTYPE, name, "workflow_state") == PENDING_APPROVAL
	assert frappe.db.get_value("Pool Customer", pc, "status") == IN_POOL


def test_only_managers_approve(sales):
	pc = make_pool_customer(sales.pool)
	name = request_as(sales.a, [pc])
	with pytest.raises(frappe.PermissionError):
		act(sales.b, name, "Approve")  # another salesperson does not even see the request
	with pytest.raises(WorkflowTransitionError):
		act(sales.a, name, "Approve")  # a sales user has no Approve transition
	frappe.set_user("Administrator")
	assert frappe.db.get_value(DOCTYPE, name, "workflow_state") == PENDING_APPROVAL


def test_a_rejection_assigns_nothing_and_tells_the_requester(sales):
	pc = make_pool_customer(sales.pool)
	name = request_as(sales.a, [pc])

	result = act(sales.manager, name, "Reject", "该客户已有合作渠道")

	frappe.set_user("Administrator")
	assert result["workflow_state"] == REJECTED and result["assigned_count"] == 0
	assert lines(name)[pc].status == PENDING
	assert frappe.db.get_value("Pool Customer", pc, "status") == IN_POOL
	[subject] = notifications(sales.a, name)
	assert "rejected" in subject
	message = frappe.db.get_value(
		"Notification Log", {"for_user": sales.a, "document_name": name}, "email_content"
	)
	assert "该客户已有合作渠道" in message


def test_cap_and_cooldown_are_checked_again_at_approval(make_user):
	a = make_user("Sales User")
	manager = make_user("Sales User", "Pool Manager")
	pool = make_pool(members=[a], admins=[manager], max_owned=1, cooldown_days=30)
	given_up, wanted, other = (make_pool_customer(pool) for _ in range(3))
	frappe.set_user("Administrator")
	ownership.assign(given_up, a, "试跟进")
	frappe.set_user(a)
	ownership.release(given_up, "客户暂无预算")
	name = request_as(a, [given_up, wanted, other])

	act(manager, name, "Approve")

	frappe.set_user("Administrator")
	by_line = lines(name)
	assert by_line[given_up].status == UNAVAILABLE and "again after 30 days" in by_line[given_up].message
	assert by_line[wanted].status == ASSIGNED
	assert by_line[other].status == UNAVAILABLE and "the most allowed" in by_line[other].message
	assert frappe.db.get_value("Pool Customer", other, "status") == IN_POOL
	assert frappe.db.count("Pool Customer", {"pool": pool, "owned_by": a}) == 1


def test_a_request_is_checked_when_made_and_frozen_once_decided(sales, make_user):
	outsider = make_user("Sales User")
	pc, taken = make_pool_customer(sales.pool), make_pool_customer(sales.pool, owner=sales.b)
	with pytest.raises(frappe.ValidationError, match="reason"):
		request_as(sales.a, [pc], reason="  ")
	with pytest.raises(frappe.ValidationError, match="no longer in the pool"):
		request_as(sales.a, [pc, taken])
	with pytest.raises(frappe.PermissionError):  # not a member: may not even read the customer
		request_as(outsider, [pc])
	name = request_as(sales.a, [pc])
	with pytest.raises(frappe.ValidationError, match="already requested"):
		request_as(sales.a, [pc])
	frappe.set_user(sales.a)
	doc = frappe.get_doc(DOCTYPE, name)
	doc.reason = "改一下理由"
	with pytest.raises(frappe.ValidationError, match="Only a draft"):
		doc.save()

	act(sales.manager, name, "Approve")
	frappe.set_user("Administrator")
	doc = frappe.get_doc(DOCTYPE, name)
	doc.decision_note = "事后修改"
	with pytest.raises(frappe.ValidationError, match="can no longer be changed"):
		doc.save()
	with pytest.raises(frappe.PermissionError):
		frappe.delete_doc(DOCTYPE, name)


def test_the_requester_may_withdraw_and_sees_only_their_own_requests(sales):
	pc = make_pool_customer(sales.pool)
	name = request_as(sales.a, [pc])
	other = request_as(sales.b, [make_pool_customer(sales.pool)])
	frappe.set_user(sales.a)
	assert frappe.get_list(DOCTYPE, pluck="name") == [name]
	assert act(sales.a, name, "Cancel")["workflow_state"] == CANCELLED
	frappe.set_user(sales.manager)
	assert {name, other} <= set(frappe.get_list(DOCTYPE, pluck="name"))


def test_drafts_are_submitted_by_the_workflow_and_approvers_are_notified(sales):
	pc = make_pool_customer(sales.pool)
	name = request_as(sales.a, [pc], submit=0)
	assert frappe.db.get_value(DOCTYPE, name, "workflow_state") == "Draft"
	assert act(sales.a, name, "Submit for Approval")["workflow_state"] == PENDING_APPROVAL
	frappe.set_user("Administrator")
	assert notifications(sales.manager, name)


def test_an_outgoing_email_account_gets_the_decision_queued(sales):
	account = frappe.get_doc(
		{
			"doctype": "Email Account",
			"email_account_name": f"crm-pool-test-{frappe.generate_hash(length=6)}",
			"email_id": "notify@crm-pool.test",
			"enable_outgoing": 1,
			"default_outgoing": 1,
			"smtp_server": "smtp.crm-pool.test",
			"awaiting_password": 1,
		}
	)
	account.flags.ignore_validate = True
	account.insert(ignore_permissions=True)
	frappe.local.outgoing_email_account = {}
	pc = make_pool_customer(sales.pool)
	name = request_as(sales.a, [pc])
	act(sales.manager, name, "Approve")
	frappe.set_user("Administrator")
	frappe.local.outgoing_email_account = {}
	queued = frappe.get_all(
		"Email Queue", filters={"reference_doctype": DOCTYPE, "reference_name": name}, pluck="name"
	)
	assert queued
	recipients = frappe.get_all(
		"Email Queue Recipient", filters={"parent": ("in", queued)}, pluck="recipient"
	)
	assert sales.a in recipients


def test_a_chinese_requester_reads_the_results_in_chinese(make_user):
	a = make_user("Sales User", language="zh")
	b = make_user("Sales User")
	manager = make_user("Sales User", "Pool Manager")
	pool = make_pool(members=[a, b], admins=[manager])
	wanted, contested = make_pool_customer(pool), make_pool_customer(pool)
	name = request_as(a, [wanted, contested])
	frappe.set_user(b)
	ownership.claim(contested)

	act(manager, name, "Approve")

	frappe.set_user("Administrator")
	by_line = lines(name)
	assert by_line[wanted].message.startswith("已分配给")
	assert "在审批前已被" in by_line[contested].message
	[subject] = notifications(a, name)
	assert subject.startswith("您的分配申请") and "1 个已分配给您" in subject
