"""Recycle (回收): the daily job returns past-due customers to the public pool with a log entry and
tells their owners; exempt and locked customers stay; owners are reminded K days ahead, once."""

from datetime import timedelta

import frappe
import pytest
from frappe.utils import get_datetime, now_datetime

from crm_pool import bulk_demo
from crm_pool.core import mirror
from crm_pool.core.status import CONVERTED, IN_POOL, LOCKED, OWNED, RECYCLE
from crm_pool.pool import recycle
from tests.factories import (
	convert_to_customer,
	make_opportunity,
	make_recycle_pool,
	make_recycle_pool_customer,
	pool_customer,
	set_dates,
)


@pytest.fixture
def mail_queue():
	"""An outgoing Email Account (mails are queued; the scheduler that sends them is off)."""
	frappe.get_doc(
		{
			"doctype": "Email Account",
			"email_account_name": "回收通知测试",
			"email_id": "notifications@crm-pool.test",
			"enable_outgoing": 1,
			"default_outgoing": 1,
			"smtp_server": "smtp.crm-pool.invalid",
			"smtp_port": 587,
			"no_smtp_authentication": 1,
		}
	).insert(ignore_permissions=True)
	frappe.local.outgoing_email_account = {}
	yield
	frappe.local.outgoing_email_account = {}


@pytest.fixture
def owner(make_user) -> str:
	return make_user("Sales User")


@pytest.fixture
def pool() -> str:
	return make_recycle_pool(no_followup_days=30, reminder_days=3)


def notifications(user: str) -> list[frappe._dict]:
	return frappe.get_all(
		"Notification Log",
		filters={"for_user": user, "type": "Alert"},
		fields=["subject", "email_content", "type", "link"],
	)


def queued_mails(user: str) -> int:
	"""Mails queued for `user` by the recycle job (not Frappe's own assignment mails)."""
	return len(
		frappe.db.sql(
			"""SELECT q.name FROM `tabEmail Queue` q
			JOIN `tabEmail Queue Recipient` r ON r.parent = q.name
			WHERE r.recipient = %s AND q.message LIKE %s""",
			(user, "%" + "public pool" + "%"),
		)
	)


def recycle_logs(pc_name: str) -> list[frappe._dict]:
	return frappe.get_all(
		"Pool Log",
		filters={"pool_customer": pc_name, "action": RECYCLE},
		fields=["from_user", "to_user", "rule", "reason", "pool", "by_user"],
	)


def test_the_daily_job_recycles_past_due_customers_and_tells_the_owner(
	pool, owner, mail_queue, run_scheduled
):
	due = make_recycle_pool_customer(pool, owner, claimed_days_ago=31)
	due2 = make_recycle_pool_customer(pool, owner, claimed_days_ago=40)
	fresh = make_recycle_pool_customer(pool, owner, claimed_days_ago=20)
	assert get_datetime(due.recycle_due_at) < now_datetime()
	for pc in (due, fresh):
		mirror.mirror_owner(pc, None)  # the owner's Frappe assignment on the Lead
	assert mirror.assigned_users("Lead", due.lead) == [owner]

	run_scheduled("crm_pool.pool.recycle.run_daily")

	for pc in (due, due2):
		row = pool_customer(pc.name)
		assert row.status == IN_POOL
		assert row.owned_by is None and row.previous_owner == owner
		assert row.claimed_at is None and row.recycle_due_at is None and row.reminder_sent_at is None
		assert row.released_at and row.pool_entered_at
		assert frappe.db.get_value("Lead", pc.lead, "lead_owner") is None
		assert mirror.assigned_users("Lead", pc.lead) == []
		(entry,) = recycle_logs(pc.name)
		assert entry.from_user == owner and entry.to_user is None and entry.pool == pool
		assert entry.rule == "no_followup:30d"
	assert pool_customer(fresh.name).status == OWNED
	assert not recycle_logs(fresh.name)
	assert (
		frappe.db.get_value("ToDo", {"reference_name": due.lead, "allocated_to": owner}, "status")
		== "Cancelled"
	)
	assert (
		frappe.db.get_value("ToDo", {"reference_name": fresh.lead, "allocated_to": owner}, "status") == "Open"
	)
	assert mirror.assigned_users("Lead", fresh.lead) == [owner]
	assert frappe.db.get_value("Lead", fresh.lead, "lead_owner") == owner

	# one notification and one mail for the owner, naming both customers
	(note,) = notifications(owner)
	assert note.type == "Alert" and "2" in note.subject
	assert due.customer_name in note.email_content and due2.customer_name in note.email_content
	assert queued_mails(owner) == 1


