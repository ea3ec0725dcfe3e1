"""The service each grade gets (SPEC §4, seed 003): exclusive managers (专属经理), return visits (回访),
complaints under the grade's Service Level Agreement, and the exclusive manager scorecard."""

from datetime import datetime, timedelta

import frappe
import pytest
from frappe.utils import add_days, get_datetime, getdate, now_datetime, nowdate

from crm_pool.core.errors import AuditedPathError
from crm_pool.core.status import EXCLUSIVE_MANAGER
from crm_pool.grading import managers, scorecard, service, visits
from crm_pool.pool import ownership
from tests.factories import (
	call_whitelisted,
	customer_of_grade,
	make_issue,
	make_recycle_pool,
	pool_customer,
)

# A fixed calendar: Monday 30 November 2026, 10:00 (the agreements work Monday-Friday 09:00-18:00).
MONDAY_10 = datetime(2026, 11, 30, 10, 0)


@pytest.fixture
def owner(make_user) -> str:
	return make_user("Sales User")


@pytest.fixture
def pool() -> str:
	return make_recycle_pool(no_followup_days=30, no_deal_days=0)


def open_visits(pc: str) -> list[frappe._dict]:
	return frappe.get_all(
		"Return Visit",
		filters={"pool_customer": pc, "status": "Planned"},
		fields=["name", "planned_date", "assigned_to", "event", "open_key"],
	)


# --- the policy ------------------------------------------------------------------------------------


def test_policy_ships_defaults_for_each_grade():
	policy = service.policy()
	assert [(g, policy[g].response_hours, policy[g].resolution_days) for g in "ABC"] == [
		("A", 4, 2),
		("B", 8, 3),
		("C", 24, 5),
	]
	assert policy["A"].exclusive_manager_required and not policy["C"].exclusive_manager_required
	rows = frappe.get_all("Grade Service Policy Row", filters={"parent": service.POLICY}, pluck="grade")
	assert sorted(rows) == ["A", "B", "C"], "ensure_policy writes the rows at install/migrate"
	for grade in "ABC":
		assert frappe.db.get_value("Service Level Agreement", service.sla_name(grade), "condition") == (
			f'doc.customer_grade == "{grade}"'
		)


# --- return visits ---------------------------------------------------------------------------------


def test_visits_planned_at_grade_interval_and_not_duplicated(pool, owner, run_scheduled):
	policy = service.policy()
	a = customer_of_grade(pool, owner, "A")
	b = customer_of_grade(pool, owner, "B", claimed_days_ago=10)
	c = customer_of_grade(pool, owner, "C", claimed_days_ago=400)
	ungraded = customer_of_grade(pool, owner, "")
	followed_up = pool_customer(a.name).last_followup_at

	run_scheduled("crm_pool.grading.visits.run_daily")

	(va,) = open_visits(a.name)
	(vb,) = open_visits(b.name)
	(vc,) = open_visits(c.name)
	assert getdate(va.planned_date) == getdate(add_days(nowdate(), policy["A"].visit_interval_days))
	assert getdate(vb.planned_date) == getdate(add_days(nowdate(), policy["B"].visit_interval_days - 10))
	assert getdate(vc.planned_date) == getdate(nowdate()), (
		"a visit long due is planned today, not in the past"
	)
	assert open_visits(ungraded.name) == []
	# A gets an exclusive manager (the owner); each visit is on the assignee's calendar with the party
	assert pool_customer(a.name).exclusive_manager == owner
	assert {va.assigned_to, vb.assigned_to, vc.assigned_to} == {owner}
	event = frappe.get_doc("Event", va.event)
	assert event.owner == owner and event.event_type == "Private"
	assert ("Lead", a.party) in [
		(p.reference_doctype, p.reference_docname) for p in event.event_participants
	] or (
		"Customer",
		a.customer,
	) in [(p.reference_doctype, p.reference_docname) for p in event.event_participants]
	assert pool_customer(a.name).last_followup_at == followed_up, "planning a visit is not a follow-up"

	run_scheduled("crm_pool.grading.visits.run_daily")  # a second run plans nothing new
	for pc in (a, b, c):
		assert len(frappe.get_all("Return Visit", filters={"pool_customer": pc.name})) == 1
	with pytest.raises(frappe.ValidationError):
		frappe.get_doc(
			{"doctype": "Return Visit", "pool_customer": a.name, "planned_date": nowdate()}
		).insert(ignore_permissions=True)


