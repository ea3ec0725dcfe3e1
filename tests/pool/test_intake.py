"""Intake (收集): Leads and Customers enter the pool as Pool Customers; duplicates are refused with a
message naming the existing customer and its (masked) owner; review through the Workflow; Lead ->
Customer keeps one Pool Customer; Frappe's Data Import goes through the same path."""

from __future__ import annotations

import json
import uuid

import frappe
import pytest
from erpnext.crm.doctype.lead.lead import make_customer
from frappe.model.workflow import WorkflowTransitionError, apply_workflow
from frappe.translate import clear_cache as clear_translation_cache
from frappe.utils import get_datetime

from crm_pool import demo
from crm_pool.core import errors, normalize
from crm_pool.core import settings as pool_settings_
from crm_pool.core.roles import POOL_MANAGER, SALES_MANAGER, SALES_USER
from crm_pool.core.status import CONVERT, CONVERTED, IN_POOL, INTAKE, INVALID, OWNED, PENDING_REVIEW, REVIEW
from crm_pool.pool import collaborators, dedupe, intake
from crm_pool.setup import install
from tests import factories

# --- helpers -------------------------------------------------------------------------------------


def uid() -> str:
	return uuid.uuid4().hex[:8]


def unique_mobile() -> str:
	return "139" + str(uuid.uuid4().int)[:8]


def make_pool(*, territory: str | None = None, require_review: int = 0, is_default: int = 0, **fields) -> str:
	return factories.make_pool(
		territory=territory, require_review=require_review, is_default=is_default, **fields
	)


def make_territory(parent: str | None = None, is_group: int = 1) -> str:
	parent = parent or frappe.db.get_value(
		"Territory", {"is_group": 1, "parent_territory": ("in", ("", None))}
	)
	name = f"区域-{uid()}"
	frappe.get_doc(
		{"doctype": "Territory", "territory_name": name, "parent_territory": parent, "is_group": is_group}
	).insert()
	return name


def new_lead(
	company: str | None = None,
	*,
	pool: str | None = None,
	mobile: str | None = None,
	email: str | None = None,
	uscc: str | None = None,
	owner: str | None = None,
	**fields,
):
	"""Insert a Lead (into `pool` through the flags.pool contract); returns the Lead document."""
	lead = frappe.get_doc(
		{
			"doctype": "Lead",
			"first_name": "联系人" + uid()[:4],
			"company_name": company if company is not None else f"测试{uid()}环保科技有限公司",
			"mobile_no": mobile if mobile is not None else unique_mobile(),
			"email_id": email if email is not None else f"lead-{uid()}@example.cn",
			"uscc": uscc,
			"lead_owner": owner,
			**fields,
		}
	)
	lead.flags.pool = pool
	lead.insert()
	return lead


def pool_customer_of(doctype: str, name: str):
	pc = frappe.db.get_value("Pool Customer", {"party_type": doctype, "party": name})
	return frappe.get_doc("Pool Customer", pc) if pc else None


def logs(pc: str) -> list[frappe._dict]:
	return frappe.get_all(
		"Pool Log",
		filters={"pool_customer": pc},
		fields=["action", "from_user", "to_user", "reason", "pool"],
		order_by="creation, action desc",
	)


def counts() -> tuple[int, int, int]:
	return frappe.db.count("Lead"), frappe.db.count("Pool Customer"), frappe.db.count("Pool Log")


def named_user(make_user, full_name: str, *roles: str) -> str:
	user = make_user(*roles)
	frappe.db.set_value("User", user, {"first_name": full_name, "last_name": None, "full_name": full_name})
	frappe.local.fullnames = {}
	return user


# --- intake: owned, pending review, in pool ------------------------------------------------------


