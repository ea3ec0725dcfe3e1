"""Bad arguments to crm_pool's whitelisted methods, over HTTP against `frappe serve`: every one is a
4xx JSON answer with a translated message, no traceback, and nothing written. Free text (reasons,
notes) is stored inert. Refusals carry no traceback for users."""

import json

import frappe
import pytest

from crm_pool.api import allocation as allocation_api
from crm_pool.api import grading as grading_api
from crm_pool.api import pool as pool_api
from crm_pool.api import sharing as sharing_api
from crm_pool.api import transfer as transfer_api
from crm_pool.core.roles import POOL_MANAGER, SALES_USER
from tests.conftest import real_commit
from tests.factories import new_user

PASSWORD = "Inputs!2026"
HUGE = "长" * 5000
EVIL = '<script>alert("x")</script>跟进<img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def desk():
	"""Committed for the module: a zh sales user and a zh pool manager (admin of the pool), an in-pool
	customer and one owned by the sales user. Purged afterwards."""
	from tests.factories import make_pool, make_pool_customer, purge

	frappe.db.rollback()
	frappe.set_user("Administrator")
	sales = new_user(SALES_USER, language="zh", password=PASSWORD)
	other = new_user(SALES_USER, language="zh", password=PASSWORD)
	manager = new_user(SALES_USER, POOL_MANAGER, language="zh", password=PASSWORD)
	pool = make_pool(members=[sales, other], admins=[manager])
	in_pool = make_pool_customer(pool)
	own = make_pool_customer(pool, owner=sales)
	others = make_pool_customer(pool, owner=other)
	real_commit()
	yield frappe._dict(
		sales=sales,
		other=other,
		manager=manager,
		pool=pool,
		pc=in_pool,
		own=own,
		others=others,
		territory=frappe.db.get_value("Territory", {"is_group": 0}),  # sharing
		line=frappe.db.get_value("Item Group", {"is_group": 1}),
	)
	frappe.db.rollback()
	frappe.set_user("Administrator")
	for name in frappe.get_all("Pool Allocation Request", filters={"pool": pool}, pluck="name"):
		frappe.db.sql("DELETE FROM `tabPool Allocation Request Line` WHERE parent = %s", name)
		frappe.db.sql("DELETE FROM `tabPool Allocation Request` WHERE name = %s", name)
	frappe.db.sql("DELETE FROM `tabNotification Log` WHERE for_user IN %s", ([sales, other, manager],))
	purge(pool, [sales, other, manager])
	real_commit()


_sessions: dict[str, object] = {}


def session(url: str, user: str):
	"""A logged-in requests session for `user` (one per user and module)."""
	import requests

	key = f"{url} {user}"
	if key not in _sessions:
		s = requests.Session()
		r = s.post(f"{url}/api/method/login", json={"usr": user, "pwd": PASSWORD}, timeout=120)
		assert r.status_code == 200, r.text
		_sessions[key] = s
	return _sessions[key]


def call(url: str, user: str, method: str, kwargs: dict):
	return session(url, user).post(
		f"{url}/api/method/crm_pool.{method}",
		json=kwargs,
		headers={"Accept": "application/json"},
		timeout=120,
	)


def messages(response) -> list[str]:
	body = response.json()
	return [json.loads(m).get("message", "") for m in json.loads(body.get("_server_messages") or "[]")]


def state(desk) -> tuple:
	"""What a refused call must leave as it was."""
	frappe.db.rollback()  # a fresh snapshot: the web server commits
	pcs = (desk.pc, desk.own, desk.others)
	return (
		frappe.db.count("Pool Log"),
		frappe.db.sql(
			"""SELECT name, status, owned_by, lock_reason, exclusive_manager, modified FROM `tabPool Customer`
			WHERE name IN %s ORDER BY name""",
			(pcs,),
		),
		frappe.db.count("Pool Allocation Request"),
		frappe.db.count("Ownership Transfer"),
		frappe.db.count("Pool Customer Collaborator"),
		frappe.db.count("Customer Share"),
		frappe.db.count("Lead"),
		frappe.db.count("Return Visit"),
		frappe.db.count("Customer Grade Log"),
	)


def has_cjk(text: str) -> bool:
	return any("\u4e00" <= ch <= "\u9fff" for ch in text)