def test_done_visit_moves_recycle_due_date_and_plans_the_next(pool, owner):
	a = customer_of_grade(pool, owner, "A", claimed_days_ago=25)
	due_before = get_datetime(pool_customer(a.name).recycle_due_at)
	assert due_before < now_datetime() + timedelta(days=6)
	visits.plan_visits([a.name])
	(visit,) = open_visits(a.name)
	frappe.db.set_value("Return Visit", visit.name, "planned_date", add_days(nowdate(), -2))
	assert visit.name in [v.name for v in visits.overdue(owner)]

	frappe.set_user(owner)
	result = call_whitelisted(
		"crm_pool.api.grading.complete_visit",
		visit=visit.name,
		outcome="客户对服务满意",
		satisfaction=5,
		feedback="希望增加培训",
		channel="Visit",
	)
	frappe.set_user("Administrator")

	done = frappe.get_doc("Return Visit", visit.name)
	assert (done.status, done.satisfaction, done.channel, done.open_key) == ("Done", 5, "Visit", None)
	due_after = get_datetime(pool_customer(a.name).recycle_due_at)
	assert abs(due_after - (now_datetime() + timedelta(days=30))) < timedelta(minutes=1)
	assert frappe.db.get_value("Event", visit.event, "status") == "Completed"
	(following,) = open_visits(a.name)
	assert result["next"]["name"] == following.name
	assert getdate(following.planned_date) == getdate(
		add_days(nowdate(), service.policy()["A"].visit_interval_days)
	)


def test_policy_recycle_days_apply_to_the_grade(pool, owner):
	b = customer_of_grade(pool, owner, "B", claimed_days_ago=0)
	policy = frappe.get_single(service.POLICY)
	row = next(r for r in policy.policies if r.grade == "B")
	row.no_followup_days = 7
	policy.save()
	due = get_datetime(pool_customer(b.name).recycle_due_at)
	assert abs(due - (now_datetime() + timedelta(days=7))) < timedelta(minutes=1)


# --- exclusive managers ------------------------------------------------------------------------------


def test_exclusive_manager_reads_and_writes_like_a_collaborator(pool, owner, make_user):
	manager, sales_manager = make_user("Sales User"), make_user("Sales Manager")
	a = customer_of_grade(pool, owner, "A")
	customer = frappe.get_doc("Customer", a.customer)
	assert not frappe.has_permission("Customer", "read", customer, user=manager)

	frappe.set_user(sales_manager)  # not through the form or REST: only the logged action
	form = frappe.get_doc("Pool Customer", a.name)
	form.exclusive_manager = manager
	with pytest.raises(AuditedPathError):
		form.save()
	frappe.set_user(owner)  # a sales user may not assign
	with pytest.raises(frappe.PermissionError):
		call_whitelisted("crm_pool.api.grading.assign_exclusive_manager", pool_customer=a.name, user=manager)
	frappe.set_user(sales_manager)
	call_whitelisted(
		"crm_pool.api.grading.assign_exclusive_manager",
		pool_customer=a.name,
		user=manager,
		reason="大客户专属服务",
	)
	frappe.set_user("Administrator")

	assert pool_customer(a.name).exclusive_manager == manager
	log = frappe.get_all(
		"Pool Log",
		filters={"pool_customer": a.name, "action": EXCLUSIVE_MANAGER},
		fields=["to_user", "by_user"],
	)
	assert [(row.to_user, row.by_user) for row in log] == [(manager, sales_manager)]
	assert frappe.db.exists("Notification Log", {"for_user": manager, "document_name": a.name})
	customer = frappe.get_doc("Customer", a.customer)
	assert frappe.has_permission("Customer", "read", customer, user=manager)
	assert frappe.has_permission("Customer", "write", customer, user=manager)
	assert a.customer in frappe.get_list("Customer", pluck="name", user=manager)
	assert frappe.has_permission(
		"Pool Customer", "read", frappe.get_doc("Pool Customer", a.name), user=manager
	)

	ownership.release(a.name, "测试释放")  # access ends with ownership
	assert pool_customer(a.name).exclusive_manager is None
	assert not frappe.has_permission("Customer", "read", frappe.get_doc("Customer", a.customer), user=manager)