def test_lead_with_owner_is_owned_by_its_first_contact(make_user):
	pool = make_pool(require_review=1)
	owner = named_user(make_user, "张伟", SALES_USER)
	lead = new_lead(
		"杭州恒信化工有限公司",
		pool=pool,
		owner=owner,
		mobile="+86 138-1234-5678",
		email="ZhangSan@Example.cn",
		uscc="91350100M000100Y43",
		state="浙江",
		city="杭州",
		source="展会" if frappe.db.exists("Lead Source", "展会") else None,
	)

	pc = pool_customer_of("Lead", lead.name)
	assert pc.name.startswith("PC-")
	assert (pc.status, pc.review_status, pc.owned_by, pc.owner_name) == (OWNED, "Approved", owner, "张伟")
	assert pc.pool == pool and pc.lead == lead.name and pc.claimed_at
	assert pc.customer_name == "杭州恒信化工有限公司"
	assert pc.uscc == "91350100M000100Y43"
	assert (pc.mobile_masked, pc.email_masked, pc.address_masked) == (
		"138****5678",
		"Zh***@Example.cn",
		"浙江杭州",
	)
	assert pc.name_key == normalize.dedupe_key("杭州恒信化工有限公司")
	assert pc.mobile_key == normalize.dedupe_key("13812345678")
	assert pc.email_key == normalize.dedupe_key("zhangsan@example.cn")
	row = frappe.db.sql("SELECT * FROM `tabPool Customer` WHERE name = %s", pc.name, as_dict=True)[0]
	assert not any("12345678" in str(v) or "zhangsan@" in str(v).lower() for v in row.values())

	assert [(e.action, e.to_user) for e in logs(pc.name)] == [(INTAKE, owner)]
	assert frappe.db.get_value("Lead", lead.name, "pool_customer") == pc.name
	assert frappe.db.exists(
		"ToDo",
		{"reference_type": "Lead", "reference_name": lead.name, "allocated_to": owner, "status": "Open"},
	)
	assert intake.create_pool_customer("Lead", lead.name).name == pc.name  # idempotent
	assert frappe.db.count("Pool Customer", {"party": lead.name}) == 1


def test_a_lead_owned_at_intake_gets_its_recycle_due_date(make_user):
	"""首问负责 owns it at once, under the pool's recycle rules like a claim (it had no due date: never
	recycled)."""
	pool = make_pool(no_followup_days=30)
	owner = named_user(make_user, "王强", SALES_USER)
	lead = new_lead("苏州瑞丰涂料有限公司", pool=pool, owner=owner)
	pc = pool_customer_of("Lead", lead.name)
	assert pc.recycle_due_at
	assert abs((get_datetime(pc.recycle_due_at) - get_datetime(pc.claimed_at)).days - 30) <= 1


def test_lead_without_owner_waits_for_review_when_the_pool_reviews():
	pool = make_pool(require_review=1)
	lead = new_lead(pool=pool)
	pc = pool_customer_of("Lead", lead.name)
	assert (pc.status, pc.review_status, pc.owned_by, pc.pool_entered_at) == (
		PENDING_REVIEW,
		"Pending",
		None,
		None,
	)
	assert [e.action for e in logs(pc.name)] == [INTAKE]
	# the review inbox: an open Workflow Action for the reviewers
	assert frappe.db.exists(
		"Workflow Action", {"reference_doctype": "Pool Customer", "reference_name": pc.name, "status": "Open"}
	)


def test_lead_without_owner_goes_straight_into_a_pool_without_review():
	pool = make_pool(require_review=0)
	lead = new_lead(pool=pool)
	pc = pool_customer_of("Lead", lead.name)
	assert (pc.status, pc.review_status, pc.owned_by) == (IN_POOL, "Approved", None)
	assert pc.pool_entered_at
	assert not frappe.db.exists("Workflow Action", {"reference_name": pc.name, "status": "Open"})


def test_pool_is_chosen_by_territory_nearest_ancestor_then_default():
	region = make_territory()
	province = make_territory(region)
	city = make_territory(province, is_group=0)
	elsewhere = make_territory(is_group=0)
	region_pool = make_pool(territory=region)
	province_pool = make_pool(territory=province)
	default = make_pool(is_default=1)

	assert pool_settings_.choose_pool(city) == province_pool
	assert pool_settings_.choose_pool(province) == province_pool
	assert pool_settings_.choose_pool(region) == region_pool
	assert pool_settings_.choose_pool(elsewhere) == default
	assert pool_settings_.choose_pool(None) == default

	lead = new_lead(territory=city)  # no flags.pool: chosen by territory
	assert pool_customer_of("Lead", lead.name).pool == province_pool
	frappe.db.set_value("Customer Pool", province_pool, "enabled", 0)
	assert pool_settings_.choose_pool(city) == region_pool


def test_no_enabled_pool_means_no_pool_customer():
	frappe.db.sql("UPDATE `tabCustomer Pool` SET enabled = 0")
	lead = new_lead()
	assert pool_customer_of("Lead", lead.name) is None
	assert pool_settings_.choose_pool(None) is None


