"""Manual grade overrides (issue 10): requested, approved by another manager, kept by every regrade
until the expiry date, then the computed grade returns; both logged. Privacy of the grading rows."""

from __future__ import annotations

import frappe
import pytest
from frappe.model.workflow import apply_workflow
from frappe.utils import add_days, nowdate

from crm_pool.core.errors import SelfApprovalError
from crm_pool.grading.regrade import regrade
from tests.factories import invoice, logs, make_customer, make_pool, make_rule, pc_row


@pytest.fixture
def team(make_user):
	owner, stranger = make_user("Sales User"), make_user("Sales User")
	manager, other_manager = make_user("Sales Manager"), make_user("Pool Manager")
	pool = make_pool(members=[owner, stranger, manager, other_manager])
	make_rule(pool)
	return frappe._dict(
		owner=owner, stranger=stranger, manager=manager, other_manager=other_manager, pool=pool
	)


def request(pc: str, grade: str, as_user: str, days: int = 30) -> frappe.model.document.Document:
	frappe.set_user(as_user)
	doc = frappe.get_doc(
		{
			"doctype": "Customer Grade Override",
			"pool_customer": pc,
			"grade": grade,
			"expiry_date": add_days(nowdate(), days),
			"reason": "战略合作客户，年度框架协议已签",
		}
	).insert()
	return apply_workflow(doc, "Submit for Approval")


def test_an_approved_override_survives_regrades_until_it_expires(team):
	c = make_customer(team.pool, owner=team.owner)
	invoice(c.customer, 30000, days_ago=1)  # computed: C
	frappe.set_user("Administrator")
	regrade()
	assert pc_row(c.pc).grade == "C"

	doc = request(c.pc, "A", team.owner)
	assert doc.workflow_state == "Pending Approval" and pc_row(c.pc).grade == "C"
	frappe.set_user(team.manager)
	doc = apply_workflow(frappe.get_doc("Customer Grade Override", doc.name), "Approve")
	assert doc.decided_by == team.manager
	frappe.set_user("Administrator")
	assert pc_row(c.pc).grade == "A" and pc_row(c.pc).grade_override == doc.name
	assert [(x.from_grade, x.to_grade, x.why) for x in logs(c.pc)][-1] == ("C", "A", "Override")

	regrade()
	regrade()
	assert pc_row(c.pc).grade == "A" and len(logs(c.pc)) == 2  # kept; nothing new logged

	frappe.db.set_value("Customer Grade Override", doc.name, "expiry_date", add_days(nowdate(), -1))
	regrade()
	row = pc_row(c.pc)
	assert row.grade == "C" and not row.grade_override
	assert [(x.from_grade, x.to_grade, x.why) for x in logs(c.pc)][-1] == ("A", "C", "Override Expired")


def test_nobody_approves_their_own_override(team):
	c = make_customer(team.pool, owner=team.owner)
	doc = request(c.pc, "B", team.manager)  # a manager asks for it
	with pytest.raises(frappe.ValidationError, match="Self approval"):  # Frappe's Workflow refuses
		apply_workflow(frappe.get_doc("Customer Grade Override", doc.name), "Approve")
	mine = frappe.get_doc("Customer Grade Override", doc.name)
	mine.workflow_state = "Approved"
	with pytest.raises(SelfApprovalError):  # and so does crm_pool, on a plain save
		mine.save()
	frappe.set_user("Administrator")
	assert frappe.db.get_value("Customer Grade Override", doc.name, "workflow_state") == "Pending Approval"
	assert not pc_row(c.pc).grade
	frappe.set_user(team.other_manager)
	done = apply_workflow(frappe.get_doc("Customer Grade Override", doc.name), "Approve")
	assert done.workflow_state == "Approved" and pc_row(c.pc).grade == "B"


def test_a_salesperson_cannot_approve_or_jump_to_approved(team):
	c = make_customer(team.pool, owner=team.owner)
	doc = request(c.pc, "A", team.owner)
	frappe.set_user(team.stranger)
	with pytest.raises((frappe.PermissionError, frappe.ValidationError)):
		apply_workflow(frappe.get_doc("Customer Grade Override", doc.name), "Approve")
	frappe.set_user(team.owner)
	mine = frappe.get_doc("Customer Grade Override", doc.name)
	mine.workflow_state = "Approved"
	with pytest.raises(frappe.PermissionError):
		mine.save()
	frappe.set_user("Administrator")
	assert frappe.db.get_value("Customer Grade Override", doc.name, "workflow_state") == "Pending Approval"


def test_a_stranger_sales_user_cannot_read_grade_logs_or_overrides(team):
	c = make_customer(team.pool, owner=team.owner)
	invoice(c.customer, 90000, days_ago=1)
	frappe.set_user("Administrator")
	regrade()
	doc = request(c.pc, "B", team.owner)
	log = frappe.get_all("Customer Grade Log", filters={"pool_customer": c.pc}, pluck="name")
	assert log

	frappe.set_user(team.owner)
	assert frappe.get_list("Customer Grade Log", filters={"pool_customer": c.pc}, pluck="name") == log
	assert frappe.get_list("Customer Grade Override", filters={"pool_customer": c.pc}, pluck="name") == [
		doc.name
	]

	frappe.set_user(team.stranger)
	assert frappe.get_list("Customer Grade Log", filters={"pool_customer": c.pc}) == []
	assert frappe.get_list("Customer Grade Override", filters={"pool_customer": c.pc}) == []
	assert not frappe.has_permission("Customer Grade Log", "read", doc=log[0])
	assert not frappe.has_permission("Customer Grade Override", "read", doc=doc.name)
	with pytest.raises(frappe.PermissionError):
		frappe.get_doc("Customer Grade Override", doc.name).check_permission("read")
	# nor request one for a customer they may not read
	with pytest.raises(frappe.PermissionError):
		request(c.pc, "A", team.stranger)


def test_grade_logs_are_append_only(team):
	c = make_customer(team.pool, owner=team.owner)
	invoice(c.customer, 90000, days_ago=1)
	regrade()
	(name,) = frappe.get_all("Customer Grade Log", filters={"pool_customer": c.pc}, pluck="name")
	frappe.set_user(team.manager)
	assert not frappe.has_permission("Customer Grade Log", "write", doc=name)
	assert not frappe.has_permission("Customer Grade Log", "delete", doc=name)


def test_a_pool_member_reads_but_does_not_change_anothers_request(team):
	c = make_customer(team.pool)  # in the pool: every member reads it
	frappe.set_user(team.owner)
	draft = frappe.get_doc(
		{
			"doctype": "Customer Grade Override",
			"pool_customer": c.pc,
			"grade": "A",
			"expiry_date": add_days(nowdate(), 10),
			"reason": "重点拓展客户",
		}
	).insert()
	frappe.set_user(team.stranger)
	assert frappe.has_permission("Customer Grade Override", "read", doc=draft.name)
	theirs = frappe.get_doc("Customer Grade Override", draft.name)
	theirs.grade = "C"
	with pytest.raises(frappe.PermissionError):
		theirs.save()
	frappe.set_user(team.owner)
	mine = frappe.get_doc("Customer Grade Override", draft.name)
	mine.grade = "B"
	mine.save()
	assert frappe.db.get_value("Customer Grade Override", draft.name, "grade") == "B"