def test_a_customer_without_exclusive_manager_is_listed_then_defaulted(pool, owner):
	a = customer_of_grade(pool, owner, "A")
	frappe.db.set_value("Pool Customer", a.name, "exclusive_manager", None)  # graded in bulk, in SQL
	assert a.name in managers.missing()
	assert managers.default_exclusive_managers() >= 1
	assert a.name not in managers.missing()
	assert pool_customer(a.name).exclusive_manager == owner
	assert frappe.db.exists(
		"Pool Log", {"pool_customer": a.name, "action": EXCLUSIVE_MANAGER, "to_user": owner}
	)


# --- complaints ----------------------------------------------------------------------------------------


def test_a_complaint_gets_the_a_sla_over_a_generic_default(pool, owner, make_user):
	generic = frappe.get_doc(
		{
			"doctype": "Service Level Agreement",
			"service_level": "测试通用",
			"document_type": "Issue",
			"default_service_level_agreement": 1,
			"holiday_list": service.HOLIDAY_LIST,
			"apply_sla_for_resolution": 1,
			"priorities": [
				{
					"priority": "Medium",
					"response_time": 48 * 3600,
					"resolution_time": 96 * 3600,
					"default_priority": 1,
				}
			],
			"support_and_resolution": [
				{"workday": day, "start_time": "09:00:00", "end_time": "18:00:00"}
				for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
			],
			"sla_fulfilled_on": [{"status": "Resolved"}, {"status": "Closed"}],
		}
	)
	if not frappe.db.exists(
		"Service Level Agreement", {"document_type": "Issue", "default_service_level_agreement": 1}
	):
		generic.insert(ignore_permissions=True)
	manager = make_user("Sales User")
	a = customer_of_grade(pool, owner, "A", exclusive_manager=manager)
	b = customer_of_grade(pool, owner, "B")

	issue_a = make_issue(a.customer, sla_start=MONDAY_10)
	issue_b = make_issue(b.customer, sla_start=MONDAY_10)

	assert (issue_a.customer_grade, issue_a.service_level_agreement) == ("A", "SLA-Issue-Grade A")
	assert get_datetime(issue_a.response_by) == datetime(2026, 11, 30, 14, 0)  # 4 working hours
	assert get_datetime(issue_a.resolution_by) == datetime(2026, 12, 2, 10, 0)  # 2 working days of 9 h
	assert (issue_b.service_level_agreement, get_datetime(issue_b.response_by)) == (
		"SLA-Issue-Grade B",
		datetime(2026, 11, 30, 18, 0),
	)
	assert get_datetime(issue_b.resolution_by) == datetime(2026, 12, 3, 10, 0)  # 3 working days
	assert issue_a.service_manager == manager and issue_b.service_manager == owner
	assert frappe.db.exists("Notification Log", {"for_user": manager, "document_name": issue_a.name})


def test_a_breach_notifies_the_exclusive_manager_once(pool, owner, make_user, run_scheduled):
	manager = make_user("Sales User")
	a = customer_of_grade(pool, owner, "A", exclusive_manager=manager)
	late = make_issue(a.customer, subject="交货延迟投诉", sla_start=MONDAY_10 - timedelta(days=7))
	on_time = make_issue(a.customer, subject="新投诉")
	assert get_datetime(late.response_by) < now_datetime() < get_datetime(on_time.response_by)

	assert run_scheduled("crm_pool.grading.complaints.check_breaches") >= 1
	breaches = frappe.get_all(
		"Notification Log",
		filters={"for_user": manager, "subject": ("like", "%missed their service level%")},
		pluck="name",
	)
	assert len(breaches) == 1
	assert frappe.db.get_value("Issue", late.name, "sla_breach_notified_at")
	assert not frappe.db.get_value("Issue", on_time.name, "sla_breach_notified_at")
	run_scheduled("crm_pool.grading.complaints.check_breaches")
	assert (
		len(
			frappe.get_all(
				"Notification Log",
				filters={"for_user": manager, "subject": ("like", "%missed their service level%")},
			)
		)
		== 1
	)


# --- privacy ---------------------------------------------------------------------------------------------