def test_a_disabled_pool_refuses_intake():
	pool = make_pool()
	frappe.db.set_value("Customer Pool", pool, "enabled", 0)
	with pytest.raises(frappe.ValidationError, match="is disabled"):
		new_lead(pool=pool)


# --- dedupe --------------------------------------------------------------------------------------

EXISTING = {
	"company": "上海绿源环保科技有限公司",
	"mobile": "13912345678",
	"email": "Zhang.San@Example.cn",
	"uscc": "91110000600037341L",
}


@pytest.mark.parametrize(
	"kind, field, value",
	[
		("Unified Social Credit Code", "uscc", "91110000600037341l"),
		("Unified Social Credit Code", "uscc", " 91110000600037341L "),
		("mobile number", "mobile", "+86 139 1234 5678"),
		("mobile number", "mobile", "139-1234-5678"),
		("mobile number", "mobile", "0086 13912345678"),
		("mobile number", "mobile", "+86-139-1234-5678"),
		("email address", "email", "zhang.san@example.cn"),
		("email address", "email", "ZHANG.SAN@EXAMPLE.CN"),
		("company name", "company", "上海绿源环保科技有限责任公司"),
		("company name", "company", "上海绿源环保科技股份有限公司"),
		("company name", "company", "上海绿源环保科技 有限公司"),
		("company name", "company", "上海绿源环保科技（有限公司）"),
	],
)
def test_each_kind_of_duplicate_is_refused(kind, field, value):
	pool = make_pool()
	existing = new_lead(
		EXISTING["company"],
		pool=pool,
		mobile=EXISTING["mobile"],
		email=EXISTING["email"],
		uscc=EXISTING["uscc"],
	)
	pc = pool_customer_of("Lead", existing.name)
	other = {
		"company": f"北京{uid()}检测有限公司",
		"mobile": unique_mobile(),
		"email": f"x-{uid()}@example.cn",
	}
	other[field] = value
	before = counts()
	with pytest.raises(errors.DuplicateCustomerError) as error:
		new_lead(
			other["company"], pool=pool, mobile=other["mobile"], email=other["email"], uscc=other.get("uscc")
		)
	message = str(error.value)
	assert f"{pc.name} {EXISTING['company']}" in message
	assert f"the same {kind}" in message
	assert "no owner" in message and pool in message
	assert counts() == before


def test_full_width_company_name_is_a_duplicate():
	pool = make_pool()
	new_lead("ＡＢＣ环保科技（中国）有限公司", pool=pool)
	with pytest.raises(errors.DuplicateCustomerError, match="the same company name"):
		new_lead("ABC环保科技(中国)有限责任公司", pool=pool)


def test_duplicate_message_masks_the_owner_for_users_who_may_not_see_the_customer(make_user):
	pool = make_pool()
	owner = named_user(make_user, "张伟", SALES_USER)
	other_sales = make_user(SALES_USER)
	manager = make_user(SALES_MANAGER, SALES_USER)
	collaborator = make_user(SALES_USER)
	existing = new_lead("苏州瑞丰精密制造有限公司", pool=pool, owner=owner, mobile="13712345678")
	pc = pool_customer_of("Lead", existing.name)
	collaborators.add_collaborator(pc.name, collaborator, "Read")

	def refusal_as(user: str) -> str:
		frappe.set_user(user)
		try:
			with pytest.raises(errors.DuplicateCustomerError) as error:
				new_lead("苏州瑞丰精密制造股份有限公司", mobile=unique_mobile())
			return str(error.value)
		finally:
			frappe.set_user("Administrator")

	message = refusal_as(other_sales)
	assert pc.name in message and "苏州瑞丰精密制造有限公司" in message
	assert "Its owner is 张*." in message and "张伟" not in message
	for user in (owner, manager, collaborator):
		assert "Its owner is 张伟." in refusal_as(user)

	frappe.local.lang = "zh"
	try:
		frappe.set_user(other_sales)
		assert dedupe.duplicate_message(pc, "name_key").startswith("该客户已存在")
		assert "负责人为 张*" in dedupe.duplicate_message(pc, "name_key")
	finally:
		frappe.set_user("Administrator")
		frappe.local.lang = "en"


