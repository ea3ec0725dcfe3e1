"""Referral rewards (issue 11): approved by another manager, never by the sharer; paid by exactly one
balanced, submitted Journal Entry (the employee as party), reopened when it is cancelled; refused
with missing settings and nothing half-written; the rewarded shares follow; who reads a reward."""

from __future__ import annotations

import json

import frappe
import pytest
from frappe.model.workflow import apply_workflow
from frappe.utils import flt

from crm_pool.core.errors import AuditedPathError, PoolRuleError, SelfApprovalError
from crm_pool.sharing.model import APPROVED, CONVERTED, DRAFT, PAID, REWARD, REWARD_LINE, REWARDED, SUBMITTED
from tests.factories import (
	call_whitelisted,
	make_employee,
	make_reward,
	make_share_row,
	set_payout_settings,
)


@pytest.fixture
def team(make_user):
	t = frappe._dict(
		sharer=make_user("Sales User", "Employee"),
		manager_sharer=make_user("Sales Manager", "Employee"),
		manager=make_user("Sales Manager"),
		pool_manager=make_user("Pool Manager"),
		accountant=make_user("Accounts User"),
		stranger=make_user("Sales User", "Employee"),
	)
	t.employee = make_employee(t.sharer)
	t.manager_employee = make_employee(t.manager_sharer)
	t.accounts = set_payout_settings()
	return t


def act(user: str, name: str, action: str):
	"""Apply a Workflow action to the reward as `user` (back to Administrator afterwards)."""
	frappe.set_user(user)
	try:
		return apply_workflow(frappe.get_doc(REWARD, name), action)
	finally:
		frappe.set_user("Administrator")


def approved(team, sharer: str | None = None, amount: float = 1500, **kwargs):
	doc = make_reward(sharer or team.sharer, amount, **kwargs)
	act(team.manager, doc.name, "Submit")
	act(team.pool_manager, doc.name, "Approve")
	return frappe.get_doc(REWARD, doc.name)


def journal_entries(reward: str, docstatus: int | None = 1) -> list[str]:
	filters = {"referral_reward": reward}
	if docstatus is not None:
		filters["docstatus"] = docstatus
	return frappe.get_all("Journal Entry", filters=filters, pluck="name")


def test_nobody_approves_or_pays_their_own_reward_even_as_a_manager(team):
	doc = make_reward(team.manager_sharer, 1000, employee=team.manager_employee)
	act(team.manager, doc.name, "Submit")
	with pytest.raises(SelfApprovalError, match="your own referral reward"):
		act(team.manager_sharer, doc.name, "Approve")
	with pytest.raises(SelfApprovalError):
		act(team.manager_sharer, doc.name, "Reject")
	assert frappe.db.get_value(REWARD, doc.name, "workflow_state") == SUBMITTED

	frappe.local.lang = "zh"  # the refusal is translated
	with pytest.raises(SelfApprovalError, match="不能"):
		act(team.manager_sharer, doc.name, "Approve")
	frappe.local.lang = "en"

	act(team.manager, doc.name, "Approve")  # another manager may
	assert frappe.db.get_value(REWARD, doc.name, ["workflow_state", "approved_by"]) == (
		APPROVED,
		team.manager,
	)
	with pytest.raises(SelfApprovalError):  # a Sales Manager may pay, but not their own reward
		act(team.manager_sharer, doc.name, "Pay")
	assert frappe.db.get_value(REWARD, doc.name, "workflow_state") == APPROVED and not journal_entries(
		doc.name
	)
	act(team.accountant, doc.name, "Pay")
	assert frappe.db.get_value(REWARD, doc.name, "workflow_state") == PAID


