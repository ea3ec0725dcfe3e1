"""Customer Share (共享客户, issue 11, SPEC §5): a share of a new customer enters the pool of its region
unowned, with the sharer as referrer, and keeps masked copies only; a share of an existing customer is
not rewardable, its reason naming the customer with the owner masked; the share follows its customer
(claim → accepted, conversion → converted); a manager rejects; only the sharer, managers and the
customer's owner read it; the sharer quotes it on its line only as the line's staff; two simultaneous
shares of one new customer give one Lead."""

from __future__ import annotations

import json

import frappe
import pytest

from crm_pool.core import normalize
from crm_pool.core.errors import PoolRuleError
from crm_pool.core.status import IN_POOL, OWNED, PENDING_REVIEW
from crm_pool.pool import ownership
from crm_pool.sharing import model
from tests.conftest import at_once, real_commit
from tests.factories import (
	add_line_staff,
	as_user,
	call_whitelisted,
	convert_to_customer,
	employee_user,
	line_item,
	line_quotation,
	make_business_line,
	make_lead,
	make_share,
	new_user,
	pool_customer,
	purge_shares,
	region_pool,
	share_fields,
)

MANAGER_ROLES = ("Sales User", "Sales Manager")


@pytest.fixture
def region():
	"""A region with its pool (a salesperson and the sharer's colleague are members) and a line."""
	seller = new_user("Sales User")
	r = region_pool(members=[seller])
	r.seller = seller
	r.line = make_business_line()
	return r


def share_row(name: str) -> frappe._dict:
	return frappe.db.get_value(model.CUSTOMER_SHARE, name, "*", as_dict=True)


# --- a new customer ----------------------------------------------------------------------------------


@pytest.mark.parametrize("roles", ["employee", "sales-user"])
def test_a_new_customer_lands_unowned_in_the_pool_of_its_region(region, roles):
	sharer = employee_user() if roles == "employee" else new_user("Sales User")
	fields = share_fields(region.territory, region.line)
	share = make_share(sharer, **fields)

	row = share_row(share.name)
	assert row.status == model.SHARED and row.sharer == sharer
	assert row.pool == region.pool and row.lead and row.pool_customer
	lead = frappe.db.get_value(
		"Lead", row.lead, ["lead_owner", "owner", "mobile_no", "company_name", "territory"], as_dict=True
	)
	assert not lead.lead_owner and lead.owner == "Administrator"  # nobody owns it, the sharer least
	assert normalize.parse_mobile(lead.mobile_no) == normalize.parse_mobile(fields["mobile_no"])
	assert lead.company_name == fields["company_name"] and lead.territory == region.territory
	pc = pool_customer(row.pool_customer)
	assert pc.status == IN_POOL and not pc.owned_by and pc.pool == region.pool
	assert pc.referrer == sharer and pc.customer_share == share.name and pc.product_line == region.line
	# the hand-over: masked copies only
	assert not row.contact_person and not row.mobile_no and not row.address
	assert row.mobile_masked == normalize.mask_mobile(fields["mobile_no"]) and "****" in row.mobile_masked
	assert row.contact_masked == "李*" and row.address_masked == "浙江省杭州市****"
	note = frappe.get_all("CRM Note", filters={"parenttype": "Lead", "parent": row.lead}, pluck="note")
	assert note and fields["business_needed"] in note[0] and "文三路" in note[0]  # for the future owner


def test_the_sharer_does_not_read_the_leads_contact_data(region):
	sharer = new_user("Sales User")
	fields = share_fields(region.territory, region.line)
	lead = share_row(make_share(sharer, **fields).name).lead
	contact = frappe.db.get_value(
		"Dynamic Link", {"parenttype": "Contact", "link_doctype": "Lead", "link_name": lead}, "parent"
	)
	assert contact
	frappe.set_user(sharer)
	with pytest.raises(frappe.PermissionError):
		call_whitelisted("frappe.client.get", doctype="Lead", name=lead)
	with pytest.raises(frappe.PermissionError):
		call_whitelisted("frappe.client.get", doctype="Contact", name=contact)
	for doctype, name in (("Lead", lead), ("Contact", contact)):
		rows = call_whitelisted(
			"frappe.client.get_list", doctype=doctype, filters={"name": name}, fields=["*"]
		)
		assert rows == []
	mine = call_whitelisted("frappe.client.get_list", doctype=model.CUSTOMER_SHARE, fields=["*"])
	assert fields["mobile_no"] not in json.dumps(mine, default=str)
	# the positive control: a manager reads the Lead's mobile
	frappe.set_user(new_user(*MANAGER_ROLES, "Pool Manager"))
	assert normalize.parse_mobile(
		call_whitelisted("frappe.client.get", doctype="Lead", name=lead)["mobile_no"]
	) == normalize.parse_mobile(fields["mobile_no"])