S, M = "sales", "manager"
# a valid share but for the one bad argument of each row
SHARE = {
	"company_name": "坏参数测试有限公司",
	"territory": "{territory}",
	"business_line": "{line}",
	"business_needed": "检测",
	"mobile_no": "13800138000",
}
# (who calls, method, kwargs): {pc} an in-pool customer, {own} one the sales user owns, {others}
# one another salesperson owns, {pool} their pool, {sales}/{other} the salespeople.
BAD = [
	(S, "api.pool.claim", {}),
	(S, "api.pool.claim", {"pool_customer": ["{pc}"]}),
	(S, "api.pool.claim", {"pool_customer": {"name": "{pc}"}}),
	(S, "api.pool.claim", {"pool_customer": 12345}),
	(S, "api.pool.claim", {"pool_customer": "PC-NO-SUCH"}),
	(S, "api.pool.claim", {"pool_customer": "x" * 10000}),
	(S, "api.pool.claim_many", {}),
	(S, "api.pool.claim_many", {"pool_customers": []}),
	(S, "api.pool.claim_many", {"pool_customers": [1, 2]}),
	(S, "api.pool.claim_many", {"pool_customers": {"a": "{pc}"}}),
	(S, "api.pool.claim_many", {"pool_customers": [f"PC-{i}" for i in range(201)]}),
	(S, "api.pool.release", {"pool_customer": "{own}"}),
	(S, "api.pool.release", {"pool_customer": "{own}", "reason": HUGE}),
	(S, "api.pool.release", {"pool_customer": "{own}", "reason": ["不要了"]}),
	(S, "api.pool.release", {"pool_customer": "{own}", "reason": {"a": 1}}),
	(S, "api.pool.release", {"pool_customer": "PC-NO-SUCH", "reason": "不要了"}),
	(S, "api.pool.assign", {"pool_customer": "{pc}", "user": "nobody@nowhere.invalid"}),
	(S, "api.pool.assign", {"pool_customer": "{pc}", "user": ["{other}"]}),
	(S, "api.pool.assign", {"pool_customer": "{pc}"}),
	(M, "api.pool.assign", {"pool_customer": "{pc}", "user": "{sales}", "reason": HUGE}),
	(M, "api.pool.lock", {"pool_customer": "{own}"}),
	(M, "api.pool.lock", {"pool_customer": "{own}", "reason": HUGE}),
	(M, "api.pool.lock", {"pool_customer": "{own}", "reason": {"why": "x"}}),
	(M, "api.pool.unlock", {"pool_customer": "{own}", "reason": [1]}),
	(S, "api.pool.pool_status", {}),
	(S, "api.pool.pool_status", {"doctype": "Lead", "name": "CRM-LEAD-NO-SUCH"}),
	(S, "api.pool.pool_status", {"doctype": "User", "name": "Administrator"}),
	(S, "api.pool.pool_status", {"pool_customer": ["{pc}"]}),
	(M, "api.allocation.allocate", {"pool": "{pool}", "filters": {"limit": -5}}),
	(M, "api.allocation.allocate", {"pool": "{pool}", "filters": {"limit": 0}}),
	(M, "api.allocation.allocate", {"pool": "{pool}", "filters": {"limit": 10**12}}),
	(M, "api.allocation.allocate", {"pool": "{pool}", "filters": {"limit": "many"}}),
	(M, "api.allocation.allocate", {"pool": "{pool}", "filters": "not json"}),
	(M, "api.allocation.allocate", {"pool": "{pool}", "filters": [1, 2]}),
	(M, "api.allocation.allocate", {"pool": "{pool}", "filters": {"territory": ["a", "b"]}}),
	(M, "api.allocation.allocate", {"pool": "{pool}", "dry_run": "maybe"}),
	(M, "api.allocation.allocate", {"pool": "{pool}", "dry_run": 7}),
	(M, "api.allocation.allocate", {"pool": "{pool}", "strategy": "Coin Toss"}),
	(M, "api.allocation.allocate", {"pool": "{pool}", "members": [1, 2]}),
	(M, "api.allocation.allocate", {"pool": "{pool}", "members": ["nobody@nowhere.invalid"]}),
	(M, "api.allocation.allocate", {"pool": "NO-SUCH-POOL"}),
	(M, "api.allocation.allocate", {"pool": ["{pool}"]}),
	(M, "api.allocation.allocate", {"pool_customers": [{"a": 1}]}),
	(S, "api.allocation.allocate", {"pool": "{pool}"}),
	(M, "api.allocation.allocation_settings", {}),
	(M, "api.allocation.allocation_settings", {"pool": "NO-SUCH-POOL"}),
	(M, "api.allocation.allocation_settings", {"pool": {"a": 1}}),
	(S, "api.allocation.request_allocation", {"pool_customers": ["{pc}"]}),
	(S, "api.allocation.request_allocation", {"pool_customers": ["{pc}"], "reason": HUGE}),
	(S, "api.allocation.request_allocation", {"pool_customers": ["{pc}"], "reason": {"a": 1}}),
	(
		S,
		"api.allocation.request_allocation",
		{"pool_customers": ["{pc}"], "reason": "跟进", "expected_resources": HUGE},
	),
	(
		S,
		"api.allocation.request_allocation",
		{"pool_customers": ["{pc}"], "reason": "跟进", "submit": "maybe"},
	),
	(S, "api.allocation.request_allocation", {"pool_customers": [], "reason": "跟进"}),
	(S, "api.allocation.request_allocation", {"pool_customers": ["PC-NO-SUCH"], "reason": "跟进"}),
	(S, "api.allocation.allocation_request_action", {"name": "PAR-NO-SUCH", "action": "Approve"}),
	(S, "api.allocation.allocation_request_action", {"name": ["x"], "action": "Approve"}),
	(S, "api.allocation.allocation_request_action", {"name": "PAR-NO-SUCH"}),
	(S, "api.transfer.owner_customers", {}),
	(S, "api.transfer.owner_customers", {"from_owner": "nobody@nowhere.invalid"}),
	(S, "api.transfer.owner_customers", {"from_owner": ["{sales}"]}),
	(S, "api.transfer.owner_customers", {"from_owner": "{other}"}),
	(S, "api.transfer.make_transfer", {"from_owner": "{sales}"}),
	(
		S,
		"api.transfer.make_transfer",
		{"from_owner": "nobody@nowhere.invalid", "trigger": "Customer Request"},
	),
	(
		S,
		"api.transfer.make_transfer",
		{"from_owner": "{other}", "trigger": "Customer Request", "to_pool": 1, "all_customers": 1},
	),
	(
		S,
		"api.transfer.make_transfer",
		{"from_owner": "{sales}", "trigger": "Customer Request", "to_pool": "maybe"},
	),
	(
		S,
		"api.transfer.make_transfer",
		{"from_owner": "{sales}", "trigger": "Customer Request", "to_pool": 1, "pool_customers": [1]},
	),
	(
		S,
		"api.transfer.make_transfer",
		{
			"from_owner": "{sales}",
			"trigger": "Customer Request",
			"to_pool": 1,
			"pool_customers": ["{own}"],
			"reason": HUGE,
		},
	),
	(
		S,
		"api.transfer.make_transfer",
		{
			"from_owner": "{sales}",
			"trigger": "Customer Request",
			"to_pool": 1,
			"pool_customers": ["{own}"],
			"handover_notes": "<p>" + "长" * 30000 + "</p>",
		},
	),
	(
		S,
		"api.transfer.make_transfer",
		{
			"from_owner": "{sales}",
			"trigger": "Customer Request",
			"to_owner": "nobody@nowhere.invalid",
			"pool_customers": ["{own}"],
		},
	),
	(
		S,
		"api.transfer.make_transfer",
		{"from_owner": "{sales}", "trigger": "Whim", "to_pool": 1, "pool_customers": ["{own}"]},
	),
	(S, "api.pool.add_collaborator", {"pool_customer": "{own}", "user": "nobody@nowhere.invalid"}),
	(S, "api.pool.add_collaborator", {"pool_customer": "{own}", "user": "{other}", "access": "Owner"}),
	(S, "api.pool.add_collaborator", {"pool_customer": "{own}", "user": "{other}", "reason": HUGE}),
	(S, "api.pool.add_collaborator", {"pool_customer": "{own}", "user": {"a": 1}}),
	(S, "api.pool.remove_collaborator", {"pool_customer": "{own}"}),
	(S, "api.pool.remove_collaborator", {"pool_customer": "{own}", "user": "nobody@nowhere.invalid"}),
	(M, "api.transfer.resolve_conflict", {"conflict": "OC-NO-SUCH", "resolution": "Keep Owner"}),
	(M, "api.transfer.resolve_conflict", {"conflict": ["x"], "resolution": "Keep Owner"}),
	(
		M,
		"api.transfer.resolve_conflict",
		{"conflict": "OC-NO-SUCH", "resolution": "Keep Owner", "note": HUGE},
	),
	(M, "api.transfer.resolve_conflict", {"conflict": "OC-NO-SUCH"}),
	# grading: exclusive managers, return visits, regrade
	(S, "api.grading.assign_exclusive_manager", {"pool_customer": "{own}", "user": "{sales}"}),
	(M, "api.grading.assign_exclusive_manager", {}),
	(M, "api.grading.assign_exclusive_manager", {"pool_customer": "PC-NO-SUCH", "user": "{sales}"}),
	(M, "api.grading.assign_exclusive_manager", {"pool_customer": "{own}", "user": "nobody@nowhere.invalid"}),
	(M, "api.grading.assign_exclusive_manager", {"pool_customer": ["{own}"], "user": "{sales}"}),
	(
		M,
		"api.grading.assign_exclusive_manager",
		{"pool_customer": "{own}", "user": "{sales}", "reason": HUGE},
	),
	(S, "api.grading.complete_visit", {}),
	(S, "api.grading.complete_visit", {"visit": "RV-NO-SUCH"}),
	(S, "api.grading.complete_visit", {"visit": "RV-NO-SUCH", "status": "Maybe"}),
	(S, "api.grading.complete_visit", {"visit": "RV-NO-SUCH", "satisfaction": 9}),
	(S, "api.grading.complete_visit", {"visit": "RV-NO-SUCH", "channel": "Pigeon"}),
	(S, "api.grading.complete_visit", {"visit": "RV-NO-SUCH", "satisfaction": "high"}),
	(S, "api.grading.plan_visits_now", {}),
	(S, "api.grading.regrade", {}),
	(S, "api.grading.last_run", {"rule": "NO-SUCH"}),
	(M, "api.grading.last_run", {}),
	(M, "api.grading.last_run", {"rule": ["x"]}),
	# sharing: payout
	(S, "api.sharing.make_journal_entry", {}),
	(S, "api.sharing.make_journal_entry", {"reward": ["RR-NO-SUCH"]}),
	(S, "api.sharing.make_journal_entry", {"reward": "RR-NO-SUCH"}),
	(M, "api.sharing.make_journal_entry", {"reward": "RR-NO-SUCH"}),
	(M, "api.sharing.make_journal_entry", {"reward": "x" * 10000}),
	# sharing: customer shares ({share} is a valid share's input)
	(S, "api.sharing.share_customer", {}),
	(S, "api.sharing.share_customer", {**SHARE, "company_name": ""}),
	(S, "api.sharing.share_customer", {**SHARE, "company_name": ["x"]}),
	(S, "api.sharing.share_customer", {**SHARE, "company_name": HUGE}),
	(S, "api.sharing.share_customer", {**SHARE, "territory": "NO-SUCH-TERRITORY"}),
	(S, "api.sharing.share_customer", {**SHARE, "business_line": "NO-SUCH-LINE"}),
	(S, "api.sharing.share_customer", {**SHARE, "business_needed": HUGE}),
	(S, "api.sharing.share_customer", {**SHARE, "mobile_no": "12345"}),
	(S, "api.sharing.share_customer", {**SHARE, "uscc": "123"}),
	(S, "api.sharing.share_customer", {**SHARE, "estimated_revenue": "many"}),
	(S, "api.sharing.share_customer", {**SHARE, "estimated_revenue": -5}),
	(S, "api.sharing.reject_share", {"share": "CS-NO-SUCH", "reason": "重复"}),
	(M, "api.sharing.reject_share", {"share": "CS-NO-SUCH", "reason": "重复"}),
	(M, "api.sharing.reject_share", {"share": "CS-NO-SUCH"}),
	(M, "api.sharing.reject_share", {"share": ["x"], "reason": "重复"}),
	# sharing: a month's referral rewards (managers only)
	(S, "api.sharing.compute_rewards", {"month": "2026-11"}),
	(M, "api.sharing.compute_rewards", {}),
	(M, "api.sharing.compute_rewards", {"month": "2026-13"}),
	(M, "api.sharing.compute_rewards", {"month": "11/2026"}),
	(M, "api.sharing.compute_rewards", {"month": HUGE}),
	(M, "api.sharing.compute_rewards", {"month": ["2026-11"]}),
	(M, "api.sharing.compute_rewards", {"month": "2026-11", "sharer": "nobody@crm-pool.invalid"}),
	(M, "api.sharing.compute_rewards", {"month": "2026-11", "sharer": {"name": "{sales}"}}),
]