def test_a_salesperson_cannot_approve_and_a_reward_is_frozen_once_submitted(team):
	doc = make_reward(team.sharer, 800, employee=team.employee)
	act(team.manager, doc.name, "Submit")
	with pytest.raises(frappe.ValidationError):  # no transition for a Sales User, the sharer included
		act(team.sharer, doc.name, "Approve")
	with pytest.raises(frappe.PermissionError):  # another salesperson does not even read it
		act(team.stranger, doc.name, "Approve")
	frappe.set_user(team.manager)
	forged = frappe.get_doc(REWARD, doc.name)
	forged.net_amount = 80000
	with pytest.raises((AuditedPathError, PoolRuleError)):
		forged.save()
	forged = frappe.get_doc(REWARD, doc.name)
	forged.workflow_state = PAID  # skipping Approved by a plain save
	with pytest.raises(AuditedPathError):
		forged.save()
	frappe.set_user("Administrator")
	assert flt(frappe.db.get_value(REWARD, doc.name, "net_amount")) == 800
	act(team.pool_manager, doc.name, "Reject")  # back to Draft, unapproved
	assert frappe.db.get_value(REWARD, doc.name, ["workflow_state", "approved_by"]) == (DRAFT, None)


def test_paid_books_exactly_one_balanced_journal_entry_and_a_cancel_reopens_it(team):
	share = make_share_row(team.sharer, status=CONVERTED)
	doc = approved(team, amount=1500, clawback=300, employee=team.employee, share=share)
	act(team.accountant, doc.name, "Pay")

	doc.reload()
	[je_name] = journal_entries(doc.name)
	assert doc.workflow_state == PAID and doc.journal_entry == je_name and doc.paid_on
	je = frappe.get_doc("Journal Entry", je_name)
	assert je.docstatus == 1 and je.referral_reward == doc.name and je.company == doc.company
	assert flt(je.total_debit) == flt(je.total_credit) == 1200
	by_account = {row.account: row for row in je.accounts}
	expense, payable = by_account[team.accounts.expense], by_account[team.accounts.payable]
	assert flt(expense.debit) == 1200 and expense.cost_center == team.accounts.cost_center
	assert flt(payable.credit) == 1200 and (payable.party_type, payable.party) == ("Employee", team.employee)
	assert doc.name in je.user_remark
	assert frappe.db.get_value("Customer Share", share, "status") == REWARDED

	# a second payment: no transition from Paid, and no second Journal Entry for the reward
	with pytest.raises(frappe.ValidationError):
		act(team.accountant, doc.name, "Pay")
	second = frappe.copy_doc(je)
	second.referral_reward = doc.name
	with pytest.raises(PoolRuleError, match="paid already"):
		second.insert(ignore_permissions=True)
	assert journal_entries(doc.name, None) == [je_name]

	frappe.set_user(team.accountant)
	frappe.get_doc("Journal Entry", je_name).cancel()
	frappe.set_user("Administrator")
	doc.reload()
	assert (doc.workflow_state, doc.journal_entry, doc.paid_on) == (APPROVED, None, None)
	assert frappe.db.get_value("Customer Share", share, "status") == CONVERTED
	comments = frappe.get_all(
		"Comment", filters={"reference_doctype": REWARD, "reference_name": doc.name}, pluck="content"
	)
	assert any(je_name in c and "cancelled" in c for c in comments)

	act(team.accountant, doc.name, "Pay")  # paid again: a new entry
	doc.reload()
	assert doc.workflow_state == PAID and doc.journal_entry not in (None, je_name)
	assert journal_entries(doc.name) == [doc.journal_entry]
	assert frappe.db.get_value("Customer Share", share, "status") == REWARDED


def test_a_negative_net_books_the_reverse_sides_and_zero_books_nothing(team):
	set_payout_settings("cash")  # a cash payout account needs no party
	doc = approved(team, amount=200, clawback=500)
	act(team.accountant, doc.name, "Pay")
	je = frappe.get_doc("Journal Entry", frappe.db.get_value(REWARD, doc.name, "journal_entry"))
	by_account = {row.account: row for row in je.accounts}
	assert flt(by_account[team.accounts.cash].debit) == 300 and not by_account[team.accounts.cash].party
	assert flt(by_account[team.accounts.expense].credit) == 300

	zero = approved(team, amount=500, clawback=500)
	act(team.accountant, zero.name, "Pay")
	assert frappe.db.get_value(REWARD, zero.name, ["workflow_state", "journal_entry"]) == (PAID, None)
	assert not journal_entries(zero.name, None)