def test_a_share_waiting_for_review_is_not_the_sharers_lead():
	"""In a pool that reviews its intake the Lead waits unowned: its creator would read it; the
	sharer is not its creator."""
	r = region_pool(require_review=1)
	sharer = new_user("Sales User")
	row = share_row(make_share(sharer, **share_fields(r.territory, make_business_line())).name)
	assert pool_customer(row.pool_customer).status == PENDING_REVIEW
	frappe.set_user(sharer)
	with pytest.raises(frappe.PermissionError):
		call_whitelisted("frappe.client.get", doctype="Lead", name=row.lead)


def test_forged_fields_are_the_systems(region):
	"""REST / frappe.client.insert behave as share_customer: status, sharer and links are ignored."""
	sharer, other = employee_user(), new_user("Sales User")
	forged = {
		"doctype": model.CUSTOMER_SHARE,
		**share_fields(region.territory, region.line),
		"status": model.REWARDED,
		"sharer": other,
		"reason": "forged",
		"accepted_on": "2020-01-01 00:00:00",
	}
	frappe.set_user(sharer)
	doc = call_whitelisted("frappe.client.insert", doc=json.dumps(forged))
	frappe.set_user("Administrator")
	row = share_row(doc["name"])
	assert row.status == model.SHARED and row.sharer == sharer and not row.reason and not row.accepted_on
	assert row.lead and not row.mobile_no


def test_share_customer_returns_the_share(region):
	sharer = employee_user()
	frappe.set_user(sharer)
	result = call_whitelisted(
		"crm_pool.api.sharing.share_customer", **share_fields(region.territory, region.line)
	)
	assert result["status"] == model.SHARED and result["pool"] == region.pool and not result["reason"]
	assert frappe.db.get_value(model.CUSTOMER_SHARE, result["share"], "sharer") == sharer


def test_required_fields_and_a_bad_mobile_are_refused_and_nothing_is_written(region):
	sharer = employee_user()
	leads = frappe.db.count("Lead")
	for bad in ({"business_needed": ""}, {"mobile_no": "12345"}, {"uscc": "123"}, {"estimated_revenue": -1}):
		with pytest.raises(frappe.ValidationError):
			make_share(sharer, **share_fields(region.territory, region.line, **bad))
	assert frappe.db.count("Lead") == leads
	assert not frappe.db.exists(model.CUSTOMER_SHARE, {"sharer": sharer})


# --- an existing customer ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["mobile", "company", "uscc"])
def test_an_owned_customer_is_not_rewardable_and_names_it_with_the_owner_masked(region, key):
	from tests.pool.test_races import random_mobile, random_uscc

	mobile, uscc = random_mobile(), random_uscc()
	existing = make_lead(region.pool, owner=region.seller, mobile_no=mobile, uscc=uscc)
	pc = frappe.db.get_value("Pool Customer", {"lead": existing.name})
	owner_name = frappe.utils.get_fullname(region.seller)
	fields = share_fields(region.territory, region.line)
	fields.update(
		{
			"mobile": {"mobile_no": mobile},
			"company": {"company_name": existing.company_name},
			"uscc": {"uscc": uscc},
		}[key]
	)
	sharer = new_user("Sales User")
	leads = frappe.db.count("Lead")

	row = share_row(make_share(sharer, **fields).name)
	assert row.status == model.NOT_REWARDABLE and row.pool_customer == pc and not row.lead
	assert pc in row.reason and normalize.mask_person_name(owner_name) in row.reason
	assert owner_name not in row.reason
	assert frappe.db.count("Lead") == leads  # no Lead made
	assert not row.mobile_no and not row.contact_person and not row.address  # no side channel
	assert mobile not in json.dumps(row, default=str)
	assert not pool_customer(pc).referrer


# --- the share follows its customer ---------------------------------------------------------------


def test_claim_accepts_and_conversion_converts_and_a_release_keeps_it_accepted(region):
	row = share_row(make_share(employee_user(), **share_fields(region.territory, region.line)).name)
	as_user(region.seller, ownership.claim, row.pool_customer)
	pc = pool_customer(row.pool_customer)
	assert pc.status == OWNED
	accepted = share_row(row.name)
	assert accepted.status == model.ACCEPTED and accepted.accepted_on == pc.claimed_at

	as_user(region.seller, ownership.release, row.pool_customer, "测试释放")
	assert share_row(row.name).status == model.ACCEPTED  # accepted once

	as_user(region.seller, ownership.claim, row.pool_customer)
	customer = convert_to_customer(pool_customer(row.pool_customer))
	converted = share_row(row.name)
	assert converted.status == model.CONVERTED and converted.customer == customer and converted.converted_on