def test_a_customer_duplicating_a_lead_is_refused():
	pool = make_pool()
	new_lead("无锡宏达电子有限公司", pool=pool)
	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": "无锡宏达电子股份有限公司",
			"customer_type": "Company",
			"customer_group": frappe.db.get_value("Customer Group", {"is_group": 0}),
			"territory": frappe.db.get_value("Territory", {"is_group": 0}),
		}
	)
	customer.flags.pool = pool
	with pytest.raises(errors.DuplicateCustomerError, match="company name"):
		customer.insert()


def test_a_rejected_customer_does_not_block_a_new_one():
	pool = make_pool(require_review=1)
	lead = new_lead("南京永盛食品有限公司", pool=pool)
	apply_workflow(pool_customer_of("Lead", lead.name), "Reject")
	again = new_lead("南京永盛食品有限公司", pool=pool)
	assert pool_customer_of("Lead", again.name).status == PENDING_REVIEW


def test_editing_a_lead_into_a_duplicate_is_refused():
	pool = make_pool()
	first = new_lead(pool=pool, mobile="13612345678")
	second = new_lead(pool=pool)
	second.reload()  # ERPNext's Contact hook wrote the lead's phone numbers
	second.mobile_no = "136 1234 5678"
	with pytest.raises(errors.DuplicateCustomerError, match=pool_customer_of("Lead", first.name).name):
		second.save()
	second.reload()
	second.email_id = second.email_id.upper()  # its own email in another case: not a duplicate
	second.save()


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
	"fields, problem",
	[
		({"uscc": "91350100M000100Y44"}, "wrong check character"),
		({"uscc": "91350100M000100"}, "must have 18 characters"),
		({"uscc": "91350100M00010OY43"}, "not allowed: O"),
		({"mobile": "12812345678"}, "not a valid mainland China mobile number"),
		({"mobile": "+86 138 1234 567"}, "not a valid mainland China mobile number"),
	],
)
def test_invalid_uscc_or_mobile_is_refused_and_nothing_is_written(fields, problem):
	pool = make_pool()
	before = counts()
	with pytest.raises(frappe.ValidationError) as error:
		new_lead(pool=pool, **fields)
	assert problem in str(error.value)
	assert counts() == before


def test_invalid_uscc_message_in_chinese():
	frappe.local.lang = "zh"
	with pytest.raises(frappe.ValidationError, match="校验码"):
		new_lead(pool=make_pool(), uscc="91350100M000100Y44")


# --- conversion ----------------------------------------------------------------------------------


def convert(lead_name: str):
	customer = make_customer(lead_name)
	customer.customer_group = frappe.db.get_value("Customer Group", {"is_group": 0})
	customer.insert()
	return customer


def test_lead_to_customer_keeps_one_pool_customer_and_its_history(make_user):
	pool = make_pool(require_review=1)
	owner = make_user(SALES_USER)
	lead = new_lead("常州博远装备有限公司", pool=pool, owner=owner, uscc="91440300708461136T")
	pc_name = pool_customer_of("Lead", lead.name).name

	customer = convert(lead.name)  # ERPNext's own Lead -> Customer mapping

	assert frappe.db.count("Pool Customer", {"lead": lead.name}) == 1
	pc = frappe.get_doc("Pool Customer", pc_name)
	assert (pc.party_type, pc.party, pc.customer, pc.lead) == (
		"Customer",
		customer.name,
		customer.name,
		lead.name,
	)
	assert (pc.status, pc.owned_by) == (CONVERTED, owner)
	assert pc.uscc == "91440300708461136T" and pc.customer_group == customer.customer_group
	assert [e.action for e in logs(pc.name)] == [INTAKE, CONVERT]
	assert frappe.db.get_value("Customer", customer.name, ["pool_customer", "account_manager", "uscc"]) == (
		pc.name,
		owner,
		"91440300708461136T",
	)
	assert frappe.db.get_value("Lead", lead.name, "status") == "Converted"
	todo = {"allocated_to": owner, "status": "Open"}
	assert frappe.db.exists("ToDo", {"reference_type": "Customer", "reference_name": customer.name, **todo})
	assert not frappe.db.exists("ToDo", {"reference_type": "Lead", "reference_name": lead.name, **todo})
	# the same party again is not a new pool customer, but a second customer from that lead is a duplicate
	with pytest.raises(errors.DuplicateCustomerError):
		convert(lead.name)


def test_converting_an_unowned_lead_keeps_its_status():
	pool = make_pool()
	lead = new_lead(pool=pool)
	customer = convert(lead.name)
	pc = pool_customer_of("Customer", customer.name)
	assert pc.lead == lead.name and pc.status == IN_POOL and not pc.owned_by
	assert [e.action for e in logs(pc.name)] == [INTAKE, CONVERT]


