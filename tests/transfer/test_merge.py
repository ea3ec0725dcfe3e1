"""Lead / Customer merge and rename (issue 8): one Pool Customer per party, a MERGE log entry, and
two owners meeting in a merge become an Ownership Conflict instead of a silent loss."""

from __future__ import annotations

import uuid
from datetime import timedelta

import frappe
import pytest
from frappe.utils import get_datetime, now_datetime

from crm_pool.core import mirror
from crm_pool.core.status import CONVERTED, IN_POOL, INVALID, MERGE, OWNED
from crm_pool.transfer import conflicts
from tests.factories import make_lead, make_pool


@pytest.fixture
def team(make_user):
	a, b = make_user("Sales User"), make_user("Sales User")
	return frappe._dict(a=a, b=b, pool=make_pool(members=[a, b]))


def rename(doctype: str, old: str, new: str, merge: bool = False) -> None:
	frappe.rename_doc(doctype, old, new, merge=merge, rebuild_search=False, show_alert=False)


def pool_customers_of(doctype: str, party: str) -> list[str]:
	"""Every Pool Customer standing for or linking the party."""
	names = frappe.get_all("Pool Customer", filters={"party_type": doctype, "party": party}, pluck="name")
	names += frappe.get_all("Pool Customer", filters={doctype.lower(): party}, pluck="name")
	return sorted(set(names))


def merge_logs(pc: str) -> list[frappe._dict]:
	return frappe.get_all(
		"Pool Log",
		filters={"pool_customer": pc, "action": MERGE},
		fields=["from_user", "to_user", "reason", "rule"],
	)


def make_customer(pool: str, owner: str | None) -> frappe.model.document.Document:
	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": f"合并测试{uuid.uuid4().hex[:8]}有限公司",
			"customer_type": "Company",
			"account_manager": owner,
		}
	)
	customer.flags.pool = pool
	return customer.insert(ignore_permissions=True)


def test_merging_leads_of_two_owners_keeps_one_pool_customer_and_records_a_conflict(team):
	old, new = make_lead(team.pool, owner=team.a), make_lead(team.pool, owner=team.b)
	(old_pc,), (new_pc,) = pool_customers_of("Lead", old.name), pool_customers_of("Lead", new.name)

	rename("Lead", old.name, new.name, merge=True)

	assert not frappe.db.exists("Lead", old.name)
	assert pool_customers_of("Lead", new.name) == [new_pc]
	kept = frappe.db.get_value("Pool Customer", new_pc, ["status", "owned_by"], as_dict=True)
	assert kept.status == OWNED and kept.owned_by == team.b  # the surviving party's owner stays
	gone = frappe.db.get_value("Pool Customer", old_pc, "*", as_dict=True)
	assert gone.status == INVALID and not gone.party and not gone.lead and not gone.owned_by
	assert gone.previous_owner == team.a
	assert merge_logs(new_pc) and merge_logs(old_pc)
	assert old.name in merge_logs(new_pc)[0].reason
	# a did not silently lose the customer: the managers decide
	conflict = frappe.get_all(
		"Ownership Conflict",
		filters={"pool_customer": new_pc, "claimant": team.a},
		fields=["kind", "status", "current_owner"],
	)
	assert conflict == [{"kind": conflicts.MERGED, "status": conflicts.OPEN, "current_owner": team.b}]
	assert frappe.db.get_value("Lead", new.name, "lead_owner") == team.b
	assert mirror.assigned_users("Lead", new.name) == [team.b]  # a's assignment did not come along
	assert frappe.db.get_value("Lead", new.name, "pool_customer") == new_pc


def test_an_owned_lead_merged_into_a_lead_in_the_pool_keeps_its_owner(team):
	old, new = make_lead(team.pool, owner=team.a), make_lead(team.pool)
	(old_pc,), (new_pc,) = pool_customers_of("Lead", old.name), pool_customers_of("Lead", new.name)
	assert frappe.db.get_value("Pool Customer", new_pc, "status") == IN_POOL

	rename("Lead", old.name, new.name, merge=True)

	assert pool_customers_of("Lead", new.name) == [new_pc]
	kept = frappe.db.get_value("Pool Customer", new_pc, ["status", "owned_by"], as_dict=True)
	assert kept.status == OWNED and kept.owned_by == team.a
	assert frappe.db.get_value("Lead", new.name, "lead_owner") == team.a
	(log,) = merge_logs(new_pc)
	assert log.to_user == team.a
	assert frappe.db.get_value("Pool Customer", old_pc, "status") == INVALID
	assert not frappe.db.exists("Ownership Conflict", {"pool_customer": new_pc})


def test_merging_customers_of_one_owner_keeps_the_later_follow_up(team):
	old, new = make_customer(team.pool, team.a), make_customer(team.pool, team.a)
	(old_pc,), (new_pc,) = pool_customers_of("Customer", old.name), pool_customers_of("Customer", new.name)
	recent = now_datetime() - timedelta(days=2)
	frappe.db.set_value("Pool Customer", old_pc, "last_followup_at", recent, update_modified=False)
	frappe.db.set_value(
		"Pool Customer",
		new_pc,
		"last_followup_at",
		now_datetime() - timedelta(days=20),
		update_modified=False,
	)

	rename("Customer", old.name, new.name, merge=True)

	assert pool_customers_of("Customer", new.name) == [new_pc]
	kept = frappe.db.get_value("Pool Customer", new_pc, "*", as_dict=True)
	assert kept.status == CONVERTED and kept.owned_by == team.a
	assert get_datetime(kept.last_followup_at) == get_datetime(recent)
	assert frappe.db.get_value("Pool Customer", old_pc, "status") == INVALID
	assert merge_logs(new_pc) and merge_logs(old_pc)
	assert not frappe.db.exists("Ownership Conflict", {"pool_customer": new_pc})


def test_a_plain_rename_keeps_the_one_pool_customer(team):
	lead = make_lead(team.pool, owner=team.a)
	(pc,) = pool_customers_of("Lead", lead.name)
	new_name = f"CRM-LEAD-RENAMED-{uuid.uuid4().hex[:6]}"

	rename("Lead", lead.name, new_name)

	assert pool_customers_of("Lead", new_name) == [pc]
	assert pool_customers_of("Lead", lead.name) == []
	row = frappe.db.get_value("Pool Customer", pc, ["party", "lead", "owned_by", "status"], as_dict=True)
	assert (row.party, row.lead, row.owned_by, row.status) == (new_name, new_name, team.a, OWNED)
	assert frappe.db.get_value("Lead", new_name, "pool_customer") == pc