def test_another_share_does_not_move_with_someone_elses_claim(region):
	one = share_row(make_share(employee_user(), **share_fields(region.territory, region.line)).name)
	two = share_row(make_share(employee_user(), **share_fields(region.territory, region.line)).name)
	as_user(region.seller, ownership.claim, one.pool_customer)
	assert share_row(one.name).status == model.ACCEPTED
	assert share_row(two.name).status == model.SHARED


def test_a_manager_rejects_with_a_reason_and_a_salesperson_cannot(region):
	row = share_row(make_share(employee_user(), **share_fields(region.territory, region.line)).name)
	frappe.set_user(region.seller)
	with pytest.raises(frappe.PermissionError):
		call_whitelisted("crm_pool.api.sharing.reject_share", share=row.name, reason="不算")
	assert share_row(row.name).status == model.SHARED
	frappe.set_user(new_user(*MANAGER_ROLES))
	call_whitelisted("crm_pool.api.sharing.reject_share", share=row.name, reason="重复推荐")
	frappe.set_user("Administrator")
	rejected = share_row(row.name)
	assert rejected.status == model.REJECTED and rejected.reason == "重复推荐"
	assert not pool_customer(row.pool_customer).referrer


# --- who reads a share ----------------------------------------------------------------------------


def test_only_the_sharer_the_owner_and_managers_read_a_share(region):
	sharer, colleague = employee_user(), employee_user()
	name = make_share(sharer, **share_fields(region.territory, region.line)).name

	def reads(user: str) -> bool:
		frappe.set_user(user)
		try:
			listed = [
				row["name"]
				for row in call_whitelisted(
					"frappe.client.get_list",
					doctype=model.CUSTOMER_SHARE,
					fields=["name"],
					limit_page_length=0,
				)
			]
			try:
				call_whitelisted("frappe.client.get", doctype=model.CUSTOMER_SHARE, name=name)
				got = True
			except frappe.PermissionError:
				got = False
			assert got == (name in listed), user
			return got
		finally:
			frappe.set_user("Administrator")

	assert reads(sharer) and reads(new_user(*MANAGER_ROLES))
	assert not reads(colleague) and not reads(region.seller)
	as_user(region.seller, ownership.claim, frappe.db.get_value(model.CUSTOMER_SHARE, name, "pool_customer"))
	assert reads(region.seller)  # the owner sees who referred it


def test_a_share_is_not_edited_after_it_is_saved(region):
	sharer = employee_user()
	name = make_share(sharer, **share_fields(region.territory, region.line)).name
	doc = frappe.get_doc(model.CUSTOMER_SHARE, name)
	doc.estimated_revenue = 999
	with pytest.raises(frappe.PermissionError):
		as_user(sharer, doc.save)
	doc = frappe.get_doc(model.CUSTOMER_SHARE, name)
	doc.status = model.REWARDED
	with pytest.raises(PoolRuleError):
		as_user(new_user(*MANAGER_ROLES), doc.save)
	assert share_row(name).status == model.SHARED and share_row(name).estimated_revenue == 12.5


# --- the quotation guard ---------------------------------------------------------------------------


def test_the_sharer_does_not_quote_the_shared_customer_on_its_line_unless_staff(region):
	sharer = new_user("Sales User")
	row = share_row(make_share(sharer, **share_fields(region.territory, region.line)).name)
	as_user(region.seller, ownership.claim, row.pool_customer)
	pc = frappe.get_doc("Pool Customer", row.pool_customer)
	pc.append("collaborators", {"user": sharer, "access": "Read/Write"})  # the sharer may read it
	pc.save(ignore_permissions=True)
	on_line, elsewhere = line_item(region.line), line_item(make_business_line())

	with pytest.raises(PoolRuleError, match=region.line):
		as_user(sharer, line_quotation("Lead", row.lead, on_line).insert, ignore_permissions=True)
	as_user(sharer, line_quotation("Lead", row.lead, elsewhere).insert, ignore_permissions=True)  # other line
	as_user(region.seller, line_quotation("Lead", row.lead, on_line).insert, ignore_permissions=True)

	add_line_staff(region.line, sharer)  # staff of the line quote it
	as_user(sharer, line_quotation("Lead", row.lead, on_line).insert, ignore_permissions=True)


def test_staff_of_a_line_above_may_quote(region):
	sharer = new_user("Sales User")
	sub_line = make_business_line(parent=region.line)
	row = share_row(make_share(sharer, **share_fields(region.territory, sub_line)).name)
	with pytest.raises(PoolRuleError):
		as_user(sharer, line_quotation("Lead", row.lead, line_item(sub_line)).insert, ignore_permissions=True)
	add_line_staff(region.line, sharer)
	as_user(sharer, line_quotation("Lead", row.lead, line_item(sub_line)).insert, ignore_permissions=True)


# --- two shares of one new customer at once -------------------------------------------------------