def test_a_stranger_sales_user_cannot_read_visits_or_complaints(owner, make_user):
	stranger = make_user("Sales User")
	pool = make_recycle_pool(members=[owner, stranger], no_followup_days=30)
	a = customer_of_grade(pool, owner, "A")
	visits.plan_visits([a.name])
	(visit,) = open_visits(a.name)
	issue = make_issue(a.customer)

	for user, may in ((owner, True), (stranger, False)):
		assert (visit.name in frappe.get_list("Return Visit", pluck="name", user=user)) is may
		doc = frappe.get_doc("Return Visit", visit.name)
		assert bool(frappe.has_permission("Return Visit", "read", doc, user=user)) is may
		assert (issue.name in frappe.get_list("Issue", pluck="name", user=user)) is may
		assert (
			bool(frappe.has_permission("Issue", "read", frappe.get_doc("Issue", issue.name), user=user))
			is may
		)
	frappe.set_user(stranger)
	with pytest.raises(frappe.PermissionError):
		call_whitelisted("crm_pool.api.grading.complete_visit", visit=visit.name, satisfaction=1)
	with pytest.raises(frappe.PermissionError):  # nor plan visits or raise complaints for them
		frappe.get_doc(
			{"doctype": "Return Visit", "pool_customer": a.name, "planned_date": nowdate()}
		).insert()
	with pytest.raises(frappe.PermissionError):
		frappe.get_doc({"doctype": "Issue", "subject": "冒名投诉", "customer": a.customer}).insert()
	frappe.set_user("Administrator")

	# back in the pool, the customer shows (masked) to the pool's members; its visits and complaints
	# stay closed to them, and its open visit is withdrawn by the planner
	visits.complete(visit.name, visits.DONE, satisfaction=2, feedback="对价格不满意")
	ownership.release(a.name, "测试释放")
	assert a.name in frappe.get_list("Pool Customer", pluck="name", user=stranger)
	assert visit.name not in frappe.get_list("Return Visit", pluck="name", user=stranger)
	assert issue.name not in frappe.get_list("Issue", pluck="name", user=stranger)
	visits.plan_visits([a.name])
	assert open_visits(a.name) == []


# --- the scorecard -------------------------------------------------------------------------------------


def test_scorecard_on_a_small_hand_made_set(pool, make_user):
	manager = make_user("Sales User")
	pc1 = customer_of_grade(pool, None, "A")
	pc2 = customer_of_grade(pool, None, "B")
	for pc in (pc1, pc2):
		frappe.db.set_value(
			"Pool Customer", pc.name, {"status": "In Pool", "owned_by": None, "claimed_at": None}
		)
		ownership.assign(pc.name, manager, "测试分配")  # two new customers
	ownership.release(pc2.name, "测试流失")  # one churned
	from tests.factories import submit_sales_invoice

	submit_sales_invoice(pc1.customer)  # 5000
	cancelled = frappe.get_doc("Sales Invoice", submit_sales_invoice(pc1.customer))
	cancelled.cancel()  # ignored

	visits.plan_visits([pc1.name])
	for satisfaction in (4, 5):
		(visit,) = open_visits(pc1.name)
		visits.complete(visit.name, visits.DONE, satisfaction=satisfaction)
	in_time = make_issue(pc1.customer, subject="及时回复")
	late = make_issue(pc1.customer, subject="超时回复", sla_start=MONDAY_10 - timedelta(days=7))
	for issue in (in_time, late):
		doc = frappe.get_doc("Issue", issue.name)
		doc.status = "Replied"
		doc.save(ignore_permissions=True)

	(row,) = scorecard.scorecard(getdate(nowdate()), getdate(nowdate()), manager)
	assert {k: row[k] for k in row if k != "manager"} == {
		"customers": 1,
		"new_customers": 2,
		"churned": 1,
		"visits_done": 2,
		"satisfaction": 4.5,
		"sales": 5000,
		"gross_profit": None,  # service items: ERPNext knows no cost
		"complaints": 2,
		"answered_in_time": 1,
		"answered_in_time_pct": 50.0,
	}
	frappe.set_user(manager)  # a sales user sees their own row only, through the desk's report runner too
	_columns, rows = scorecard.execute({"manager": "someone-else@example.cn"})
	assert [r["manager"] for r in rows] == [manager]
	from frappe.desk.query_report import run

	today = nowdate()
	report = run("Exclusive Manager Scorecard", filters={"from_date": today, "to_date": today})
	assert [r["manager"] for r in report["result"] if isinstance(r, dict) and r.get("manager")] == [manager]
	frappe.set_user("Administrator")