def test_a_new_customer_enters_the_pool_with_its_contact(make_user):
	pool = make_pool()
	owner = make_user(SALES_USER)
	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": f"深圳{uid()}半导体有限公司",
			"customer_type": "Company",
			"customer_group": frappe.db.get_value("Customer Group", {"is_group": 0}),
			"account_manager": owner,
			"mobile_no": "0086-135-1234-5678",
			"email_id": "Li.Na@Example.cn",
		}
	)
	customer.flags.pool = pool
	customer.insert()
	pc = pool_customer_of("Customer", customer.name)
	assert (pc.status, pc.owned_by, pc.customer, pc.lead) == (
		CONVERTED,
		owner,
		customer.name,
		None,
	)  # a Customer owned is 已转化
	assert (pc.mobile_masked, pc.email_masked) == ("135****5678", "Li***@Example.cn")
	assert pc.mobile_key == normalize.dedupe_key("13512345678")
	assert frappe.db.get_value("Customer", customer.name, "pool_customer") == pc.name
	# the primary contact ERPNext made from those fields names the contact person on the next save
	customer.reload()
	customer.customer_name = customer.customer_name.replace("半导体", "光电")
	customer.save()
	pc.reload()
	assert pc.customer_name == customer.customer_name
	assert pc.contact_person


def test_invalid_mobile_on_a_new_customer_is_refused():
	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": f"测试{uid()}",
			"customer_type": "Company",
			"mobile_no": "1234",
		}
	)
	with pytest.raises(frappe.ValidationError, match="mobile number"):
		customer.insert()


# --- keeping the profile in sync -----------------------------------------------------------------


def test_editing_the_lead_updates_only_the_changed_fields_of_its_pool_customer():
	pool = make_pool()
	territory = frappe.db.get_value("Territory", {"is_group": 0})
	lead = new_lead(pool=pool)
	pc = pool_customer_of("Lead", lead.name)
	frappe.db.set_value("Pool Customer", pc.name, "contact_person", "手工维护")  # edited on the pool side

	lead.reload()
	lead.company_name = "温州天成涂料有限公司"
	lead.mobile_no = "+86 158 0000 1111"
	lead.territory = territory
	lead.uscc = "91350100m000100y43"
	lead.save()

	pc.reload()
	assert pc.customer_name == "温州天成涂料有限公司" and pc.name_key == normalize.dedupe_key(
		"温州天成涂料有限公司"
	)
	assert pc.mobile_masked == "158****1111"
	assert pc.mobile_key == normalize.dedupe_key("15800001111")
	assert pc.territory == territory
	assert pc.uscc == "91350100M000100Y43" == frappe.db.get_value("Lead", lead.name, "uscc")
	assert pc.contact_person == "手工维护"  # unchanged on the lead: left alone


# --- review workflow -----------------------------------------------------------------------------


def test_review_workflow_approves_into_the_pool_or_rejects_as_invalid(make_user):
	pool = make_pool(require_review=1)
	reviewer = make_user(POOL_MANAGER)
	sales = make_user(SALES_USER)
	approved = pool_customer_of("Lead", new_lead(pool=pool).name)
	rejected = pool_customer_of("Lead", new_lead(pool=pool).name)

	frappe.set_user(sales)  # a sales user may not review (nor even see a customer pending review)
	with pytest.raises((WorkflowTransitionError, frappe.PermissionError)):
		apply_workflow(approved, "Approve")

	frappe.set_user(reviewer)
	apply_workflow(approved, "Approve")
	apply_workflow(rejected, "Reject")
	frappe.set_user("Administrator")

	approved.reload()
	rejected.reload()
	assert (approved.review_status, approved.status) == ("Approved", IN_POOL)
	assert approved.pool_entered_at
	assert (rejected.review_status, rejected.status) == ("Rejected", INVALID)
	assert [(e.action, e.reason) for e in logs(approved.name)] == [
		(INTAKE, None),
		(REVIEW, "Pending -> Approved"),
	]
	assert [(e.action, e.reason) for e in logs(rejected.name)] == [
		(INTAKE, None),
		(REVIEW, "Pending -> Rejected"),
	]
	assert (
		frappe.db.get_value("Pool Log", {"pool_customer": approved.name, "action": REVIEW}, "by_user")
		== reviewer
	)
	with pytest.raises(WorkflowTransitionError):  # decided: no further transition
		apply_workflow(approved, "Reject")


