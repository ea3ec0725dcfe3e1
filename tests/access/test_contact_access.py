"""Contacts, addresses and the documents copying a party's contact data follow that party
(issue 8, SPEC §7); editing a Contact does not change someone else's Lead; prints and exports are
logged in Access Log, which managers review."""

from __future__ import annotations

import json

import frappe
import frappe.client
import pytest

from tests.factories import call_whitelisted, make_lead, make_opportunity, make_pool, make_quotation

MOBILE, NEW_MOBILE = "13911112222", "13933334444"


def contact_of(doctype: str, name: str) -> str:
	return frappe.db.get_value(
		"Dynamic Link", {"parenttype": "Contact", "link_doctype": doctype, "link_name": name}, "parent"
	)


@pytest.fixture
def world(make_user):
	"""Owner a and stranger s in one pool; r collaborates on a's Lead with Read access; m manages the
	pool, o manages another one."""
	a, s, r = (make_user("Sales User") for _ in range(3))
	m, o = make_user("Sales User", "Sales Manager"), make_user("Sales User", "Sales Manager")
	pool = make_pool(members=[a, s, r], admins=[m])
	make_pool(admins=[o])
	lead = make_lead(pool, owner=a, mobile_no=MOBILE)
	pc = frappe.get_doc("Pool Customer", {"lead": lead.name})
	pc.append("collaborators", {"user": r, "access": "Read"})
	pc.save(ignore_permissions=True)
	return frappe._dict(
		a=a, s=s, r=r, m=m, o=o, pool=pool, lead=lead.name, contact=contact_of("Lead", lead.name)
	)


def test_a_contact_is_readable_exactly_when_its_party_is(world):
	assert world.contact
	for user, sees in ((world.a, True), (world.r, True), (world.m, True), (world.s, False), (world.o, False)):
		frappe.set_user(user)
		names = frappe.get_list("Contact", filters={"name": world.contact}, pluck="name")
		assert (names == [world.contact]) is sees, user
		assert frappe.has_permission("Contact", "read", doc=world.contact) is sees, user
		phones = frappe.get_list(
			"Contact Phone", parent_doctype="Contact", filters={"parent": world.contact}, pluck="phone"
		)
		assert (MOBILE in phones) is sees, user


def test_unlinked_and_supplier_contacts_keep_erpnexts_rules(world):
	unlinked = frappe.get_doc({"doctype": "Contact", "first_name": "无关联联系人"}).insert(
		ignore_permissions=True
	)
	frappe.set_user(world.s)
	assert frappe.get_list("Contact", filters={"name": unlinked.name}, pluck="name") == [unlinked.name]
	assert frappe.has_permission("Contact", "read", doc=unlinked.name)


def test_a_read_collaborator_or_a_stranger_cannot_rewrite_the_lead_through_its_contact(world):
	frappe.set_user(world.r)
	contact = frappe.get_doc("Contact", world.contact)
	contact.phone_nos[0].phone = NEW_MOBILE
	with pytest.raises(frappe.PermissionError):
		contact.save()
	frappe.set_user(world.s)
	stranger_contact = frappe.get_doc(
		{
			"doctype": "Contact",
			"first_name": "冒名联系人",
			"phone_nos": [{"phone": NEW_MOBILE, "is_primary_mobile_no": 1}],
			"links": [{"link_doctype": "Lead", "link_name": world.lead}],
		}
	)
	with pytest.raises(frappe.PermissionError, match="not yours to change"):
		stranger_contact.insert()
	frappe.set_user("Administrator")
	assert frappe.db.get_value("Lead", world.lead, "mobile_no") == MOBILE
	frappe.set_user(world.a)  # the owner may
	contact = frappe.get_doc("Contact", world.contact)
	contact.phone_nos[0].phone = NEW_MOBILE
	contact.save()
	assert frappe.db.get_value("Lead", world.lead, "mobile_no") == NEW_MOBILE


def test_opportunities_quotations_and_prospects_follow_their_party(world):
	opportunity = make_opportunity("Lead", world.lead)
	prospect = frappe.get_doc(
		{"doctype": "Prospect", "company_name": f"意向-{world.lead}", "leads": [{"lead": world.lead}]}
	).insert(ignore_permissions=True)
	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": f"报价测试客户-{world.lead}",
			"customer_type": "Company",
			"account_manager": world.a,
		}
	)
	customer.flags.pool = world.pool
	customer.insert(ignore_permissions=True)
	quotation = make_quotation("Customer", customer.name)
	docs = {"Opportunity": opportunity, "Prospect": prospect.name, "Quotation": quotation}
	for user, sees in ((world.a, True), (world.m, True), (world.s, False), (world.o, False)):
		frappe.set_user(user)
		for doctype, name in docs.items():
			assert (frappe.get_list(doctype, filters={"name": name}, pluck="name") == [name]) is sees, (
				user,
				doctype,
			)
			assert frappe.has_permission(doctype, "read", doc=name) is sees, (user, doctype)
	frappe.set_user(world.s)  # the stranger's own Opportunity for a's Lead does not open it either
	with pytest.raises(frappe.PermissionError):
		frappe.client.get("Opportunity", opportunity)


def test_global_search_drops_what_the_user_may_not_read(world):
	from frappe.utils.global_search import sync_global_search

	sync_global_search()
	lead_name = frappe.db.get_value("Lead", world.lead, "lead_name")
	search = {"text": lead_name, "doctype": "Lead"}
	frappe.set_user(world.a)
	assert [r.name for r in call_whitelisted("frappe.utils.global_search.search", **search)] == [world.lead]
	frappe.set_user(world.s)
	assert call_whitelisted("frappe.utils.global_search.search", **search) == []


def _access_logs(user: str) -> list[dict]:
	return frappe.get_all(
		"Access Log", filters={"user": user}, fields=["export_from", "reference_document", "method"]
	)


def test_prints_and_exports_are_logged_and_managers_review_them(world, make_user):
	frappe.set_user(world.a)
	printing = {"doc": "Contact", "name": world.contact}
	html = call_whitelisted("frappe.www.printview.get_html_and_style", **printing)
	assert MOBILE in json.dumps(html)
	frappe.set_user(world.s)  # refused: nothing printed
	with pytest.raises(frappe.PermissionError):
		call_whitelisted("frappe.www.printview.get_html_and_style", **printing)
	frappe.set_user(world.m)
	export = {
		"doctype": "Lead",
		"file_format_type": "CSV",
		"fields": json.dumps(["name", "mobile_no"]),
		"title": "Lead",
	}
	call_whitelisted("frappe.desk.reportview.export_query", **export)
	assert MOBILE in frappe.local.response.filecontent.decode()
	frappe.set_user(world.o)  # another team's manager exports nothing of it
	frappe.local.response = frappe._dict()
	call_whitelisted("frappe.desk.reportview.export_query", **export)
	assert MOBILE not in frappe.local.response.filecontent.decode()

	frappe.set_user("Administrator")
	assert {"export_from": "Contact", "reference_document": world.contact, "method": "Print"} in _access_logs(
		world.a
	)
	assert not _access_logs(world.s)
	assert any(row.export_from == "Lead" for row in _access_logs(world.m))
	frappe.set_user(make_user("Pool Manager"))
	assert frappe.get_list("Access Log", filters={"user": world.a}, pluck="reference_document") == [
		world.contact
	]
	frappe.set_user(world.m)
	with pytest.raises(frappe.PermissionError):
		frappe.get_list("Access Log", filters={"user": world.a})
