"""撞单 (SPEC §3, seed 004 明确唯一): a second salesperson reaching an owned customer — at intake or
at follow-up — gets a conflict record for the managers, never a second owner; resolutions; and
collaborators' Read vs Read/Write access to the party."""

from __future__ import annotations

import frappe
import pytest
from frappe.utils import add_days, now_datetime

from crm_pool.api import pool as pool_api
from crm_pool.api import transfer as transfer_api
from crm_pool.core import errors
from crm_pool.core.errors import DuplicateCustomerError
from crm_pool.core.status import COLLABORATE, READ, READ_WRITE, TRANSFER
from crm_pool.transfer import conflicts
from tests.conftest import real_commit
from tests.factories import (
	as_user,
	make_lead,
	make_opportunity,
	make_pool,
	make_quotation,
	new_user,
	pc_of,
	purge,
)


def conflicts_of(pc: str, **filters) -> list[frappe._dict]:
	return frappe.get_all(
		"Ownership Conflict",
		filters={"pool_customer": pc, **filters},
		fields=["name", "status", "kind", "claimant", "current_owner", "source_doctype", "source_name"],
	)


def owner_changes(pc: str) -> list[tuple]:
	"""Pool Log entries that set an owner (intake, claim, assign, transfer)."""
	return frappe.get_all(
		"Pool Log",
		filters={"pool_customer": pc, "to_user": ("is", "set"), "action": ("!=", COLLABORATE)},
		fields=["action", "to_user"],
		as_list=True,
	)


@pytest.fixture
def rivals(make_user):
	"""a owns a lead customer; b is another salesperson of the same pool; m is the pool's admin."""
	a, b = make_user("Sales User"), make_user("Sales User")
	m = make_user("Sales User", "Sales Manager")
	pool = make_pool(members=[a, b], admins=[m])
	lead = make_lead(pool, owner=a)
	return frappe._dict(a=a, b=b, m=m, pool=pool, lead=lead.name, pc=pc_of(lead.name))


def make_event(party_type: str, party: str) -> str:
	return (
		frappe.get_doc(
			{
				"doctype": "Event",
				"subject": "拜访客户",
				"starts_on": add_days(now_datetime(), 1),
				"event_participants": [{"reference_doctype": party_type, "reference_docname": party}],
			}
		)
		.insert()
		.name
	)


def make_communication(party_type: str, party: str) -> str:
	return (
		frappe.get_doc(
			{
				"doctype": "Communication",
				"communication_type": "Communication",
				"communication_medium": "Phone",
				"sent_or_received": "Sent",
				"subject": "电话沟通",
				"reference_doctype": party_type,
				"reference_name": party,
			}
		)
		.insert(ignore_permissions=True)
		.name
	)


def to_customer(lead: str) -> str:
	"""Convert the lead to a Customer (intake moves its pool customer along); returns the Customer."""
	return (
		frappe.get_doc(
			{
				"doctype": "Customer",
				"customer_name": frappe.db.get_value("Lead", lead, "company_name"),
				"customer_type": "Company",
				"lead_name": lead,
			}
		)
		.insert(ignore_permissions=True)
		.name
	)


# An Opportunity for a Lead makes ERPNext re-point the Lead's open ToDos (the owner's assignment
# among them) to the Opportunity, which another salesperson may not do: the Opportunity case uses
# the converted Customer.
FOLLOW_UPS = {
	"Opportunity": (True, make_opportunity),
	"Quotation": (False, make_quotation),
	"Event": (False, make_event),
	"Communication": (False, make_communication),
}


@pytest.mark.parametrize("kind", list(FOLLOW_UPS))
def test_a_non_owner_following_up_makes_a_conflict_and_never_a_second_owner(rivals, kind):
	convert, make = FOLLOW_UPS[kind]
	party = ("Customer", to_customer(rivals.lead)) if convert else ("Lead", rivals.lead)
	before = owner_changes(rivals.pc)
	source = as_user(rivals.b, make, *party)
	found = conflicts_of(rivals.pc)
	assert len(found) == 1
	conflict = found[0]
	assert (conflict.status, conflict.kind, conflict.claimant, conflict.current_owner) == (
		conflicts.OPEN,
		conflicts.FOLLOWUP,
		rivals.b,
		rivals.a,
	)
	assert (conflict.source_doctype, conflict.source_name) == (kind, source)
	# one owner, still a; no log entry gave it to anyone else
	assert frappe.db.get_value("Pool Customer", rivals.pc, "owned_by") == rivals.a
	assert frappe.db.get_value("Lead", rivals.lead, "lead_owner") == rivals.a
	if convert:
		assert frappe.db.get_value("Customer", party[1], "account_manager") == rivals.a
	assert owner_changes(rivals.pc) == before
	# the manager is told
	assert frappe.db.exists("Notification Log", {"for_user": rivals.m, "document_name": conflict.name})