def test_sales_manager_approval_of_an_owned_pending_customer_makes_it_owned(make_user):
	pool = make_pool(require_review=1)
	owner = make_user(SALES_USER)
	pc = pool_customer_of("Lead", new_lead(pool=pool).name)
	frappe.db.set_value("Pool Customer", pc.name, "owned_by", owner)  # e.g. claimed while pending
	frappe.set_user(make_user(SALES_MANAGER))
	apply_workflow(pc, "Approve")
	frappe.set_user("Administrator")
	assert frappe.db.get_value("Pool Customer", pc.name, "status") == OWNED


# --- controllers ---------------------------------------------------------------------------------


def test_one_default_pool_at_most():
	first = make_pool(is_default=1)
	second = make_pool(is_default=1)
	assert frappe.get_all("Customer Pool", filters={"is_default": 1}, pluck="name") == [second]
	pool = frappe.get_doc("Customer Pool", first)
	pool.is_default, pool.enabled = 1, 0
	with pytest.raises(frappe.ValidationError, match="default pool must be enabled"):
		pool.save()


@pytest.mark.parametrize(
	"field", ["max_owned", "max_daily_claims", "cooldown_days", "no_followup_days", "reminder_days"]
)
def test_pool_counts_cannot_be_negative(field):
	with pytest.raises(frappe.ValidationError, match="cannot be negative"):
		make_pool(**{field: -1})


def test_pool_count_message_in_chinese():
	frappe.local.lang = "zh"
	with pytest.raises(frappe.ValidationError, match="每人最多保有客户数 不能为负数"):
		make_pool(max_owned=-1)


def test_pool_members_are_unique_and_get_their_full_names(make_user):
	user = named_user(make_user, "李娜", SALES_USER)
	pool = frappe.get_doc("Customer Pool", make_pool(members=[{"user": user}]))
	assert pool.members[0].full_name == "李娜"
	pool.append("members", {"user": user, "is_admin": 1})
	with pytest.raises(frappe.ValidationError, match="already a member"):
		pool.save()
	with pytest.raises(frappe.ValidationError, match="already has a rule"):
		make_pool(
			grade_rules=[{"grade": "A", "no_followup_days": 30}, {"grade": "A", "no_followup_days": 10}]
		)
	with pytest.raises(frappe.ValidationError, match="cannot be negative"):
		make_pool(grade_rules=[{"grade": "B", "no_deal_days": -5}])


def test_a_territory_is_covered_by_one_enabled_pool():
	territory = make_territory()
	make_pool(territory=territory)
	with pytest.raises(frappe.ValidationError, match="already covered"):
		make_pool(territory=territory)


def test_pool_customer_validation():
	pool = make_pool()
	lead = new_lead(pool=pool)
	pc = pool_customer_of("Lead", lead.name)
	twin = frappe.copy_doc(pc)
	with pytest.raises(frappe.DuplicateEntryError, match="already the pool customer"):
		twin.insert()
	pc.uscc = "91350100M000100Y44"
	with pytest.raises(frappe.ValidationError, match="check character"):
		pc.save()
	pc.reload()
	pc.pool = None
	with pytest.raises(frappe.ValidationError):
		pc.save()


def test_install_creates_the_default_pool_once():
	assert "crm_pool.setup.install.after_install" in frappe.get_hooks("after_install", app_name="crm_pool")
	assert frappe.db.get_value(
		"Customer Pool", install.DEFAULT_POOL, ["is_default", "require_review", "enabled"]
	) == (
		1,
		1,
		1,
	)
	frappe.delete_doc("Customer Pool", install.DEFAULT_POOL, force=True)
	assert install.make_default_pool() == install.DEFAULT_POOL
	assert install.make_default_pool() is None
	assert frappe.db.count("Customer Pool", {"is_default": 1}) == 1


def test_custom_fields_show_uscc_and_the_pool_customer_on_lead_and_customer():
	for doctype in ("Lead", "Customer"):
		meta = frappe.get_meta(doctype)
		assert meta.get_field("uscc").label == "Unified Social Credit Code"
		link = meta.get_field("pool_customer")
		assert (link.fieldtype, link.options, link.read_only) == ("Link", "Pool Customer", 1)
	frappe.local.lang = "zh"
	clear_translation_cache()
	assert frappe._("Unified Social Credit Code") == "统一社会信用代码"
	assert frappe._("Pending", context="Pool Customer") == "待审核"


