"""End to end: a sales user logs into the desk in headless Chromium and opens the 客户公海 workspace."""

import os
import shutil
import urllib.parse
import urllib.request

import pytest

from crm_pool.setup.roles import SALES_USER
from tests.conftest import new_user

pytestmark = pytest.mark.browser
PASSWORD = "Browser!2026"


@pytest.fixture
def browser():
	from selenium import webdriver
	from selenium.webdriver.chrome.service import Service

	chromium = os.environ.get("CRM_POOL_CHROMIUM") or shutil.which("chromium")
	driver_path = os.environ.get("CRM_POOL_CHROMEDRIVER") or shutil.which("chromedriver")
	assert chromium and driver_path, (
		"Debian's chromium and chromium-driver are needed (scripts/test installs them)"
	)
	os.environ["SE_OFFLINE"] = "true"  # never let Selenium download a browser or a driver
	options = webdriver.ChromeOptions()
	options.binary_location = chromium
	for arg in (
		"--headless=new",
		"--no-sandbox",
		"--disable-gpu",
		"--disable-dev-shm-usage",
		"--disable-quic",
		"--no-first-run",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		"--window-size=1400,900",
		"--lang=zh-CN",
	):
		options.add_argument(arg)
	driver = webdriver.Chrome(service=Service(driver_path), options=options)
	driver.set_page_load_timeout(60)
	yield driver
	driver.quit()


def test_sales_user_logs_in_and_opens_the_workspace(web_server, browser, committed):
	from selenium.webdriver.common.by import By
	from selenium.webdriver.support import expected_conditions as ec
	from selenium.webdriver.support.ui import WebDriverWait

	user = new_user(SALES_USER, language="zh", password=PASSWORD)
	committed("User", user)

	wait = WebDriverWait(browser, 60)
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