def test_one_open_conflict_per_customer_and_claimant(rivals, make_user):
	as_user(rivals.b, make_event, "Lead", rivals.lead)
	as_user(rivals.b, make_communication, "Lead", rivals.lead)
	assert len(conflicts_of(rivals.pc)) == 1
	c = make_user("Sales User")
	as_user(c, make_communication, "Lead", rivals.lead)
	assert sorted(x.claimant for x in conflicts_of(rivals.pc)) == sorted([rivals.b, c])


def test_owner_collaborators_and_managers_make_no_conflict(rivals):
	as_user(rivals.a, make_opportunity, "Lead", rivals.lead)
	as_user(rivals.m, make_communication, "Lead", rivals.lead)
	as_user(rivals.a, pool_api.add_collaborator, rivals.pc, rivals.b, READ)
	as_user(rivals.b, make_communication, "Lead", rivals.lead)
	assert conflicts_of(rivals.pc) == []


def test_in_pool_customers_make_no_conflict(rivals):
	lead = make_lead(rivals.pool)
	as_user(rivals.b, make_communication, "Lead", lead.name)
	assert conflicts_of(pc_of(lead.name)) == []


# --- intake: the refused duplicate ---------------------------------------------------------------


@pytest.fixture
def committed_rivals():
	"""`rivals`, committed (the refusal's rollback must not take them away); removed afterwards."""
	started = now_datetime()
	a, b = new_user("Sales User"), new_user("Sales User")
	m = new_user("Sales User", "Sales Manager")
	pool = make_pool(members=[a, b], admins=[m])
	lead = make_lead(pool, owner=a)
	world = frappe._dict(a=a, b=b, m=m, pool=pool, lead=lead, pc=pc_of(lead.name))
	real_commit()
	yield world
	frappe.db.rollback()
	frappe.set_user("Administrator")
	frappe.db.sql("DELETE FROM `tabOwnership Conflict` WHERE pool_customer = %s", world.pc)
	frappe.db.sql("DELETE FROM `tabNotification Log` WHERE for_user IN %s", ((a, b, m),))
	purge(pool, [a, b, m])
	# the Contact ERPNext made for a refused Lead whose caller committed anyway
	for contact in frappe.db.sql_list(
		"""SELECT name FROM `tabContact` WHERE creation >= %s AND name NOT IN (
			SELECT parent FROM `tabDynamic Link` WHERE parenttype = 'Contact')""",
		started,
	):
		frappe.delete_doc("Contact", contact, force=True, ignore_permissions=True)
	real_commit()


def test_a_refused_duplicate_lead_is_recorded_as_a_conflict_after_the_rollback(committed_rivals):
	w = committed_rivals
	frappe.set_user(w.b)
	with pytest.raises(DuplicateCustomerError):
		make_lead(w.pool, company_name=w.lead.company_name)
	frappe.db.rollback()  # what a request does with a refused insert
	frappe.set_user("Administrator")
	found = conflicts_of(w.pc)
	assert [(c.kind, c.claimant, c.current_owner, c.source_doctype) for c in found] == [
		(conflicts.INTAKE_DUPLICATE, w.b, w.a, "Lead")
	]
	assert frappe.db.get_value("Pool Customer", w.pc, "owned_by") == w.a
	assert not frappe.db.exists("Lead", {"company_name": w.lead.company_name, "name": ("!=", w.lead.name)})
	assert frappe.db.exists("Notification Log", {"for_user": w.m, "document_name": found[0].name})