def test_missing_or_invalid_settings_refuse_and_leave_the_reward_approved(team):
	doc = approved(team, employee=team.employee)
	set_payout_settings(payout_account=None)
	with pytest.raises(PoolRuleError, match="Payout Account"):
		act(team.accountant, doc.name, "Pay")
	frappe.local.lang = "zh"
	with pytest.raises(PoolRuleError, match="客户共享设置缺少"):
		act(team.accountant, doc.name, "Pay")
	frappe.local.lang = "en"
	assert frappe.db.get_value(REWARD, doc.name, "workflow_state") == APPROVED
	assert not journal_entries(doc.name, None)

	set_payout_settings()
	nobody = approved(team, sharer=team.stranger)  # no Employee: a Payable account needs a party
	with pytest.raises(PoolRuleError, match="no Employee"):
		act(team.accountant, nobody.name, "Pay")
	assert frappe.db.get_value(REWARD, nobody.name, "workflow_state") == APPROVED

	# the entry fails when it is submitted (the books are frozen): no Journal Entry is left behind
	frappe.db.set_single_value(
		"Accounts Settings", "acc_frozen_upto", frappe.utils.add_days(frappe.utils.nowdate(), 1)
	)
	with pytest.raises(frappe.ValidationError):
		act(team.accountant, doc.name, "Pay")
	frappe.db.set_single_value("Accounts Settings", "acc_frozen_upto", None)
	assert frappe.db.get_value(REWARD, doc.name, ["workflow_state", "journal_entry"]) == (APPROVED, None)
	assert not journal_entries(doc.name, None)

	settings = frappe.get_single("Sharing Settings")
	settings.payout_account = team.accounts.income
	with pytest.raises(PoolRuleError, match="Payable, Cash or Bank"):
		settings.save(ignore_permissions=True)
	settings.reload()
	settings.reward_expense_account = team.accounts.income
	with pytest.raises(PoolRuleError, match="Expense account"):
		settings.save(ignore_permissions=True)


def test_an_accountants_journal_entry_pays_the_reward_when_submitted(team):
	share = make_share_row(team.sharer, status=CONVERTED)
	doc = approved(team, amount=900, employee=team.employee, share=share)
	with pytest.raises(frappe.PermissionError):
		frappe.set_user(team.stranger)
		try:
			call_whitelisted("crm_pool.api.sharing.make_journal_entry", reward=doc.name)
		finally:
			frappe.set_user("Administrator")
	frappe.set_user(team.accountant)
	name = call_whitelisted("crm_pool.api.sharing.make_journal_entry", reward=doc.name)
	assert call_whitelisted("crm_pool.api.sharing.make_journal_entry", reward=doc.name) == name  # one draft
	je = frappe.get_doc("Journal Entry", name)
	assert je.docstatus == 0 and je.referral_reward == doc.name and flt(je.total_debit) == 900
	assert frappe.db.get_value(REWARD, doc.name, "workflow_state") == APPROVED  # a draft pays nothing
	open_actions = {"reference_doctype": REWARD, "reference_name": doc.name, "status": "Open"}
	assert frappe.get_all("Workflow Action", filters=open_actions, ignore_permissions=True)
	je.submit()
	frappe.set_user("Administrator")
	assert frappe.db.get_value(REWARD, doc.name, ["workflow_state", "journal_entry"]) == (PAID, name)
	assert frappe.db.get_value("Customer Share", share, "status") == REWARDED
	# the Workflow's open "Pay" actions of the approved reward are done
	assert not frappe.get_all("Workflow Action", filters=open_actions)


