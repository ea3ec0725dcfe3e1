"""End to end: a sales user logs into the desk in headless Chromium and opens the 客户公海 workspace."""

import os
import urllib.parse
import urllib.request

import frappe
import pytest

from crm_pool.core.roles import SALES_USER
from tests.conftest import real_commit
from tests.factories import new_user

pytestmark = pytest.mark.browser
PASSWORD = "Browser!2026"
# Bound of every wait on the page's own state (never a fixed sleep): generous, so that the tests
# hold on a loaded 2-core machine where a desk page can take tens of seconds to build.
WAIT = 180


@pytest.fixture
def browser(chromium, web_server):
	"""The session's headless Chromium (started once: see conftest's `chromium`), on a blank page and
	with nothing stored for the test site: no cookies, no local or session storage, no IndexedDB, as a
	new browser; only its HTTP cache of the desk's assets is kept."""
	chromium.set_page_load_timeout(WAIT)
	forget_the_site(chromium, web_server)
	yield chromium
	forget_the_site(chromium, web_server)


def forget_the_site(driver, url: str) -> None:
	driver.get("about:blank")
	driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
	driver.execute_cdp_cmd("Storage.clearDataForOrigin", {"origin": url, "storageTypes": "all"})


def test_sales_user_logs_in_and_opens_the_workspace(web_server, browser, committed):
	from selenium.webdriver.common.by import By
	from selenium.webdriver.support import expected_conditions as ec
	from selenium.webdriver.support.ui import WebDriverWait

	user = new_user(SALES_USER, language="zh", password=PASSWORD)
	committed("User", user)

	wait = WebDriverWait(browser, WAIT)
	browser.get(web_server + "/login")
	wait.until(ec.visibility_of_element_located((By.ID, "login_email"))).send_keys(user)
	browser.find_element(By.ID, "login_password").send_keys(PASSWORD)
	browser.find_element(By.CSS_SELECTOR, ".btn-login").click()
	wait.until(lambda d: "/app" in d.current_url)

	browser.get(web_server + "/app/" + urllib.parse.quote("客户公海"))
	title = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".page-head .title-text")))
	wait.until(lambda d: title.text.strip() == "客户公海")
	# the workspace body rendered, and the desk speaks Chinese for this user
	wait.until(
		ec.presence_of_element_located((By.CSS_SELECTOR, ".codex-editor, .layout-main-section .widget"))
	)
	assert browser.execute_script("return frappe.session.user") == user
	assert browser.execute_script("return frappe.boot.lang") == "zh"
	shots = os.environ.get("CRM_POOL_SCREENSHOTS")
	if shots:
		browser.save_screenshot(os.path.join(shots, "workspace.png"))


def login(browser, wait, url: str, user: str) -> None:
	from selenium.webdriver.common.by import By
	from selenium.webdriver.support import expected_conditions as ec

	browser.get(url + "/login")
	wait.until(ec.visibility_of_element_located((By.ID, "login_email"))).send_keys(user)
	browser.find_element(By.ID, "login_password").send_keys(PASSWORD)
	browser.find_element(By.CSS_SELECTOR, ".btn-login").click()
	wait.until(lambda d: "/app" in d.current_url)
	wait.until(lambda d: d.execute_script("return !!(window.frappe && frappe.session && frappe.boot)"))


def wait_for_list(wait, doctype: str, rows: int | None = None) -> None:
	"""Until the desk shows the list of `doctype` loaded (with `rows` rows, when given) and idle."""
	wait.until(
		lambda d: d.execute_script(
			"""const [doctype, rows] = arguments;
			return !!(window.cur_list && cur_list.doctype === doctype && cur_list.data
				&& (rows === null || cur_list.data.length === rows)
				&& !$(".freeze-message-container:visible").length && !frappe.request.ajax_count);""",
			doctype,
			rows,
		)
	)


@pytest.fixture
def board():
	"""A committed pool with one in-pool customer (mobile 13987654321) and a zh sales user; purged."""
	from tests.factories import make_lead, make_pool, purge

	user = new_user(SALES_USER, language="zh", password=PASSWORD)
	pool = make_pool(members=[user])
	lead = make_lead(pool, mobile_no="13987654321")
	pc = frappe.db.get_value("Pool Customer", {"lead": lead.name})
	real_commit()
	yield frappe._dict(user=user, pool=pool, pc=pc, customer_name=lead.company_name)
	frappe.db.rollback()
	purge(pool, [user])
	real_commit()


def test_sales_user_claims_from_the_pool_board(web_server, browser, board):
	from selenium.webdriver.common.by import By
	from selenium.webdriver.support import expected_conditions as ec
	from selenium.webdriver.support.ui import WebDriverWait

	wait = WebDriverWait(browser, WAIT)
	login(browser, wait, web_server, board.user)
	# an in-pool customer's card shows its contact masked, never in full
	browser.get(f"{web_server}/app/pool-customer/{board.pc}")
	wait.until(
		lambda d: d.execute_script(
			"return !!(window.cur_frm && cur_frm.doc.name === arguments[0] && !frappe.request.ajax_count)",
			board.pc,
		)
	)
	form = browser.find_element(By.CSS_SELECTOR, ".layout-main-section")
	wait.until(lambda d: "139****4321" in form.text)
	assert "13987654321" not in form.text
	browser.get(f"{web_server}/app/pool-customer?pool={urllib.parse.quote(board.pool)}")
	wait_for_list(wait, "Pool Customer", 1)
	button = wait.until(
		ec.element_to_be_clickable((By.CSS_SELECTOR, f'button.btn-action[data-name="{board.pc}"]'))
	)
	row = button.find_element(By.XPATH, "./ancestor::div[contains(@class,'list-row-container')]")
	assert "公海中" in row.text and board.customer_name in row.text
	assert "13987654321" not in browser.find_element(By.CSS_SELECTOR, ".layout-main-section").text
	assert button.text.strip() == "领取"
	shots = os.environ.get("CRM_POOL_SCREENSHOTS")
	if shots:
		browser.save_screenshot(os.path.join(shots, "pool-board.png"))
	button.click()
	wait.until(lambda d: frappe_value(board.pc, "owned_by") == board.user)

	# and finds it under "mine": the board filtered on the customers the user owns
	browser.get(f"{web_server}/app/pool-customer?owned_by={urllib.parse.quote(board.user)}")
	wait_for_list(wait, "Pool Customer", 1)
	mine = browser.find_element(By.CSS_SELECTOR, ".layout-main-section").text
	assert board.customer_name in mine and "已领取" in mine
	if shots:
		browser.save_screenshot(os.path.join(shots, "my-customers.png"))


def frappe_value(pc: str, field: str):
	frappe.db.rollback()  # a fresh snapshot: the claim was committed by the web server
	return frappe.db.get_value("Pool Customer", pc, field)