def test_exempt_customers_stay_with_their_owner(owner, mail_queue):
	pool = make_recycle_pool(no_followup_days=30, exempt_open_opportunity=1, exempt_with_deal=1)
	with_opportunity = make_recycle_pool_customer(pool, owner, claimed_days_ago=45)
	make_opportunity("Lead", with_opportunity.lead, owner=owner)
	set_dates(with_opportunity.name, last_followup_at=None, claimed_at=now_datetime() - timedelta(days=45))
	with_lost_opportunity = make_recycle_pool_customer(pool, owner, claimed_days_ago=45)
	make_opportunity("Lead", with_lost_opportunity.lead, status="Lost")
	set_dates(with_lost_opportunity.name, last_followup_at=None)
	with_deal = make_recycle_pool_customer(pool, owner, claimed_days_ago=45)
	set_dates(with_deal.name, last_deal_at=now_datetime() - timedelta(days=40))
	locked = make_recycle_pool_customer(pool, owner, claimed_days_ago=45, status=LOCKED)
	frappe.db.set_value("Pool Customer", locked.name, "recycle_due_at", now_datetime() - timedelta(days=1))

	result = recycle.recycle_due()

	assert result["recycled"] == 1
	for pc in (with_opportunity, with_deal, locked):
		assert pool_customer(pc.name).owned_by == owner
		assert not recycle_logs(pc.name)
	assert pool_customer(locked.name).status == LOCKED
	assert pool_customer(with_lost_opportunity.name).status == IN_POOL


def test_an_open_opportunity_exempts_only_when_it_is_the_owners_and_recent(owner, make_user, mail_queue):
	"""Recycling cannot be bought: an Opportunity made by someone else, or the owner's left untouched
	for longer than the follow-up days, does not keep a customer from the pool."""
	pool = make_recycle_pool(no_followup_days=30, exempt_open_opportunity=1)
	long_ago = now_datetime() - timedelta(days=60)

	def due_customer(opportunity_by: str, opportunity_owner: str | None = None):
		pc = make_recycle_pool_customer(pool, owner, claimed_days_ago=45)
		opportunity = make_opportunity("Lead", pc.lead, owner=opportunity_owner)
		frappe.db.set_value("Opportunity", opportunity, "owner", opportunity_by, update_modified=False)
		return pc, opportunity

	stranger = make_user("Sales User")
	bought, _ = due_customer(opportunity_by=stranger)  # an empty Opportunity by someone else
	given, _ = due_customer(opportunity_by=stranger, opportunity_owner=stranger)
	stale, stale_opportunity = due_customer(opportunity_by=owner, opportunity_owner=owner)
	frappe.db.set_value("Opportunity", stale_opportunity, "modified", long_ago, update_modified=False)
	active, _ = due_customer(opportunity_by="Administrator", opportunity_owner=owner)
	assigned, assigned_opportunity = due_customer(opportunity_by="Administrator")
	frappe.get_doc(  # the owner is assigned the Opportunity itself (not crm_pool's Lead assignment)
		{
			"doctype": "ToDo",
			"allocated_to": owner,
			"reference_type": "Opportunity",
			"reference_name": assigned_opportunity,
			"description": "跟进报价",
		}
	).insert(ignore_permissions=True)
	discussed, discussed_opportunity = due_customer(opportunity_by=owner)  # the owner made it
	frappe.get_doc("Opportunity", discussed_opportunity).add_comment("Comment", "客户在比价，下周回复")
	frappe.db.set_value("Opportunity", discussed_opportunity, "modified", long_ago, update_modified=False)
	for pc in (bought, given, stale, active, assigned, discussed):
		set_dates(pc.name, last_followup_at=None, claimed_at=now_datetime() - timedelta(days=45))

	assert recycle.recycle_due()["recycled"] == 3
	for pc in (bought, given, stale):
		assert pool_customer(pc.name).status == IN_POOL
		assert recycle_logs(pc.name)
	for pc in (active, assigned, discussed):
		assert pool_customer(pc.name).owned_by == owner
		assert not recycle_logs(pc.name)