@pytest.fixture
def committed_region():
	made = frappe._dict(pools=[], users=[], groups=[], territories=[])
	yield made
	frappe.db.rollback()
	frappe.set_user("Administrator")
	purge_shares(made.pools, made.users, made.groups, made.territories)
	real_commit()


def test_two_shares_of_one_new_customer_at_once_give_one_lead(committed_region):
	made = committed_region
	r = region_pool()
	line = make_business_line()
	sharers = [employee_user(), new_user("Sales User")]
	made.pools.append(r.pool)
	made.users.extend(sharers)
	made.groups.append(line)
	made.territories.append(r.territory)
	real_commit()
	fields = share_fields(r.territory, line)

	def share(company: str, person: str):
		def run():
			doc = frappe.get_doc(
				{"doctype": model.CUSTOMER_SHARE, **fields, "company_name": company, "contact_person": person}
			)
			doc.insert()

		return run

	# one customer (the same mobile and company) as two colleagues write it; two contact names, as
	# Frappe names two Contacts of one name made at once the same (a race of Frappe's, not the pool's)
	results = at_once(
		[
			(sharers[0], share(fields["company_name"], "李明")),
			(sharers[1], share(fields["company_name"] + " ", "李经理")),
		]
	)
	assert results == ["ok", "ok"], results
	frappe.db.rollback()
	rows = frappe.get_all(
		model.CUSTOMER_SHARE, filters={"sharer": ("in", sharers)}, fields=["status", "lead", "pool_customer"]
	)
	assert sorted(s.status for s in rows) == sorted([model.SHARED, model.NOT_REWARDABLE]), rows
	assert len({s.pool_customer for s in rows}) == 1
	assert frappe.db.count("Pool Customer", {"pool": r.pool}) == 1
	assert len(frappe.get_all("Lead", filters={"territory": r.territory}, pluck="name")) == 1


# --- over HTTP: REST behaves as share_customer; others get 403 -----------------------------------


def test_rest_insert_is_a_share_and_another_employee_gets_403(committed_region, web_server):
	import requests

	made, password = committed_region, "Share!2026-rest"
	r = region_pool()
	line = make_business_line()
	sharer, colleague = employee_user(password=password), employee_user(password=password)
	made.pools.append(r.pool)
	made.users.extend([sharer, colleague])
	made.groups.append(line)
	made.territories.append(r.territory)
	real_commit()

	def session(user: str) -> requests.Session:
		s = requests.Session()
		assert s.post(f"{web_server}/api/method/login", json={"usr": user, "pwd": password}).ok
		return s

	fields = share_fields(r.territory, line)
	forged = {**fields, "status": model.REWARDED, "sharer": colleague, "reason": "forged"}
	url = f"{web_server}/api/resource/Customer Share"
	created = session(sharer).post(url, json=forged)
	assert created.status_code == 200, created.text[:1000]
	share = created.json()["data"]
	assert share["status"] == model.SHARED and share["sharer"] == sharer and not share.get("reason")
	assert fields["mobile_no"] not in created.text and share.get("mobile_masked")

	mine = session(sharer).get(f"{url}/{share['name']}")
	assert mine.status_code == 200 and fields["mobile_no"] not in mine.text
	other = session(colleague)
	assert other.get(f"{url}/{share['name']}").status_code == 403
	listed = other.get(url, params={"fields": json.dumps(["name"]), "limit_page_length": 0})
	assert listed.status_code == 200 and share["name"] not in listed.text


def test_a_race_lost_on_the_leads_own_dedupe_is_not_rewardable_and_leaves_no_contact(region, monkeypatch):
	"""The other share's customer commits between this share's check and its Lead's own check: the
	Lead's DuplicateCustomerError makes the share not rewardable, and the Contact ERPNext made for the
	refused Lead goes too. (The share's own check is skipped here to reach the Lead's.)"""
	from crm_pool.sharing import shares
	from tests.pool.test_races import random_mobile

	mobile = random_mobile()
	existing = make_lead(region.pool, owner=region.seller, mobile_no=mobile)
	monkeypatch.setattr(shares, "find_duplicate", lambda keys, **kwargs: None)
	sharer = employee_user()
	leads, contacts = frappe.db.count("Lead"), frappe.db.count("Contact")
	fields = share_fields(region.territory, region.line, mobile_no=mobile)
	row = share_row(make_share(sharer, **fields).name)
	assert row.status == model.NOT_REWARDABLE and not row.lead
	assert row.pool_customer == frappe.db.get_value("Pool Customer", {"lead": existing.name})
	assert normalize.mask_person_name(frappe.utils.get_fullname(region.seller)) in row.reason
	assert frappe.db.count("Lead") == leads
	assert frappe.db.count("Contact") == contacts  # the refused Lead's Contact is gone
	assert not frappe.db.exists("Contact", {"mobile_no": ("like", f"%{mobile[-8:]}%"), "first_name": "李明"})
