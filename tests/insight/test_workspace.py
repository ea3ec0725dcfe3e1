"""The 客户公海 workspace (issue 12): one for everyone, its content per role through what each role may
open; and ERPNext's CRM and Selling workspaces in a salesperson's sidebar."""

from __future__ import annotations

import json

import frappe
import pytest
from frappe.desk.desktop import get_desktop_page, get_workspace_sidebar_items

from tests.factories import as_user

WORKSPACE = "客户公海"
CARDS = {
	"Customers in Pool",
	"Owned Customers",
	"Due for Recycling in 7 Days",
	"Claims Today",
	"Conversion Rate This Month",
	"Overdue Return Visits",
	"Rewards to Approve",
	"A Customers Without Exclusive Manager",
}
CHARTS = {
	"Claims and Recycles per Day",
	"Pool Ageing Buckets",
	"Grade Distribution",
	"Workload per Owner",
	"Rewards per Month",
}


def page(user: str) -> dict:
	frappe.cache.delete_value(["user_allowed_modules", "user_perm_can_read"], user=user)
	doc = json.dumps({"name": WORKSPACE, "title": WORKSPACE, "public": 1})
	return as_user(user, get_desktop_page, doc)


@pytest.mark.parametrize(
	"roles",
	[("Sales User",), ("Sales Manager", "Sales User"), ("Pool Manager", "Sales Manager", "Sales User")],
)
def test_salespeople_and_managers_get_the_workspace_whole(make_user, roles):
	user = make_user(*roles)
	content = page(user)
	assert {c.label for c in content["number_cards"]["items"]} == CARDS
	assert {c.label for c in content["charts"]["items"]} == CHARTS
	shortcuts = {s["label"] for s in content["shortcuts"]["items"]}
	assert {"Claim from Pool", "My Customers", "Apply for Allocation", "Return Visits Due"} <= shortcuts
	links = {link["label"] for card in content["cards"]["items"] for link in card["links"]}
	assert {"Pool Customer", "Pool Allocation Request", "Ownership Transfer", "Customer Share"} <= links


def test_the_workspace_blocks_name_its_cards_charts_and_shortcuts():
	"""A block of the page shows the widget whose label it names: a wrong name is an empty box."""
	doc = frappe.get_doc("Workspace", WORKSPACE)
	names = {
		"number_card": {c.label for c in doc.number_cards},
		"chart": {c.label for c in doc.charts},
		"shortcut": {s.label for s in doc.shortcuts},
		"card": {link.label for link in doc.links if link.type == "Card Break"},
	}
	key = {
		"number_card": "number_card_name",
		"chart": "chart_name",
		"shortcut": "shortcut_name",
		"card": "card_name",
	}
	blocks = [b for b in json.loads(doc.content) if b["type"] in key]
	assert {b["data"][key[b["type"]]] for b in blocks if b["type"] == "number_card"} == CARDS
	for block in blocks:
		assert block["data"][key[block["type"]]] in names[block["type"]], block


def test_a_user_without_the_pool_doctypes_gets_neither_cards_nor_charts(make_user):
	accountant = make_user("Accounts User")
	content = page(accountant)
	labels = {c.label for c in content["number_cards"]["items"]}
	assert not labels & {"Customers in Pool", "Claims Today", "Conversion Rate This Month"}
	assert not {c.label for c in content["charts"]["items"]} & {
		"Claims and Recycles per Day",
		"Grade Distribution",
	}


def test_a_sales_user_has_the_crm_and_selling_workspaces(make_user):
	for roles in (("Sales User",), ("Sales Manager", "Sales User", "Pool Manager")):
		user = make_user(*roles)
		pages = {p.name for p in as_user(user, get_workspace_sidebar_items)["pages"]}
		assert {"CRM", "Selling", WORKSPACE} <= pages, roles