# --- more of the same rules ------------------------------------------------------------------------------


def test_policy_times_are_written_into_the_grade_agreement(pool, owner):
	policy = frappe.get_single(service.POLICY)
	row = next(r for r in policy.policies if r.grade == "A")
	row.response_hours, row.resolution_days = 2, 1
	policy.save()
	priorities = frappe.get_all(
		"Service Level Priority",
		filters={"parent": service.sla_name("A")},
		fields=["priority", "response_time", "resolution_time"],
	)
	assert {p.priority for p in priorities} >= set(service.PRIORITIES)
	assert {(p.response_time, p.resolution_time) for p in priorities} == {(2 * 3600, 9 * 3600)}
	a = customer_of_grade(pool, owner, "A")
	issue = make_issue(a.customer, sla_start=MONDAY_10)
	assert get_datetime(issue.response_by) == datetime(2026, 11, 30, 12, 0)
	assert get_datetime(issue.resolution_by) == datetime(2026, 12, 1, 10, 0)  # one working day of 9 h


def test_policy_refuses_a_grade_twice():
	policy = frappe.get_single(service.POLICY)
	policy.append("policies", {"grade": "A", "response_hours": 1, "resolution_days": 1})
	with pytest.raises(frappe.ValidationError):
		policy.save()


def test_a_missed_visit_is_no_follow_up(pool, owner):
	a = customer_of_grade(pool, owner, "B", claimed_days_ago=5)
	due = pool_customer(a.name).recycle_due_at
	visits.plan_visits([a.name])
	(visit,) = open_visits(a.name)
	frappe.set_user(owner)
	call_whitelisted("crm_pool.api.grading.complete_visit", visit=visit.name, status="Missed")
	frappe.set_user("Administrator")
	assert frappe.db.get_value("Return Visit", visit.name, "status") == "Missed"
	assert frappe.db.get_value("Event", visit.event, "status") == "Cancelled"
	assert pool_customer(a.name).recycle_due_at == due
	(following,) = open_visits(a.name)
	assert getdate(following.planned_date) == getdate(nowdate()), "missed: the next visit is due now"


def test_complete_visit_refuses_bad_arguments(pool, owner):
	from crm_pool.core.errors import InvalidArgument

	a = customer_of_grade(pool, owner, "A")
	visits.plan_visits([a.name])
	(visit,) = open_visits(a.name)
	frappe.set_user(owner)
	for bad in ({"satisfaction": 9}, {"status": "Cancelled"}, {"channel": "Fax"}):
		with pytest.raises(InvalidArgument):
			call_whitelisted("crm_pool.api.grading.complete_visit", visit=visit.name, **bad)
	frappe.set_user("Administrator")
	assert frappe.db.get_value("Return Visit", visit.name, "status") == "Planned"


def test_exclusive_manager_follows_owner_changes_and_open_visits_follow_it(pool, owner, make_user):
	successor, manager = make_user("Sales User"), make_user("Sales User")
	a = customer_of_grade(pool, owner, "A")
	b = customer_of_grade(pool, owner, "A", exclusive_manager=manager)
	visits.run_daily()
	assert pool_customer(a.name).exclusive_manager == owner
	for pc in (a, b):
		ownership.assign(pc.name, successor, "交接")
	assert pool_customer(a.name).exclusive_manager == successor, "the owner as exclusive manager moves on"
	assert pool_customer(b.name).exclusive_manager == manager, "another exclusive manager stays"
	visits.plan_visits([a.name, b.name])
	(va,) = open_visits(a.name)
	(vb,) = open_visits(b.name)
	assert (va.assigned_to, vb.assigned_to) == (successor, manager)
	assert frappe.db.get_value("Event", va.event, "owner") == successor


def test_a_customer_outside_the_pool_gets_no_grade_agreement(make_user):
	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": f"无公海客户{frappe.generate_hash(length=6)}",
			"customer_type": "Company",
		}
	)
	customer.flags.ignore_permissions = True
	customer.insert()
	frappe.db.delete("Pool Customer", {"customer": customer.name})
	issue = make_issue(customer.name)
	assert not issue.pool_customer and not issue.customer_grade
	assert issue.service_level_agreement not in [service.sla_name(g) for g in service.GRADES]
