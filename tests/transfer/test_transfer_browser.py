"""End to end (headless Chromium, zh desk): a manager sees 调整归属 / 添加协作人 on an owned customer's
Lead, and makes a draft transfer of all of a salesperson's customers with the transfer wizard."""

from __future__ import annotations

import os

import frappe
import pytest

from crm_pool.core.roles import SALES_MANAGER, SALES_USER
from tests.conftest import real_commit
from tests.factories import new_user
from tests.pool.test_browser import PASSWORD, WAIT, browser, login  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def desk():
	"""Committed: a zh Sales Manager m (with a password), sales user a owning two customers; purged."""
	from tests.factories import make_lead, make_pool, purge

	m = new_user(SALES_USER, SALES_MANAGER, language="zh", password=PASSWORD)
	a = new_user(SALES_USER)
	pool = make_pool(members=[a], admins=[m])
	leads = [make_lead(pool, owner=a).name for _ in range(2)]
	real_commit()
	yield frappe._dict(m=m, a=a, pool=pool, leads=leads)
	frappe.db.rollback()
	for name in frappe.get_all("Ownership Transfer", filters={"from_owner": a}, pluck="name"):
		frappe.db.sql(
			"DELETE FROM `tabToDo` WHERE reference_type = 'Ownership Transfer' AND reference_name = %s", name
		)
		frappe.delete_doc("Ownership Transfer", name, force=True, ignore_permissions=True)
	purge(pool, [m, a])
	real_commit()


def test_a_manager_makes_a_draft_transfer_with_the_wizard(web_server, browser, desk):  # noqa: F811
	from selenium.webdriver.common.by import By
	from selenium.webdriver.support import expected_conditions as ec
	from selenium.webdriver.support.ui import WebDriverWait

	wait = WebDriverWait(browser, WAIT)
	login(browser, wait, web_server, desk.m)

	# the Lead of a's customer: the pool group offers the transfer and the collaborator actions
	browser.get(f"{web_server}/app/lead/{desk.leads[0]}")
	wait.until(
		ec.presence_of_element_located(
			(By.XPATH, "//*[contains(@class,'dropdown-item') and normalize-space()='调整归属']")
		)
	)
	assert browser.find_elements(
		By.XPATH, "//*[contains(@class,'dropdown-item') and normalize-space()='添加协作人']"
	)

	# the wizard on the Ownership Transfer list
	browser.get(f"{web_server}/app/ownership-transfer")
	wait.until(ec.element_to_be_clickable((By.XPATH, "//button[normalize-space()='归属调整向导']"))).click()
	wait.until(
		lambda d: d.execute_script("return !!(window.cur_dialog && cur_dialog.fields_dict.from_owner)")
	)
	browser.execute_script("cur_dialog.set_value('from_owner', arguments[0])", desk.a)
	wait.until(lambda d: "2" in d.execute_script("return cur_dialog.fields_dict.count_html.$wrapper.text()"))
	assert "目前负责 2 个客户" in browser.execute_script(
		"return cur_dialog.fields_dict.count_html.$wrapper.text()"
	)
	browser.execute_script("cur_dialog.set_values({to_pool: 1, trigger: 'Leaving', reason: '离职交接'})")
	browser.execute_script("cur_dialog.get_primary_btn().click()")
	wait.until(
		ec.element_to_be_clickable(
			(
				By.XPATH,
				"//div[contains(@class,'modal') and contains(@class,'show')]//button[normalize-space()='是']",
			)
		)
	).click()
	wait.until(lambda d: "/app/ownership-transfer/OT-" in d.current_url)
	name = browser.current_url.rsplit("/", 1)[-1]
	frappe.db.rollback()  # a fresh snapshot: the web server committed the draft
	doc = frappe.get_doc("Ownership Transfer", name)
	assert (doc.status, doc.from_owner, doc.all_customers, doc.to_pool, doc.customer_count) == (
		"Draft",
		desk.a,
		1,
		1,
		2,
	)
	assert doc.trigger == "Leaving" and doc.owner == desk.m
	shots = os.environ.get("CRM_POOL_SCREENSHOTS")
	if shots:
		browser.save_screenshot(os.path.join(shots, "ownership-transfer.png"))