@pytest.mark.parametrize(
	"path",
	["get_list", "get_doc", "rest", "lines"],
)
def test_only_the_sharer_managers_and_accounts_read_a_reward(team, path):
	mine = make_reward(team.sharer, 700, employee=team.employee)
	other = make_reward(team.stranger, 300)

	def reads(user: str, name: str) -> bool:
		frappe.set_user(user)
		try:
			if path == "get_list":
				return name in frappe.get_list(REWARD, pluck="name", limit_page_length=0)
			if path == "lines":  # the evidence read on its own, as a child doctype's list
				rows = call_whitelisted(
					"frappe.client.get_list",
					doctype=REWARD_LINE,
					parent=REWARD,
					fields=["parent"],
					limit_page_length=0,
				)
				return name in {row["parent"] for row in rows}
			if path == "get_doc":
				try:
					return frappe.get_doc(REWARD, name).has_permission("read")
				except frappe.PermissionError:
					return False
			try:
				got = call_whitelisted("frappe.client.get", doctype=REWARD, name=name)
				return bool(got) and got["name"] == name and got["lines"]
			except frappe.PermissionError:
				return False
		finally:
			frappe.set_user("Administrator")

	assert reads(team.sharer, mine.name)
	assert not reads(team.sharer, other.name)
	assert not reads(team.stranger, mine.name)
	for user in (team.manager, team.pool_manager, team.accountant):
		assert reads(user, mine.name) and reads(user, other.name)
	# a manager who is an employee too: ERPNext limits their Employee links to their own record (a
	# User Permission), which must not hide the sharer's reward
	assert frappe.db.exists("User Permission", {"user": team.manager_sharer, "allow": "Employee"})
	assert reads(team.manager_sharer, mine.name)


def test_a_manager_does_not_edit_their_own_draft_but_the_computation_may(team):
	doc = make_reward(team.manager_sharer, 600)
	frappe.set_user(team.manager_sharer)
	mine = frappe.get_doc(REWARD, doc.name)
	mine.reward_amount = mine.net_amount = 6000
	with pytest.raises(SelfApprovalError, match="your own referral reward"):
		mine.save()
	frappe.flags.computing_referral_rewards = True  # the monthly computation rewriting its draft
	try:
		mine = frappe.get_doc(REWARD, doc.name)
		mine.reward_amount = mine.net_amount = 6000
		mine.save()
	finally:
		frappe.flags.computing_referral_rewards = False
		frappe.set_user("Administrator")
	assert flt(frappe.db.get_value(REWARD, doc.name, "net_amount")) == 6000
	frappe.set_user(team.manager)  # another manager does not correct it by hand either: no evidence
	other = frappe.get_doc(REWARD, doc.name)
	other.reward_amount = other.net_amount = 650
	with pytest.raises(PoolRuleError, match="computed from the documents"):
		other.save()
	other = frappe.get_doc(REWARD, doc.name)
	other.remarks = "已核对"  # a remark is not content
	other.save()
	with pytest.raises(PoolRuleError, match="not made by hand"):  # nor makes one
		frappe.get_doc(
			{
				"doctype": REWARD,
				"sharer": team.sharer,
				"company": other.company,
				"period_start": other.period_start,
				"period_end": other.period_end,
				"net_amount": 99999,
			}
		).insert()
	frappe.set_user("Administrator")
	assert flt(frappe.db.get_value(REWARD, doc.name, "net_amount")) == 6000


def test_an_approved_reward_saved_from_the_form_keeps_its_content(team):
	doc = approved(team, amount=400)
	frappe.set_user(team.accountant)
	try:
		as_sent = json.loads(frappe.as_json(frappe.get_doc(REWARD, doc.name).as_dict()))  # dates as text
		form = frappe.get_doc(as_sent)
		form.remarks = "与财务核对无误"
		form.save()  # unchanged content: saved
		form = frappe.get_doc(json.loads(frappe.as_json(frappe.get_doc(REWARD, doc.name).as_dict())))
		form.net_amount = 4000
		with pytest.raises(AuditedPathError):
			form.save()
	finally:
		frappe.set_user("Administrator")
	assert frappe.db.get_value(REWARD, doc.name, ["remarks", "net_amount"]) == ("与财务核对无误", 400)