def fill(value, desk):
	if isinstance(value, str):
		return value.format(**desk) if "{" in value else value
	if isinstance(value, list):
		return [fill(v, desk) for v in value]
	if isinstance(value, dict):
		return {k: fill(v, desk) for k, v in value.items()}
	return value


def case_id(case) -> str:
	who, method, kwargs = case
	short = {k: (v if len(repr(v)) < 30 else f"<{type(v).__name__}>") for k, v in kwargs.items()}
	return f"{who}-{method}-{short}"


@pytest.mark.parametrize("who,method,kwargs", BAD, ids=[case_id(c) for c in BAD])
def test_a_bad_argument_is_a_translated_4xx_that_writes_nothing(web_server, desk, who, method, kwargs):
	user = desk.sales if who == S else desk.manager
	before = state(desk)
	r = call(web_server, user, method, fill(kwargs, desk))
	assert 400 <= r.status_code < 500, (r.status_code, r.text[:2000])
	assert "Traceback" not in r.text and "exc" not in r.json(), r.text[:2000]
	said = messages(r)
	assert said and all(m.strip() for m in said), r.text[:2000]
	assert any(has_cjk(m) for m in said), said  # in the user's language (zh)
	assert state(desk) == before


API_MODULES = (pool_api, allocation_api, transfer_api, grading_api, sharing_api)


