"""End to end (issue 12): a manager opens the 客户公海 workspace in headless Chromium — every number
card shows a number, every chart renders — and opens every Script Report of module "CRM Pool" they may
open (read from the Report doctype when the test runs, so reports added later are covered) without an
error dialog. Screenshots go to $CRM_POOL_SCREENSHOTS when it is set."""

from __future__ import annotations

import os
import re
import urllib.parse

import frappe
import pytest
from frappe.boot import get_allowed_report_names

from crm_pool.core.roles import POOL_MANAGER, SALES_MANAGER, SALES_USER
from crm_pool.pool import ownership
from tests.conftest import real_commit
from tests.factories import as_user, make_pool, make_pool_customer, new_user, purge
from tests.pool.test_browser import PASSWORD, WAIT, browser, login  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
WORKSPACE = "客户公海"
EXISTING_REPORTS = ("Referral Reward Summary", "My Shares and Rewards", "Exclusive Manager Scorecard")


@pytest.fixture
def desk():
	"""A committed pool with a zh manager (Sales Manager, Pool Manager) as its admin and a salesperson
	who claimed two graded customers; two more wait in the pool. Purged afterwards."""
	manager = new_user(SALES_MANAGER, SALES_USER, POOL_MANAGER, language="zh", password=PASSWORD)
	seller = new_user(SALES_USER, language="zh", password=PASSWORD)
	pool = make_pool(members=[seller], admins=[manager])
	pcs = [make_pool_customer(pool) for _ in range(4)]
	for pc, grade in zip(pcs[:2], "AB", strict=False):
		as_user(seller, ownership.claim, pc)
		frappe.db.set_value("Pool Customer", pc, "grade", grade, update_modified=False)
	real_commit()
	yield frappe._dict(manager=manager, seller=seller, pool=pool)
	frappe.db.rollback()
	purge(pool, [manager, seller])
	for user in (manager, seller):
		frappe.delete_doc("User", user, force=True, ignore_permissions=True)
	real_commit()


def shot(driver, name: str) -> None:
	shots = os.environ.get("CRM_POOL_SCREENSHOTS")
	if shots:
		driver.save_screenshot(os.path.join(shots, name))


def no_error_on_page(driver, where: str) -> None:
	"""No message dialog (an error or a refusal) and no traceback on the page."""
	dialogs = driver.execute_script(
		"return $('.modal.msgprint-dialog:visible, .modal:visible .msgprint').map((i, e) => e.innerText).get()"
	)
	assert not dialogs, f"{where}: a dialog opened: {dialogs}"
	# the visible text only: the desk's own templates (in the page's source) mention tracebacks
	traceback_shown = "Traceback" in driver.execute_script("return document.body.innerText")
	assert not traceback_shown, f"{where}: a traceback is shown"


def test_manager_sees_the_workspace_and_every_report(web_server, browser, desk):  # noqa: F811
	from selenium.webdriver.support.ui import WebDriverWait

	wait = WebDriverWait(browser, WAIT)
	login(browser, wait, web_server, desk.manager)

	browser.get(web_server + "/app/" + urllib.parse.quote(WORKSPACE))
	cards = frappe.get_doc("Workspace", WORKSPACE).number_cards
	charts = frappe.get_doc("Workspace", WORKSPACE).charts
	# every card shows a number (not "Loading..."), every chart an SVG or its "no data" state
	state = """
		const cards = $('.number-widget-box').map((i, e) => $(e).find('.number').text().trim()).get();
		const charts = $('.dashboard-widget-box').map((i, e) => {
			if ($(e).find('.frappe-chart, svg.frappe-chart, .chart-container svg').length) return 'chart';
			const empty = $(e).find('.chart-loading-state:visible').text().trim();
			return empty === __('No Data') ? 'empty' : '';
		}).get();
		return {cards, charts, busy: frappe.request.ajax_count || 0};
	"""
	wait.until(
		lambda d: (
			(s := d.execute_script(state))
			and len(s["cards"]) == len(cards)
			and all(s["cards"])
			and len(s["charts"]) == len(charts)
			and all(s["charts"])
			and not s["busy"]
		)
	)
	seen = browser.execute_script(state)
	assert all(re.search(r"\d", number) for number in seen["cards"]), seen["cards"]
	# the pool's charts have data for this manager (claims, ageing, grades, workload)
	assert seen["charts"].count("chart") >= 4, seen["charts"]
	no_error_on_page(browser, WORKSPACE)
	shot(browser, "insight-workspace.png")

	frappe.set_user(desk.manager)
	try:
		allowed = set(get_allowed_report_names())
	finally:
		frappe.set_user("Administrator")
	reports = [
		r
		for r in frappe.get_all(
			"Report", filters={"module": "CRM Pool", "report_type": "Script Report"}, pluck="name"
		)
		if r in allowed
	]
	assert set(EXISTING_REPORTS) <= set(reports)
	for name in sorted(reports):
		browser.get(f"{web_server}/app/query-report/{urllib.parse.quote(name)}")
		wait.until(
			lambda d, name=name: d.execute_script(
				"""const name = arguments[0], r = frappe.query_report;
				if (!r || r.report_name !== name || frappe.request.ajax_count) return false;
				if ($('.modal.msgprint-dialog:visible').length) return true;  // fails below
				return !!(r.datatable && r.$report.is(':visible')) || r.$message.is(':visible');""",
				name,
			)
		)
		no_error_on_page(browser, f"report {name}")
		rendered = browser.execute_script(
			"""const r = frappe.query_report;
			if (r.datatable && r.$report.is(':visible')) return 'rows';
			return r.$message.text().includes(__('Nothing to show')) ? 'nothing' : r.$message.text();"""
		)
		assert rendered in ("rows", "nothing"), (
			f"report {name}: neither rows nor 'Nothing to show': {rendered}"
		)
		shot(browser, f"insight-report-{frappe.scrub(name)}.png")