def test_without_exemptions_an_open_opportunity_or_a_deal_does_not_protect(pool, owner, mail_queue):
	pc = make_recycle_pool_customer(pool, owner, claimed_days_ago=45)
	make_opportunity("Lead", pc.lead)
	set_dates(pc.name, last_followup_at=None, last_deal_at=now_datetime() - timedelta(days=40))
	assert recycle.recycle_due()["recycled"] == 1
	assert pool_customer(pc.name).status == IN_POOL


def test_a_converted_customer_is_recycled_and_its_account_manager_cleared(pool, owner, mail_queue):
	pc = make_recycle_pool_customer(pool, owner, claimed_days_ago=31)
	customer = convert_to_customer(pc)
	frappe.db.set_value("Pool Customer", pc.name, "status", CONVERTED)
	set_dates(pc.name, last_followup_at=None)
	assert recycle.recycle_due()["recycled"] == 1
	assert pool_customer(pc.name).status == IN_POOL
	assert frappe.db.get_value("Customer", customer, "account_manager") is None


def test_the_grade_rule_decides_who_is_recycled(owner, mail_queue):
	pool = make_recycle_pool(
		no_followup_days=30,
		no_deal_days=0,
		grade_rules=[{"grade": "A", "no_followup_days": 90}, {"grade": "C", "no_deal_days": 20}],
	)
	a = make_recycle_pool_customer(pool, owner, claimed_days_ago=40, grade="A")
	b = make_recycle_pool_customer(pool, owner, claimed_days_ago=40, grade="B")
	c = make_recycle_pool_customer(pool, owner, claimed_days_ago=25, grade="C")
	assert recycle.recycle_due()["recycled"] == 2
	assert pool_customer(a.name).status == OWNED
	assert recycle_logs(b.name)[0].rule == "no_followup:30d"
	assert recycle_logs(c.name)[0].rule == "no_deal:20d"


def test_recycle_due_at_a_given_time(pool, owner, mail_queue):
	pc = make_recycle_pool_customer(pool, owner, claimed_days_ago=20)
	assert recycle.recycle_due(now=now_datetime() + timedelta(days=5))["recycled"] == 0
	assert recycle.recycle_due(now=now_datetime() + timedelta(days=11))["recycled"] == 1
	assert pool_customer(pc.name).status == IN_POOL


def test_collaborators_lose_access_when_the_customer_is_recycled(pool, owner, make_user, mail_queue):
	pc = make_recycle_pool_customer(pool, owner, claimed_days_ago=31)
	doc = frappe.get_doc("Pool Customer", pc.name)
	doc.append("collaborators", {"user": make_user("Sales User"), "access": "Read"})
	doc.db_update_all()
	assert frappe.db.count("Pool Customer Collaborator", {"parent": pc.name}) == 1
	recycle.recycle_due()
	assert frappe.db.count("Pool Customer Collaborator", {"parent": pc.name}) == 0


def test_no_outgoing_email_account_still_notifies_in_the_desk(pool, owner):
	frappe.db.sql("UPDATE `tabEmail Account` SET enable_outgoing = 0")
	frappe.local.outgoing_email_account = {}
	pc = make_recycle_pool_customer(pool, owner, claimed_days_ago=31)
	assert recycle.recycle_due()["recycled"] == 1
	assert pool_customer(pc.name).status == IN_POOL
	assert len(notifications(owner)) == 1
	assert queued_mails(owner) == 0


def test_owners_are_reminded_k_days_ahead_once(pool, owner, make_user, mail_queue):
	soon = make_recycle_pool_customer(pool, owner, claimed_days_ago=28)  # due in 2 days
	later = make_recycle_pool_customer(pool, owner, claimed_days_ago=25)  # due in 5 days
	other_owner = make_user("Sales User")
	other = make_recycle_pool_customer(pool, other_owner, claimed_days_ago=27.5)

	result = recycle.send_reminders()
	assert result == {"reminded": 2, "owners": 2, "seconds": result["seconds"]}
	assert pool_customer(soon.name).reminder_sent_at is not None
	assert pool_customer(later.name).reminder_sent_at is None
	(note,) = notifications(owner)
	assert soon.customer_name in note.email_content and later.customer_name not in note.email_content
	assert queued_mails(owner) == 1 and queued_mails(other_owner) == 1
	assert pool_customer(other.name).reminder_sent_at is not None

	# the next day: nothing new for `soon`; `later` is not within 3 days yet either
	assert recycle.send_reminders()["reminded"] == 0
	assert len(notifications(owner)) == 1

	# two days on, `later` is within 3 days: one more reminder, for it alone
	result = recycle.send_reminders(now=now_datetime() + timedelta(days=2.5))
	assert result["reminded"] == 1
	assert len(notifications(owner)) == 2