def test_every_whitelisted_method_is_in_the_table():
	"""A new whitelisted method of the app gets its bad-argument cases too."""
	whitelisted = {
		f"{module.__name__.split('.', 1)[1]}.{fn.__name__}"
		for module in API_MODULES
		for fn in vars(module).values()
		if callable(fn) and fn in frappe.whitelisted
	}
	assert whitelisted == {method for _who, method, _kwargs in BAD}


def test_the_annotations_are_validated():
	"""Annotations are real types (no `from __future__ import annotations`), and every parameter of
	a whitelisted method has one."""
	import inspect

	for module in API_MODULES:
		for fn in vars(module).values():
			if callable(fn) and fn in frappe.whitelisted:
				original = inspect.unwrap(fn)
				for name in inspect.signature(original).parameters:
					hint = original.__annotations__.get(name)
					assert hint is not None and not isinstance(hint, str), (fn.__name__, name, hint)


# --- no tracebacks to users ------------------------------------------------------------------------


def test_a_refused_claim_over_http_is_a_translated_4xx_without_traceback(web_server, desk):
	assert not frappe.db.get_single_value("System Settings", "allow_error_traceback")
	before = state(desk)
	r = call(web_server, desk.sales, "api.pool.claim", {"pool_customer": desk.others})
	assert r.status_code == 417, r.text[:2000]
	body = r.json()
	assert body.get("exc_type") == "PoolRuleError"
	assert "exc" not in body and "exception" not in body and "Traceback" not in r.text
	assert any(has_cjk(m) for m in messages(r)), r.text
	assert state(desk) == before