def test_a_refused_duplicate_is_recorded_when_the_caller_commits_instead(committed_rivals):
	w = committed_rivals
	frappe.set_user(w.b)
	with pytest.raises(DuplicateCustomerError):
		make_lead(w.pool, email_id=frappe.db.get_value("Lead", w.lead.name, "email_id"))
	real_commit()  # e.g. a script that catches the refusal and goes on
	frappe.set_user("Administrator")
	assert [(c.kind, c.claimant) for c in conflicts_of(w.pc)] == [(conflicts.INTAKE_DUPLICATE, w.b)]


def test_the_owners_own_duplicate_is_no_conflict(committed_rivals):
	w = committed_rivals
	frappe.set_user(w.a)
	with pytest.raises(DuplicateCustomerError):
		make_lead(w.pool, company_name=w.lead.company_name)
	frappe.db.rollback()
	frappe.set_user("Administrator")
	assert conflicts_of(w.pc) == []


# --- resolutions ---------------------------------------------------------------------------------


@pytest.fixture
def conflict(rivals):
	as_user(rivals.b, make_communication, "Lead", rivals.lead)
	rivals.conflict = conflicts_of(rivals.pc)[0].name
	return rivals


def test_only_managers_resolve(conflict):
	with pytest.raises(frappe.PermissionError):
		as_user(conflict.b, transfer_api.resolve_conflict, conflict.conflict, conflicts.TO_CLAIMANT)
	with pytest.raises(frappe.PermissionError):
		as_user(conflict.a, transfer_api.resolve_conflict, conflict.conflict, conflicts.KEEP_OWNER)
	assert frappe.db.get_value("Ownership Conflict", conflict.conflict, "status") == conflicts.OPEN


def test_keep_owner_closes_the_conflict_and_a_new_contact_opens_another(conflict):
	as_user(conflict.m, transfer_api.resolve_conflict, conflict.conflict, conflicts.KEEP_OWNER, "首问负责")
	row = frappe.db.get_value("Ownership Conflict", conflict.conflict, "*", as_dict=True)
	assert (row.status, row.resolution, row.resolved_by, row.open_key) == (
		conflicts.RESOLVED,
		conflicts.KEEP_OWNER,
		conflict.m,
		None,
	)
	assert frappe.db.get_value("Pool Customer", conflict.pc, "owned_by") == conflict.a
	assert frappe.db.exists("Notification Log", {"for_user": conflict.b, "document_name": conflict.conflict})
	with pytest.raises(errors.PoolRuleError):
		as_user(conflict.m, transfer_api.resolve_conflict, conflict.conflict, conflicts.KEEP_OWNER)
	as_user(conflict.b, make_communication, "Lead", conflict.lead)
	assert len(conflicts_of(conflict.pc, status=conflicts.OPEN)) == 1


def test_transfer_to_claimant_moves_the_customer_with_a_log_entry(conflict):
	as_user(conflict.m, transfer_api.resolve_conflict, conflict.conflict, conflicts.TO_CLAIMANT, "客户指定")
	assert frappe.db.get_value("Pool Customer", conflict.pc, "owned_by") == conflict.b
	assert frappe.db.get_value("Lead", conflict.lead, "lead_owner") == conflict.b
	entry = frappe.get_all(
		"Pool Log",
		filters={"pool_customer": conflict.pc, "action": TRANSFER},
		fields=["from_user", "to_user", "rule", "reason", "by_user"],
	)
	assert len(entry) == 1
	assert (entry[0].from_user, entry[0].to_user, entry[0].by_user) == (conflict.a, conflict.b, conflict.m)
	assert entry[0].rule == f"conflict:{conflict.conflict}" and "客户指定" in entry[0].reason
	assert frappe.db.get_value("Ownership Conflict", conflict.conflict, "resolution") == conflicts.TO_CLAIMANT
	# now b owns it: b's follow-ups are no conflict, a's are
	as_user(conflict.b, make_communication, "Lead", conflict.lead)
	assert not conflicts_of(conflict.pc, status=conflicts.OPEN)
	as_user(conflict.a, make_communication, "Lead", conflict.lead)
	assert [c.claimant for c in conflicts_of(conflict.pc, status=conflicts.OPEN)] == [conflict.a]