def test_a_follow_up_after_the_reminder_earns_a_new_one_later(pool, owner, mail_queue):
	pc = make_recycle_pool_customer(pool, owner, claimed_days_ago=28)
	assert recycle.send_reminders()["reminded"] == 1
	frappe.get_doc("Lead", pc.lead).add_comment("Comment", "客户答应下月签约")
	assert pool_customer(pc.name).reminder_sent_at is None
	assert recycle.send_reminders()["reminded"] == 0  # due in 30 days now
	assert recycle.send_reminders(now=now_datetime() + timedelta(days=28))["reminded"] == 1


def test_exempt_and_locked_customers_get_no_reminder(owner, mail_queue):
	pool = make_recycle_pool(no_followup_days=30, reminder_days=3, exempt_open_opportunity=1)
	pc = make_recycle_pool_customer(pool, owner, claimed_days_ago=28)
	make_opportunity("Lead", pc.lead, owner=owner)
	set_dates(pc.name, last_followup_at=None, claimed_at=now_datetime() - timedelta(days=28))
	locked = make_recycle_pool_customer(pool, owner, claimed_days_ago=28, status=LOCKED)
	assert recycle.send_reminders()["reminded"] == 0
	assert pool_customer(locked.name).reminder_sent_at is None
	assert not notifications(owner)


def test_run_daily_reminds_and_recycles(pool, owner, mail_queue, run_scheduled):
	due = make_recycle_pool_customer(pool, owner, claimed_days_ago=31)
	soon = make_recycle_pool_customer(pool, owner, claimed_days_ago=28)
	result = run_scheduled("crm_pool.pool.recycle.run_daily")
	assert result["reminders"]["reminded"] == 1 and result["recycle"]["recycled"] == 1
	assert pool_customer(due.name).status == IN_POOL
	assert pool_customer(soon.name).reminder_sent_at is not None
	assert len(notifications(owner)) == 2
	assert queued_mails(owner) == 2


def test_zh_messages(owner):
	frappe.local.lang = "zh"
	frappe.translate.clear_cache()
	subject, _message = recycle._recycled_message(3, [], "zh")
	assert subject == "您有 3 个客户已被回收到公海"
	assert recycle.rule_label("no_followup:30d", "zh") == "30 天未跟进"
	assert recycle.rule_label("no_deal:90d", "zh") == "90 天未成交"
	subject, _ = recycle._reminder_message(2, [], "zh")
	assert subject == "您有 2 个客户即将被回收到公海"


def test_bulk_demo_data_is_recycled_set_based_and_removable():
	summary = bulk_demo.make_bulk(400, commit=False)
	assert summary["total"] == 400 and summary["inserted"] == 400
	assert summary["by_status"][OWNED] > 0 and summary["by_status"][LOCKED] > 0
	assert 0 < summary["past_due"] < summary["by_status"][OWNED]
	assert frappe.db.count(
		"Lead", {"name": ("like", bulk_demo.LEAD_PREFIX + "%"), "lead_owner": ("is", "set")}
	) == (summary["by_status"][OWNED] + summary["by_status"][LOCKED])

	result = recycle.recycle_due()
	assert result["recycled"] == summary["past_due"]
	assert (
		frappe.db.count("Pool Log", {"action": RECYCLE, "pool": bulk_demo.BULK_POOL}) == summary["past_due"]
	)
	assert bulk_demo.state_summary()["past_due"] == 0

	bulk_demo.apply_state()  # the reference state again
	assert bulk_demo.state_summary()["past_due"] == summary["past_due"]

	deleted = bulk_demo.clear_bulk(commit=False)
	assert deleted["Pool Customer"] == 400 and deleted["Lead"] == 400
	assert not frappe.db.exists("Customer Pool", bulk_demo.BULK_POOL)