def test_no_traceback_for_users_even_with_the_setting_on(web_server, desk):
	"""Someone turns "Show Full Error" back on: a sales user still gets the message only."""
	frappe.db.set_single_value("System Settings", "allow_error_traceback", 1)
	frappe.clear_cache(doctype="System Settings")
	real_commit()
	try:
		r = call(web_server, desk.sales, "api.pool.claim", {"pool_customer": desk.others})
		assert r.status_code == 417
		assert "Traceback" not in r.text and "exc" not in r.json(), r.text[:2000]
		assert any(has_cjk(m) for m in messages(r))
	finally:
		frappe.db.set_single_value("System Settings", "allow_error_traceback", 0)
		frappe.clear_cache(doctype="System Settings")
		real_commit()


def test_the_install_turns_tracebacks_off():
	from crm_pool.setup.errors import disable_error_traceback

	frappe.db.set_single_value("System Settings", "allow_error_traceback", 1)
	disable_error_traceback()
	assert not frappe.db.get_single_value("System Settings", "allow_error_traceback")
	assert "crm_pool.setup.errors.hide_traceback" in frappe.get_hooks("before_request")


# --- free text is stored inert ---------------------------------------------------------------------


def inert(text: str | None) -> bool:
	text = (text or "").lower()
	return "<script" not in text and "onerror" not in text and "<img" not in text


