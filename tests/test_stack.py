"""The stack: ERPNext set up as a Chinese company, crm_pool installed with its roles, workspace,
translations and demo data."""

import random

import frappe
import frappe.translate
from frappe.utils.password import check_password

from crm_pool import demo
from crm_pool.core.roles import POOL_MANAGER


def test_erpnext_is_set_up_for_a_chinese_company():
	assert frappe.db.get_single_value("System Settings", "setup_complete")
	company = frappe.get_doc("Company", frappe.defaults.get_global_default("company"))
	assert company.default_currency == "CNY"
	assert company.country == "China"
	assert frappe.db.get_single_value("System Settings", "time_zone") == "Asia/Shanghai"
	assert frappe.db.exists("Fiscal Year", {"year_start_date": ("<=", frappe.utils.nowdate())})


def test_app_is_installed_with_its_module_role_and_workspace():
	assert "crm_pool" in frappe.get_installed_apps()
	assert "erpnext" in frappe.get_installed_apps()
	assert frappe.db.exists("Module Def", "CRM Pool")
	assert frappe.db.get_value("Role", POOL_MANAGER, "desk_access") == 1
	workspace = frappe.get_doc("Workspace", "客户公海")
	assert workspace.public and workspace.module == "CRM Pool"
	assert POOL_MANAGER in frappe.get_roles("Administrator")


def test_each_source_text_has_one_zh_translation_per_context():
	"""Two helpers translating one string differently: the later silently wins (推荐奖励 vs 共享客户奖励)."""
	import csv
	from collections import defaultdict

	path = frappe.get_app_path("crm_pool", "translations", "zh.csv")
	with open(path, encoding="utf-8") as f:
		rows = [row for row in csv.reader(f) if row]
	seen = defaultdict(set)
	for row in rows:
		seen[(row[0], row[2] if len(row) > 2 else "")].add(row[1])
	assert len(rows) > 500
	assert {key: zh for key, zh in seen.items() if len(zh) > 1} == {}


def test_zh_translations_load():
	frappe.local.lang = "zh"
	frappe.translate.clear_cache()
	assert frappe._("Pool Manager") == "公海管理员"
	assert frappe._("CRM Pool") == "客户公海"
	frappe.local.lang = "en"
	assert frappe._("Pool Manager") == "Pool Manager"


def test_demo_leads_are_deterministic_and_distinct():
	users = [u for u in demo.DEMO_USERS if u.territory]
	first = list(demo.generate_leads(random.Random(5), 200, users))
	again = list(demo.generate_leads(random.Random(5), 200, users))
	other = list(demo.generate_leads(random.Random(6), 200, users))
	assert first == again
	assert first != other
	assert len({lead.company_name for lead in first}) == 200
	assert all(len(lead.mobile_no) == 11 and lead.mobile_no[0] == "1" for lead in first)
	owned = [lead for lead in first if lead.owner]
	assert 0 < len(owned) < 200
	# an owned lead belongs to the salesperson covering its region
	territory_of = {u.email: u.territory for u in users}
	assert all(territory_of[lead.owner] == lead.region for lead in owned)


def test_make_demo_builds_the_organisation_and_is_idempotent():
	summary = demo.make_demo(seed=11, count=25, commit=False)
	assert summary["leads_created"] == 25
	assert summary["customers_created"] > 0
	assert summary["invoices_created"] > 0
	for user in demo.DEMO_USERS:
		assert set(user.roles) <= set(frappe.get_roles(user.email))
		check_password(user.email, demo.DEMO_PASSWORD)  # raises if the password is wrong
		employee = frappe.db.get_value("Employee", {"user_id": user.email})
		assert employee
		# the sales team has Sales Persons; 赵敏 of 综合部 shares customers but does not sell
		assert bool(frappe.db.exists("Sales Person", {"employee": employee})) == ("Sales User" in user.roles)
	assert frappe.db.get_value("Territory", "江苏", "parent_territory") == "华东"
	assert frappe.db.exists("Customer Group", "化工")
	invoices = frappe.get_all("Sales Invoice", filters={"docstatus": 1}, fields=["currency", "grand_total"])
	assert invoices and all(i.currency == "CNY" and i.grand_total > 0 for i in invoices)
	converted = frappe.get_all("Customer", filters={"lead_name": ("is", "set")}, pluck="account_manager")
	assert converted and all(converted)

	# the sharing story: shares of every stage, one not rewardable, last month's rewards, 赵敏's approved
	# and paid (the story, crm_pool.demo_story)
	assert summary["shares_created"] == len(demo.DEMO_SHARES) + 1
	statuses = frappe.get_all("Customer Share", pluck="status")
	assert {"Shared", "Accepted", "Converted", "Not Rewardable"} <= set(statuses)
	zhao = frappe.get_all(
		"Referral Reward",
		filters={"sharer": f"zhao.min@{demo.EMAIL_DOMAIN}"},
		fields=["workflow_state", "net_amount"],
	)
	assert [(r.workflow_state, r.net_amount) for r in zhao] == [("Paid", 500)]  # 75 万元 estimated
	assert frappe.get_all(
		"Referral Reward", filters={"sharer": f"zhang.wei@{demo.EMAIL_DOMAIN}"}, pluck="net_amount"
	) == [500]

	again = demo.make_demo(seed=11, count=25, commit=False)
	assert (again["leads_created"], again["customers_created"], again["invoices_created"]) == (0, 0, 0)
	assert again["shares_created"] == 0
	more = demo.make_demo(seed=11, count=30, commit=False)
	assert more["leads_created"] == 5