# --- demo data ---------------------------------------------------------------------------------


def test_demo_leads_enter_their_regional_pools_through_intake():
	summary = demo.make_demo(seed=7, count=30, commit=False)
	assert summary["leads_created"] == 30
	pools = {
		pool.name: pool
		for pool in frappe.get_all("Customer Pool", fields=["name", "territory", "is_default", "enabled"])
	}
	assert pools["华东公海"].territory == "华东" and pools["华南公海"].territory == "华南"
	assert pools[install.DEFAULT_POOL].is_default
	manager = next(u.email for u in demo.DEMO_USERS if SALES_MANAGER in u.roles)
	for pool in (*demo.REGIONAL_POOLS, install.DEFAULT_POOL):
		members = frappe.get_all(
			"Customer Pool Member", filters={"parent": pool}, fields=["user", "is_admin", "full_name"]
		)
		assert {(m.user, m.is_admin) for m in members if m.user == manager} == {(manager, 1)}
		assert len(members) > 1 and all(m.full_name for m in members)

	region_of = {p: r for r, provinces in demo.REGIONS.items() for p in provinces}
	leads = frappe.get_all(
		"Lead",
		filters={"email_id": ("like", f"%@lead.{demo.EMAIL_DOMAIN}")},
		fields=["name", "territory", "lead_owner", "uscc", "pool_customer"],
	)
	assert len(leads) == 30 and sum(1 for lead in leads if lead.uscc) == 10
	for lead in leads:
		pc = frappe.db.get_value(
			"Pool Customer", lead.pool_customer, ["pool", "status", "owned_by", "lead"], as_dict=True
		)
		assert pc.lead == lead.name
		expected_pool = {"华东": "华东公海", "华南": "华南公海"}.get(
			region_of[lead.territory], install.DEFAULT_POOL
		)
		assert pc.pool == expected_pool
		if lead.lead_owner:
			assert pc.owned_by == lead.lead_owner and pc.status in (OWNED, CONVERTED)
		else:  # waiting for review, unless the demo's manager approved it (crm_pool.demo_story)
			assert pc.owned_by is None and pc.status in (PENDING_REVIEW, IN_POOL)
	converted = frappe.get_all("Customer", filters={"lead_name": ("is", "set")}, pluck="name")
	assert converted
	for customer in converted:
		assert frappe.db.get_value("Pool Customer", {"customer": customer}, "status") == CONVERTED
	assert demo.make_demo(seed=7, count=30, commit=False)["leads_created"] == 0


# --- Data Import ---------------------------------------------------------------------------------


@pytest.fixture
def real_commits(monkeypatch):
	"""Frappe's Data Import commits after each good row and rolls back a failed one, so the import
	runs with real commits; everything it touched is deleted afterwards (see `cleanup_import`)."""
	db = frappe.local.db
	monkeypatch.setattr(db, "commit", type(db).commit.__get__(db))
	created: dict[str, list[str]] = {
		"marker": [f"imp{uid()}"],
		"Lead": [],
		"Customer Pool": [],
		"Territory": [],
		"Data Import": [],
	}
	yield created
	frappe.db.rollback()
	cleanup_import(created)
	type(db).commit(db)


def cleanup_import(created: dict[str, list[str]]) -> None:
	leads = created["Lead"] + frappe.get_all(
		"Lead", filters={"email_id": ("like", f"%@{created['marker'][0]}.example.cn")}, pluck="name"
	)
	pcs = frappe.get_all("Pool Customer", filters={"lead": ("in", leads or [""])}, pluck="name")
	for table, field, names in (
		("Pool Log", "pool_customer", pcs),
		("Workflow Action", "reference_name", pcs),
		("Version", "docname", pcs + leads),
		("Comment", "reference_name", pcs + leads),
		("ToDo", "reference_name", leads),
	):
		if names:
			frappe.db.delete(table, {field: ("in", names)})
	if pcs:
		frappe.db.delete("Pool Customer", {"name": ("in", pcs)})
	for lead in leads:
		frappe.delete_doc("Lead", lead, force=True, ignore_permissions=True)
	for contact in frappe.get_all(
		"Contact", filters={"email_id": ("like", f"%@{created['marker'][0]}.example.cn")}, pluck="name"
	):
		frappe.delete_doc("Contact", contact, force=True, ignore_permissions=True)
	for name in created["Data Import"]:
		frappe.db.delete("Data Import Log", {"data_import": name})
		file_url = frappe.db.get_value("Data Import", name, "import_file")
		frappe.delete_doc("Data Import", name, force=True, ignore_permissions=True)
		for file in frappe.get_all("File", filters={"file_url": file_url}, pluck="name"):
			frappe.delete_doc("File", file, force=True, ignore_permissions=True)
	for doctype in ("Customer Pool", "Territory"):
		for name in created[doctype]:
			frappe.delete_doc(doctype, name, force=True, ignore_permissions=True)