def test_transfer_to_claimant_respects_the_cap(conflict):
	frappe.db.set_value("Customer Pool", conflict.pool, "max_owned", 1)
	make_lead(conflict.pool, owner=conflict.b)  # b is at the cap
	with pytest.raises(errors.PoolRuleError, match="most allowed"):
		as_user(conflict.m, transfer_api.resolve_conflict, conflict.conflict, conflicts.TO_CLAIMANT)
	assert frappe.db.get_value("Pool Customer", conflict.pc, "owned_by") == conflict.a
	assert frappe.db.get_value("Ownership Conflict", conflict.conflict, "status") == conflicts.OPEN


def test_add_as_collaborator_keeps_one_owner(conflict):
	as_user(
		conflict.m, transfer_api.resolve_conflict, conflict.conflict, conflicts.ADD_COLLABORATOR, None, READ
	)
	assert frappe.db.get_value("Pool Customer", conflict.pc, "owned_by") == conflict.a
	rows = frappe.get_all(
		"Pool Customer Collaborator", filters={"parent": conflict.pc}, fields=["user", "access"]
	)
	assert [(r.user, r.access) for r in rows] == [(conflict.b, READ)]
	assert frappe.db.exists("Pool Log", {"pool_customer": conflict.pc, "action": COLLABORATE})
	assert frappe.db.get_value("Ownership Conflict", conflict.conflict, "collaborator_access") == READ


# --- collaborators: Read vs Read/Write ------------------------------------------------------------


def test_read_collaborators_read_and_read_write_collaborators_write_the_party(rivals, make_user):
	reader, writer, stranger = make_user("Sales User"), make_user("Sales User"), make_user("Sales User")
	as_user(rivals.a, pool_api.add_collaborator, rivals.pc, reader, READ)
	as_user(rivals.a, pool_api.add_collaborator, rivals.pc, writer, READ_WRITE)

	frappe.set_user(reader)
	lead = frappe.get_doc("Lead", rivals.lead)  # may read
	assert lead.has_permission("read") and not lead.has_permission("write")
	lead.website = "https://reader.example.cn"
	with pytest.raises(frappe.PermissionError):
		lead.save()

	frappe.set_user(writer)
	lead = frappe.get_doc("Lead", rivals.lead)
	assert lead.has_permission("write") and not lead.has_permission("delete")
	lead.website = "https://writer.example.cn"
	lead.save()
	frappe.set_user("Administrator")
	assert frappe.db.get_value("Lead", rivals.lead, "website") == "https://writer.example.cn"
	assert frappe.db.get_value("Pool Customer", rivals.pc, "owned_by") == rivals.a  # still one owner

	frappe.set_user(stranger)
	assert not frappe.has_permission("Lead", "read", doc=rivals.lead)


def test_read_write_collaborators_write_the_customer_too(rivals, make_user):
	writer, reader = make_user("Sales User"), make_user("Sales User")
	customer = frappe._dict(name=to_customer(rivals.lead))
	assert frappe.db.get_value("Pool Customer", rivals.pc, "customer") == customer.name
	as_user(rivals.m, pool_api.add_collaborator, rivals.pc, writer, READ_WRITE)
	as_user(rivals.m, pool_api.add_collaborator, rivals.pc, reader, READ)
	assert frappe.has_permission("Customer", "write", doc=customer.name, user=writer)
	assert frappe.has_permission("Customer", "read", doc=customer.name, user=reader)
	assert not frappe.has_permission("Customer", "write", doc=customer.name, user=reader)


def test_collaborators_are_managed_by_the_owner_or_a_manager(rivals, make_user):
	c = make_user("Sales User")
	with pytest.raises(frappe.PermissionError):
		as_user(rivals.b, pool_api.add_collaborator, rivals.pc, c, READ)
	with pytest.raises(errors.PoolRuleError):  # the owner is no collaborator of their own customer
		as_user(rivals.m, pool_api.add_collaborator, rivals.pc, rivals.a, READ)
	as_user(rivals.a, pool_api.add_collaborator, rivals.pc, c, READ)
	result = as_user(rivals.a, pool_api.add_collaborator, rivals.pc, c, READ_WRITE)  # access changed
	assert result["collaborators"] == [{"user": c, "access": READ_WRITE}]
	result = as_user(rivals.m, pool_api.remove_collaborator, rivals.pc, c)
	assert result["collaborators"] == []
	assert frappe.db.count("Pool Log", {"pool_customer": rivals.pc, "action": COLLABORATE}) == 3