@pytest.fixture
def team(make_user):
	from tests.factories import make_pool, make_pool_customer

	sales = make_user(SALES_USER)
	manager = make_user(SALES_USER, POOL_MANAGER)
	pool = make_pool(members=[sales], admins=[manager])
	return frappe._dict(
		sales=sales,
		manager=manager,
		pool=pool,
		pc=make_pool_customer(pool),
		own=make_pool_customer(pool, owner=sales),
	)


def last_log_reason(pc: str) -> str:
	return frappe.get_all(
		"Pool Log", filters={"pool_customer": pc}, pluck="reason", order_by="creation desc", limit=1
	)[0]


def test_a_release_reason_with_html_is_stored_and_shown_inert(team):
	from crm_pool.api import pool as pool_api

	frappe.set_user(team.sales)
	status = pool_api.release(team.own, EVIL)
	reason = last_log_reason(team.own)
	assert inert(reason) and "跟进" in reason
	assert all(inert(h.reason) for h in status["history"])


def test_a_lock_reason_with_html_is_stored_inert(team):
	from crm_pool.api import pool as pool_api

	frappe.set_user(team.manager)
	pool_api.lock(team.own, EVIL)
	lock_reason = frappe.db.get_value("Pool Customer", team.own, "lock_reason")
	assert inert(lock_reason) and "跟进" in lock_reason
	assert inert(last_log_reason(team.own))
	pool_api.unlock(team.own, EVIL)
	assert inert(last_log_reason(team.own))


def test_an_allocation_request_reason_with_html_is_stored_inert(team):
	from crm_pool.api import allocation as allocation_api

	frappe.set_user(team.sales)
	name = allocation_api.request_allocation([team.pc], EVIL, expected_resources=EVIL, submit=0)["name"]
	reason, expected = frappe.db.get_value("Pool Allocation Request", name, ["reason", "expected_resources"])
	assert inert(reason) and inert(expected) and "跟进" in reason


def test_hand_over_notes_with_html_are_stored_inert(team):
	from crm_pool.api import transfer as transfer_api

	frappe.set_user(team.sales)
	name = transfer_api.make_transfer(
		from_owner=team.sales,
		trigger="Customer Request",
		to_pool=1,
		pool_customers=[team.own],
		reason=EVIL,
		handover_notes="<p>客户资料</p>" + EVIL,
	)["name"]
	reason, notes = frappe.db.get_value("Ownership Transfer", name, ["reason", "handover_notes"])
	assert inert(reason) and "<script" not in notes and "onerror" not in notes and "客户资料" in notes


def test_a_set_based_log_reason_is_stored_inert(team):
	from crm_pool.core.log import insert_logs_select

	insert_logs_select("Release", "pc.name = %(pc)s", {"pc": team.own}, reason=EVIL)
	assert inert(last_log_reason(team.own))


def test_an_oversize_reason_is_refused_with_a_clear_message(team):
	from crm_pool.api import pool as pool_api
	from crm_pool.core.errors import InvalidArgument

	frappe.set_user(team.sales)
	logs = frappe.db.count("Pool Log")
	with pytest.raises(InvalidArgument, match="too long"):
		pool_api.release(team.own, "x" * 5000)
	assert frappe.db.count("Pool Log") == logs
	assert frappe.db.get_value("Pool Customer", team.own, "owned_by") == team.sales


def test_plain_text_with_arrows_and_comparisons_is_kept_as_written():
	from crm_pool.core.normalize import clean_text

	for plain in ("Pending -> Approved", "预算 < 5万 & 周期 > 3个月", "1 <2"):
		assert clean_text(plain) == plain
	assert clean_text("<b>重点</b> -> <script>x</script>") != "<b>重点</b> -> <script>x</script>"
	assert "<script" not in clean_text("<b>重点</b> -> <script>x</script>")