def test_data_import_puts_leads_into_the_pool_and_refuses_a_duplicate_row(real_commits):
	marker = real_commits["marker"][0]
	territory = make_territory(is_group=0)
	real_commits["Territory"].append(territory)
	pool = make_pool(territory=territory, require_review=1)
	real_commits["Customer Pool"].append(pool)
	existing = new_lead(
		f"{marker}宁波金鼎化工有限公司",
		mobile="13012345678",
		email=f"a@{marker}.example.cn",
		territory=territory,
	)
	real_commits["Lead"].append(existing.name)
	frappe.db.commit()
	existing_pc = pool_customer_of("Lead", existing.name)
	assert existing_pc.pool == pool

	csv = "\n".join(
		[
			"first_name,company_name,mobile_no,email_id,territory,uscc",
			f"王强,{marker}厦门鑫源电子有限公司,13112345678,b@{marker}.example.cn,{territory},91350100M000100Y43",
			f"刘敏,{marker}宁波金鼎化工股份有限公司,+86 130-1234-5678,c@{marker}.example.cn,{territory},",
			f"陈静,{marker}成都海纳医疗器械有限公司,13212345678,d@{marker}.example.cn,{territory},",
		]
	)
	file = frappe.get_doc(
		{"doctype": "File", "file_name": f"{marker}.csv", "content": csv.encode(), "is_private": 1}
	).insert(ignore_permissions=True)
	data_import = frappe.get_doc(
		{
			"doctype": "Data Import",
			"reference_doctype": "Lead",
			"import_type": "Insert New Records",
			"import_file": file.file_url,
			"mute_emails": 1,
		}
	).insert(ignore_permissions=True)
	real_commits["Data Import"].append(data_import.name)
	frappe.db.commit()

	data_import.start_import()  # runs at once in tests (frappe.flags.in_test)

	assert frappe.db.get_value("Data Import", data_import.name, "status") == "Partial Success"
	imported = frappe.get_all(
		"Lead",
		filters={"email_id": ("like", f"%@{marker}.example.cn"), "name": ("!=", existing.name)},
		fields=["name", "company_name", "pool_customer", "uscc"],
		order_by="email_id",
	)
	assert [lead.company_name for lead in imported] == [
		f"{marker}厦门鑫源电子有限公司",
		f"{marker}成都海纳医疗器械有限公司",
	]
	assert imported[0].uscc == "91350100M000100Y43"
	for lead in imported:
		pc = frappe.get_doc("Pool Customer", lead.pool_customer)
		assert (pc.pool, pc.status, pc.party) == (pool, PENDING_REVIEW, lead.name)
		assert [e.action for e in logs(pc.name)] == [INTAKE]
	failed = frappe.get_all(
		"Data Import Log",
		filters={"data_import": data_import.name, "success": 0},
		fields=["row_indexes", "messages", "exception"],
	)
	assert len(failed) == 1
	assert "DuplicateCustomerError" in failed[0].exception
	# the Contact ERPNext made (and committed) for the refused row is gone after the rollback
	assert not frappe.db.exists("Contact", {"email_id": f"c@{marker}.example.cn"})
	messages = message_texts(failed[0].messages)
	assert f"{existing_pc.name} {marker}宁波金鼎化工有限公司" in messages
	assert "the same company name" in messages


def message_texts(raw: str) -> str:
	"""The texts of a Data Import Log's messages (JSON of message_log entries)."""
	texts = []
	for item in json.loads(raw or "[]"):
		if isinstance(item, str):
			try:
				item = json.loads(item)
			except ValueError:
				pass
		texts.append(item.get("message", "") if isinstance(item, dict) else str(item))
	return " ".join(texts)
