"""End to end, in headless Chromium against the test site's web server: a manager previews and
confirms an allocation (调配) from the pool board; a salesperson applies (申请) from a Pool Customer
form and a request goes to approval."""

import os
import urllib.parse

import frappe
import pytest

from crm_pool.core.roles import POOL_MANAGER, SALES_USER
from tests.conftest import real_commit
from tests.factories import new_user
from tests.pool.test_browser import (  # noqa: F401 (the browser fixture)
	PASSWORD,
	WAIT,
	browser,
	login,
	wait_for_list,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def board():
	"""A committed pool with four in-pool customers, two zh sales members and a zh pool manager."""
	from tests.factories import make_pool, make_pool_customer, purge

	sales = [new_user(SALES_USER, language="zh", password=PASSWORD) for _ in range(2)]
	manager = new_user(SALES_USER, POOL_MANAGER, language="zh", password=PASSWORD)
	pool = make_pool(members=sales, admins=[manager])
	frappe.db.set_value("Customer Pool Member", {"parent": pool, "user": manager}, "no_allocation", 1)
	pcs = [make_pool_customer(pool) for _ in range(4)]
	real_commit()
	yield frappe._dict(sales=sales, manager=manager, pool=pool, pcs=pcs)
	frappe.db.rollback()
	requests = frappe.get_all("Pool Allocation Request", filters={"pool": pool}, pluck="name")
	for name in requests:
		frappe.db.sql("DELETE FROM `tabPool Allocation Request Line` WHERE parent = %s", name)
		frappe.db.sql("DELETE FROM `tabPool Allocation Request` WHERE name = %s", name)
	frappe.db.sql("DELETE FROM `tabNotification Log` WHERE for_user IN %s", ([*sales, manager],))
	purge(pool, [*sales, manager])
	real_commit()


def owners(pcs: list[str]) -> dict:
	frappe.db.rollback()  # a fresh snapshot: the web server committed
	return dict(frappe.db.sql("SELECT name, owned_by FROM `tabPool Customer` WHERE name IN %s", (pcs,)))


def shot(driver, name: str) -> None:
	shots = os.environ.get("CRM_POOL_SCREENSHOTS")
	if shots:
		driver.save_screenshot(os.path.join(shots, name))


def test_a_manager_previews_and_allocates_from_the_pool_board(web_server, browser, board):  # noqa: F811
	from selenium.webdriver.common.by import By
	from selenium.webdriver.support import expected_conditions as ec
	from selenium.webdriver.support.ui import WebDriverWait

	wait = WebDriverWait(browser, WAIT)
	login(browser, wait, web_server, board.manager)
	browser.get(f"{web_server}/app/pool-customer?pool={urllib.parse.quote(board.pool)}")
	wait_for_list(wait, "Pool Customer", 4)  # the board, filtered on the pool
	wait.until(ec.element_to_be_clickable((By.XPATH, "//button[normalize-space()='从公海调配']"))).click()
	# the dialog is for the board's pool (waited for: on a loaded machine the click's dialog is built
	# after a round trip, and another modal may be fading out), and the pool's settings loaded
	wait.until(
		lambda d: d.execute_script(
			"return !!(window.cur_dialog && cur_dialog.display && cur_dialog.get_value('pool') === arguments[0])",
			board.pool,
		)
	)
	dialog = browser.execute_script("return cur_dialog.$wrapper[0]")
	wait.until(lambda d: "公海中有" in dialog.text)
	dialog.find_element(By.CSS_SELECTOR, ".btn-modal-primary").click()  # 预览
	wait.until(lambda d: "4 个分配给成员" in dialog.text)
	assert "轮询：轮到" in dialog.text
	assert set(owners(board.pcs).values()) == {None}  # the preview wrote nothing
	primary = dialog.find_element(By.CSS_SELECTOR, ".btn-modal-primary")
	assert primary.text.strip() == "调配 4 个客户"
	shot(browser, "allocation-preview.png")
	primary.click()
	wait.until(lambda d: all(owners(board.pcs).values()))
	got = list(owners(board.pcs).values())
	assert sorted(got.count(u) for u in board.sales) == [2, 2]


def test_a_salesperson_applies_from_the_pool_customer_form(web_server, browser, board):  # noqa: F811
	from selenium.webdriver.common.by import By
	from selenium.webdriver.support import expected_conditions as ec
	from selenium.webdriver.support.ui import WebDriverWait

	user, pc = board.sales[0], board.pcs[0]
	wait = WebDriverWait(browser, WAIT)
	login(browser, wait, web_server, user)
	browser.get(f"{web_server}/app/pool-customer/{pc}")
	item = f'[data-label="{urllib.parse.quote("申请分配")}"]'
	wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, item)))
	browser.execute_script(f"$('{item}').click()")
	dialog = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".modal.show")))
	dialog.find_element(By.CSS_SELECTOR, 'textarea[data-fieldname="reason"]').send_keys("本周拜访该客户")
	dialog.find_element(By.CSS_SELECTOR, ".btn-modal-primary").click()  # 提交审批

	def request():
		frappe.db.rollback()
		return frappe.db.get_value(
			"Pool Allocation Request", {"requester": user}, ["name", "workflow_state", "reason"], as_dict=True
		)

	wait.until(lambda d: request())
	made = request()
	assert made.workflow_state == "Pending Approval" and made.reason == "本周拜访该客户"
	assert frappe.db.get_all(
		"Pool Allocation Request Line", filters={"parent": made.name}, pluck="pool_customer"
	) == [pc]
	shot(browser, "allocation-request.png")


def test_a_manager_approves_a_request_in_the_form_and_sees_each_lines_result(web_server, browser, board):  # noqa: F811
	from selenium.webdriver.common.by import By
	from selenium.webdriver.support import expected_conditions as ec
	from selenium.webdriver.support.ui import WebDriverWait

	from crm_pool.api import allocation as allocation_api
	from crm_pool.pool import ownership

	user, rival = board.sales
	wanted, contested = board.pcs[:2]
	frappe.set_user(user)
	name = allocation_api.request_allocation([wanted, contested], "集中跟进两家客户")["name"]
	frappe.set_user(rival)
	ownership.claim(contested)
	frappe.set_user("Administrator")
	real_commit()

	wait = WebDriverWait(browser, WAIT)
	login(browser, wait, web_server, board.manager)
	browser.get(f"{web_server}/app/pool-allocation-request/{name}")
	wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".form-layout")))
	wait.until(
		lambda d: d.execute_script(
			"return cur_frm && cur_frm.page.actions.find('a').filter((i, e) => $(e).text().trim() === __('Approve')).length"
		)
	)
	browser.execute_script(
		"cur_frm.page.actions.find('a').filter((i, e) => $(e).text().trim() === __('Approve')).click()"
	)
	wait.until(lambda d: "2 个客户中已有 1 个分配给" in d.find_element(By.CSS_SELECTOR, ".form-layout").text)
	page = browser.find_element(By.CSS_SELECTOR, ".layout-main-section").text
	assert "已分配给" in page and "在审批前已被" in page
	frappe.db.rollback()
	assert frappe.db.get_value("Pool Allocation Request", name, "workflow_state") == "Approved"
	assert frappe.db.get_value("Pool Customer", wanted, "owned_by") == user
	shot(browser, "allocation-approved.png")
