"""Factories for the tests: users, pools, pool customers and the ERPNext documents around them, each
made inside the test's transaction (unless a test commits it), plus the clean-up of committed data.

- users: `new_user`;
- pools and pool customers: `make_pool`, `make_lead`, `make_pool_customer`, `bulk_pool_customers`;
- recycle and follow-up: `make_recycle_pool`, `make_recycle_pool_customer` (owned since a given day,
  its due date computed), `convert_to_customer`, `set_dates`, `pool_customer`;
- ERPNext documents: `make_territory`, `make_industry`, `make_item`, `make_opportunity`,
  `make_quotation`, `make_sales_order`, `submit_sales_order`, `submit_sales_invoice`;
- acting as someone: `as_user`, `call_whitelisted` (a whitelisted method called as a request does);
- committed data: `purge` (a pool, its customers, their Leads and logs, and users).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import frappe
import frappe.core.doctype.user.user as user_module
from frappe.utils import add_days, add_months, date_diff, getdate, now_datetime, nowdate

from crm_pool.bulk_demo import insert_pool_customers
from crm_pool.core.status import OWNED
from crm_pool.pool import followup


def unique(prefix: str) -> str:
	return f"{prefix}{uuid.uuid4().hex[:8]}"


# --- users -------------------------------------------------------------------------------------------


def new_user(*roles: str, language: str | None = None, password: str | None = None) -> str:
	"""Insert an enabled desk user with `roles` and a unique email; returns the email.

	Frappe's User.validate rewrites the global default "email_user_password" (ask_pass_update ->
	set_default), and writing a global default clears the whole site cache: every DocType's meta is
	then rebuilt by whatever runs next, which was half of the suite's time. The value it writes is
	the list of users whose User Email awaits a password; a new test user has no User Email, so it is
	the value already stored, and the insert skips that rewrite when (and only when) it would not
	change the stored value (see `_ask_pass_update_when_changed`)."""
	email = f"test-{uuid.uuid4().hex[:10]}@crm-pool.test"
	user = frappe.get_doc(
		{
			"doctype": "User",
			"email": email,
			"first_name": "测试" + email[5:11],
			"send_welcome_email": 0,
			"language": language,
			# with its roles in one insert: a second save would run User.validate again
			"roles": [{"role": role} for role in roles],
		}
	)
	user.flags.no_welcome_mail = True
	user_module.ask_pass_update = _ask_pass_update_when_changed
	try:
		user.insert(ignore_permissions=True)
	finally:
		user_module.ask_pass_update = _ask_pass_update
	if password:
		from frappe.utils.password import update_password

		update_password(email, password)
	return email


_ask_pass_update = user_module.ask_pass_update


def _ask_pass_update_when_changed() -> None:
	"""Frappe's ask_pass_update, unless the value it would write is the one stored already."""
	awaiting = frappe.get_all(
		"User Email", filters={"awaiting_password": 1, "used_oauth": 0}, pluck="parent", distinct=True
	)
	stored = frappe.get_all(
		"DefaultValue", filters={"parent": "__default", "defkey": "email_user_password"}, pluck="defvalue"
	)
	if stored != [",".join(awaiting)]:
		_ask_pass_update()


def as_user(user: str, action, *args, **kwargs):
	"""`action(*args, **kwargs)` run as `user`, then back to Administrator."""
	frappe.set_user(user)
	try:
		return action(*args, **kwargs)
	finally:
		frappe.set_user("Administrator")


def call_whitelisted(cmd: str, **kwargs):
	"""Run the whitelisted method `cmd` with `kwargs` as its form_dict, as a request does: the app's
	`before_request` hooks first, then, as frappe.handler, the last `override_whitelisted_methods`
	hook for it wins, and it must be whitelisted."""
	for hook in frappe.get_hooks("before_request"):  # as frappe.app does for every request
		frappe.call(hook)
	overrides = frappe.get_hooks("override_whitelisted_methods", {}).get(cmd, [])
	method = frappe.get_attr(overrides[-1] if overrides else cmd)
	frappe.is_whitelisted(method)
	frappe.local.form_dict = frappe._dict(kwargs)
	return frappe.call(method, **frappe.local.form_dict)


# --- pools and pool customers ------------------------------------------------------------------------


def make_pool(members: list[str] | tuple = (), admins: list[str] | tuple = (), **rules) -> str:
	"""A Customer Pool with the given members (users, or member rows as dicts), admins and rules;
	returns its name."""
	pool = frappe.get_doc(
		{
			"doctype": "Customer Pool",
			"pool_name": f"测试公海-{uuid.uuid4().hex[:8]}",
			"enabled": 1,
			"require_review": 0,
			"claim_mode": "Direct Claim",
			"members": [m if isinstance(m, dict) else {"user": m} for m in members]
			+ [{"user": u, "is_admin": 1} for u in admins],
			**rules,
		}
	)
	pool.insert(ignore_permissions=True)
	return pool.name


def make_lead(pool: str | None = None, owner: str | None = None, **fields) -> frappe.model.document.Document:
	"""A Lead (no owner unless given), taken into `pool` by intake."""
	tag = uuid.uuid4().hex[:8]
	lead = frappe.get_doc(
		{
			"doctype": "Lead",
			"first_name": f"联系人{tag}",
			"company_name": f"测试客户{tag}有限公司",
			"email_id": f"lead-{tag}@example.cn",
			"lead_owner": owner or "",
			**fields,
		}
	)
	lead.flags.pool = pool
	lead.insert(ignore_permissions=True)
	return lead


def make_pool_customer(pool: str, owner: str | None = None, **fields) -> str:
	"""A pool customer standing for a new Lead (intake takes it into `pool`): in the pool, or owned by
	`owner` through a manager's assignment. Returns its name."""
	lead = make_lead(pool)
	name = frappe.db.get_value("Pool Customer", {"lead": lead.name})
	assert name, "intake did not take the lead into the pool"
	if fields:
		frappe.db.set_value("Pool Customer", name, fields, update_modified=False)
	if owner:
		from crm_pool.pool import ownership

		user = frappe.session.user
		frappe.set_user("Administrator")
		ownership.assign(name, owner, "test set-up")
		frappe.set_user(user)
	return name


def pc_of(lead: str) -> str:
	"""The Pool Customer of a Lead."""
	return frappe.db.get_value("Pool Customer", {"lead": lead})


def bulk_pool_customers(pool: str, count: int, *, owner: str | None = None, **fields) -> list[str]:
	"""`count` Leads and their Pool Customers in `pool`, inserted set-based (as benchmarks do): in the
	pool, or owned by `owner`. `fields` are set on every Pool Customer (territory, grade, …).
	Returns the pool customers' names, oldest in the pool first."""
	names, _leads = insert_pool_customers(
		pool, count, prefix=f"T{uuid.uuid4().hex[:8]}", owner=owner, **fields
	)
	return names


def make_territory(name: str | None = None, parent: str | None = None, is_group: int = 0) -> str:
	"""A Territory (under `parent`, default the root), inside the test's transaction."""
	root = frappe.db.get_value("Territory", {"parent_territory": ("in", ("", None))}, "name")
	doc = frappe.get_doc(
		{
			"doctype": "Territory",
			"territory_name": name or f"测试区域-{uuid.uuid4().hex[:6]}",
			"parent_territory": parent or root,
			"is_group": is_group,
		}
	).insert(ignore_permissions=True)
	return doc.name


def make_industry() -> str:
	return (
		frappe.get_doc({"doctype": "Industry Type", "industry": f"测试行业-{uuid.uuid4().hex[:6]}"})
		.insert(ignore_permissions=True)
		.name
	)


# --- recycle and follow-up ---------------------------------------------------------------------------


def make_recycle_pool(**rules) -> str:
	"""A Customer Pool with recycle rules, e.g. make_recycle_pool(no_followup_days=30, grade_rules=[...]).
	Defaults: 30 days without follow-up, no deal rule, reminder 3 days ahead, no exemptions."""
	defaults = {"no_followup_days": 30, "no_deal_days": 0, "reminder_days": 3}
	return make_pool(**{**defaults, "exempt_open_opportunity": 0, "exempt_with_deal": 0, **rules})


def make_recycle_pool_customer(
	pool: str,
	owner: str | None,
	*,
	status: str = OWNED,
	claimed_days_ago: float | None = 0,
	grade: str | None = None,
	company_name: str | None = None,
	**fields,
):
	"""A Lead and its Pool Customer in `pool`, owned by `owner` since `claimed_days_ago` days
	(status OWNED unless given), with its recycle due date computed. Returns the Pool Customer doc."""
	company_name = company_name or unique("回收测试环保科技有限公司")
	lead = frappe.get_doc(
		{
			"doctype": "Lead",
			"company_name": company_name,
			"lead_name": "测试联系人",
			"first_name": "测试联系人",
			"lead_owner": owner,
			"status": "Lead",
		}
	)
	lead.flags.pool = pool
	lead.insert(ignore_permissions=True)

	claimed_at = None
	if owner and claimed_days_ago is not None:
		claimed_at = now_datetime() - timedelta(days=claimed_days_ago)
	state = {
		"pool": pool,
		"status": status,
		"owned_by": owner,
		"claimed_at": claimed_at,
		"grade": grade,
		**fields,
	}
	name = frappe.db.get_value("Pool Customer", {"lead": lead.name})
	if name:  # created by intake (Lead after_insert): bring it to the asked-for state
		frappe.db.set_value("Pool Customer", name, state, update_modified=False)
	else:
		name = (
			frappe.get_doc(
				{
					"doctype": "Pool Customer",
					"customer_name": company_name,
					"party_type": "Lead",
					"party": lead.name,
					"lead": lead.name,
					**state,
				}
			)
			.insert(ignore_permissions=True)
			.name
		)
	followup.recompute_due([name])
	return frappe.get_doc("Pool Customer", name)


def convert_to_customer(pc) -> str:
	"""Make an ERPNext Customer from the pool customer's Lead; the Pool Customer points to it
	(intake does that on Customer after_insert; without intake the test sets it)."""
	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": pc.customer_name,
			"customer_type": "Company",
			"lead_name": pc.lead,
			"account_manager": pc.owned_by,
		}
	).insert(ignore_permissions=True)
	if frappe.db.get_value("Pool Customer", pc.name, "customer") != customer.name:
		frappe.db.set_value(
			"Pool Customer",
			pc.name,
			{"customer": customer.name, "party_type": "Customer", "party": customer.name},
			update_modified=False,
		)
	return customer.name


def set_dates(pc_name: str, **dates: datetime | None) -> None:
	"""Set follow-up/deal/claim dates directly (the past the tests need) and recompute the due date."""
	frappe.db.set_value("Pool Customer", pc_name, dates, update_modified=False)
	followup.recompute_due([pc_name])


def pool_customer(name: str) -> frappe._dict:
	return frappe.db.get_value("Pool Customer", name, "*", as_dict=True)


# --- ERPNext documents -----------------------------------------------------------------------------


def company() -> str:
	return frappe.defaults.get_global_default("company") or frappe.db.get_value("Company", {}, "name")


def make_item(group: str | None = None, item_name: str = "检测服务") -> str:
	"""A non-stock service item (of `group`, else of some leaf Item Group)."""
	group = group or frappe.db.get_value("Item Group", {"is_group": 0}, "name") or "All Item Groups"
	uom = "Nos" if frappe.db.exists("UOM", "Nos") else frappe.db.get_value("UOM", {}, "name")
	return (
		frappe.get_doc(
			{
				"doctype": "Item",
				"item_code": unique("RECYCLE-TEST-"),
				"item_name": item_name,
				"item_group": group,
				"stock_uom": uom,
				"is_stock_item": 0,
				"include_item_in_manufacturing": 0,
			}
		)
		.insert(ignore_permissions=True)
		.name
	)


def make_opportunity(party_type: str, party: str, status: str = "Open", owner: str | None = None) -> str:
	"""An Opportunity for the party, made by the session user; `owner` is its opportunity_owner."""
	doc = frappe.get_doc(
		{
			"doctype": "Opportunity",
			"opportunity_from": party_type,
			"party_name": party,
			"company": company(),
			"status": "Open",
			"opportunity_owner": owner,
		}
	).insert(ignore_permissions=True)
	if status != "Open":
		frappe.db.set_value("Opportunity", doc.name, "status", status, update_modified=False)
	return doc.name


def make_quotation(party_type: str, party: str) -> str:
	return line_quotation(party_type, party, make_item()).insert(ignore_permissions=True).name


def submit_sales_invoice(customer: str) -> str:
	doc = frappe.get_doc(
		{
			"doctype": "Sales Invoice",
			"company": company(),
			"customer": customer,
			"currency": "CNY",
			"posting_date": nowdate(),
			"due_date": add_days(nowdate(), 30),
			"items": [{"item_code": make_item(), "qty": 1, "rate": 5000}],
		}
	)
	doc.insert(ignore_permissions=True)
	doc.submit()
	return doc.name


def submit_sales_order(customer: str) -> str:
	doc = make_sales_order(customer)
	doc.submit()
	return doc.name


def make_sales_order(customer: str) -> frappe.model.document.Document:
	"""A draft Sales Order of `customer`."""
	doc = frappe.get_doc(
		{
			"doctype": "Sales Order",
			"company": company(),
			"customer": customer,
			"currency": "CNY",
			"transaction_date": nowdate(),
			"delivery_date": add_days(nowdate(), 10),
			"items": [
				{"item_code": make_item(), "qty": 1, "rate": 5000, "delivery_date": add_days(nowdate(), 10)}
			],
		}
	)
	return doc.insert(ignore_permissions=True)


# --- committed data ----------------------------------------------------------------------------------


def purge(pool: str, users: list[str]) -> None:
	"""Delete a committed pool, its pool customers with their Customers and Leads, logs and ToDos,
	and `users`."""
	pcs = frappe.get_all("Pool Customer", filters={"pool": pool}, fields=["name", "lead", "customer"])
	names, leads = [p.name for p in pcs] or [""], [p.lead for p in pcs if p.lead] or [""]
	customers = [p.customer for p in pcs if p.customer] or [""]
	frappe.db.sql("DELETE FROM `tabPool Log` WHERE pool_customer IN %s", (names,))
	frappe.db.sql("DELETE FROM `tabToDo` WHERE reference_type = 'Lead' AND reference_name IN %s", (leads,))
	frappe.db.sql(
		"DELETE FROM `tabToDo` WHERE reference_type = 'Customer' AND reference_name IN %s", (customers,)
	)
	frappe.db.sql("DELETE FROM `tabPool Customer` WHERE name IN %s", (names,))
	frappe.db.sql("DELETE FROM `tabPool Claim Counter` WHERE pool = %s", pool)
	for customer in customers:
		if customer and frappe.db.exists("Customer", customer):
			frappe.delete_doc("Customer", customer, force=True, ignore_permissions=True)
	for lead in leads:
		if lead and frappe.db.exists("Lead", lead):
			frappe.delete_doc("Lead", lead, force=True, ignore_permissions=True)


# --- grading service: customers of a grade, complaints ------------------------------------------------


def customer_of_grade(
	pool: str, owner: str, grade: str, claimed_days_ago: float = 0, **fields
) -> frappe._dict:
	"""An owned pool customer of `grade` standing for an ERPNext Customer; returns its row."""
	pc = make_recycle_pool_customer(pool, owner, grade=grade, claimed_days_ago=claimed_days_ago, **fields)
	convert_to_customer(pc)
	if owner:  # the conversion counted as a follow-up: back to the asked-for past
		set_dates(
			pc.name, claimed_at=now_datetime() - timedelta(days=claimed_days_ago), last_followup_at=None
		)
	return pool_customer(pc.name)


def make_issue(
	customer: str, subject: str = "设备故障投诉", sla_start=None, **fields
) -> frappe.model.document.Document:
	"""A complaint (Issue) of `customer`; `sla_start` fixes when its agreement starts counting."""
	doc = frappe.get_doc(
		{
			"doctype": "Issue",
			"subject": subject,
			"customer": customer,
			"raised_by": "customer@example.cn",
			"service_level_agreement_creation": sla_start,
			**fields,
		}
	)
	return doc.insert(ignore_permissions=True)


# --- grading: a pool's own grade rule, customers, invoices and credit notes ------------------------


def make_rule(pool: str, *, grades=(("A", 80), ("B", 50), ("C", 0)), **fields) -> str:
	"""A Customer Grade Rule of `pool`: fixed bands by score, margin 5, monetary only (weights and
	bands overridable with `fields`)."""
	doc = frappe.get_doc(
		{
			"doctype": "Customer Grade Rule",
			"rule_name": unique("测试分级规则-"),
			"enabled": 1,
			"pool": pool,
			"window_months": 12,
			"scoring_method": "Fixed Bands",
			"threshold_basis": "Score",
			"hysteresis_margin": 5,
			"full_monetary": 100000,
			"full_frequency": 10,
			"zero_recency_days": 100,
			"full_profit": 100000,
			"grades": [{"grade": g, "label": g, "threshold": t} for g, t in grades],
			"weight_monetary": 1,
			"weight_frequency": 0,
			"weight_recency": 0,
			"weight_profit": 0,
			"weight_repeat": 0,
			"weight_potential": 0,
			**fields,
		}
	)
	return doc.insert(ignore_permissions=True).name


def make_customer(pool: str, owner: str | None = None, potential: int = 0) -> frappe._dict:
	"""A Customer taken into `pool` (owned by `owner` if given); returns customer and pool_customer."""
	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": unique("分级测试客户有限公司"),
			"customer_type": "Company",
			"account_manager": owner,
			"potential_score": potential,
		}
	)
	customer.flags.pool = pool
	customer.insert(ignore_permissions=True)
	pc = frappe.db.get_value("Pool Customer", {"customer": customer.name}, "name")
	assert pc, "intake did not take the customer into the pool"
	return frappe._dict(customer=customer.name, pc=pc)


_items: dict[str, str] = {}


def item() -> str:
	"""One service item per test run (made inside each test's transaction)."""
	code = _items.get("item")
	if not code or not frappe.db.exists("Item", code):
		_items["item"] = make_item()
	return _items["item"]


def ensure_fiscal_year(date) -> None:
	"""ERPNext refuses postings outside a Fiscal Year: make the calendar year of `date` if missing."""
	date = getdate(date)
	if frappe.db.sql(
		"SELECT 1 FROM `tabFiscal Year` WHERE %s BETWEEN year_start_date AND year_end_date AND disabled = 0",
		date,
	):
		return
	frappe.get_doc(
		{
			"doctype": "Fiscal Year",
			"year": f"{date.year}-grading-test",
			"year_start_date": f"{date.year}-01-01",
			"year_end_date": f"{date.year}-12-31",
		}
	).insert(ignore_permissions=True)


def invoice(
	customer: str,
	amount: float,
	days_ago: int = 0,
	*,
	submit: bool = True,
	qty: int = 1,
	item_code: str | None = None,
) -> str:
	"""A submitted Sales Invoice of `customer` for `amount` (no taxes) of `item_code` (else the test
	item), posted `days_ago` days ago."""
	posting = add_days(nowdate(), -days_ago)
	ensure_fiscal_year(posting)
	doc = frappe.get_doc(
		{
			"doctype": "Sales Invoice",
			"company": company(),
			"customer": customer,
			"currency": "CNY",
			"set_posting_time": 1,
			"posting_date": posting,
			"due_date": add_days(posting, 30),
			"items": [{"item_code": item_code or item(), "qty": qty, "rate": amount / qty}],
		}
	)
	doc.insert(ignore_permissions=True)
	if submit:
		doc.submit()
	return doc.name


def credit_note(invoice_name: str, qty: int = 1) -> str:
	"""A submitted credit note (return) of `qty` units of `invoice_name`'s item at its rate
	(ERPNext's make_sales_return)."""
	from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

	doc = make_sales_return(invoice_name)
	doc.items[0].qty = -qty
	doc.insert(ignore_permissions=True)
	doc.submit()
	return doc.name


def pc_row(pc: str) -> frappe._dict:
	return frappe.db.get_value("Pool Customer", pc, "*", as_dict=True)


def logs(pc: str) -> list[frappe._dict]:
	return frappe.get_all(
		"Customer Grade Log",
		filters={"pool_customer": pc},
		fields=["from_grade", "to_grade", "why", "run", "score", "override"],
		order_by="at asc, creation asc",
	)


def months_ago(months: int) -> str:
	return add_months(nowdate(), -months)


# --- sharing: payout (referral rewards, their payment settings, employees) ---------------------------


def reward_accounts(company_name: str | None = None) -> frappe._dict:
	"""Ledger accounts and a cost center of the company for reward payments: an Expense account, a
	Payable one (creditors), a Cash one, and an Income one (a wrong choice for the tests)."""
	company_name = company_name or company()

	def ledger(**filters) -> str:
		return frappe.db.get_value(
			"Account",
			{"company": company_name, "is_group": 0, "disabled": 0, **filters},
			"name",
			order_by="name",
		)

	return frappe._dict(
		company=company_name,
		expense=ledger(root_type="Expense"),
		payable=ledger(account_type="Payable"),
		cash=ledger(account_type="Cash"),
		income=ledger(root_type="Income"),
		cost_center=frappe.db.get_value(
			"Cost Center", {"company": company_name, "is_group": 0}, "name", order_by="name"
		),
	)


def set_payout_settings(account: str = "payable", **values) -> frappe._dict:
	"""Sharing Settings paying rewards from the company's expense account to its Payable (or Cash)
	account; `values` override single fields (None clears one, bypassing validation)."""
	a = reward_accounts()
	settings = {
		"company": a.company,
		"reward_expense_account": a.expense,
		"payout_account": a[account],
		"cost_center": a.cost_center,
	}
	doc = frappe.get_single("Sharing Settings")
	doc.update(settings)
	doc.save(ignore_permissions=True)
	for field, value in values.items():
		frappe.db.set_single_value("Sharing Settings", field, value)
	return a


def make_employee(user: str) -> str:
	"""An active Employee of the company for `user`."""
	return (
		frappe.get_doc(
			{
				"doctype": "Employee",
				"first_name": frappe.db.get_value("User", user, "first_name") or user,
				"gender": frappe.db.get_value("Gender", {}, "name"),
				"date_of_birth": "1990-01-01",
				"date_of_joining": "2020-01-01",
				"company": company(),
				"status": "Active",
				"user_id": user,
			}
		)
		.insert(ignore_permissions=True)
		.name
	)


def business_line() -> str:
	return frappe.db.get_value("Item Group", {"is_group": 0}, "name", order_by="lft") or "All Item Groups"


def make_share_row(sharer: str, customer: str | None = None, status: str = "Converted", **fields) -> str:
	"""A Customer Share of `sharer` in `status` (written directly: the share's own intake is not what
	these tests are about)."""
	doc = frappe.get_doc(
		{
			"doctype": "Customer Share",
			"name": unique("CS-TEST-"),
			"company_name": unique("共享测试客户有限公司"),
			"territory": frappe.db.get_value("Territory", {"is_group": 0}),
			"business_line": business_line(),
			"business_needed": "检测需求",
			"status": status,
			"sharer": sharer,
			"sharer_name": frappe.db.get_value("User", sharer, "full_name"),
			"customer": customer,
			**fields,
		}
	)
	doc.db_insert()
	return doc.name


def make_reward(
	sharer: str,
	amount: float,
	lines: list[dict] | None = None,
	*,
	clawback: float = 0,
	employee: str | None = None,
	customer: str | None = None,
	share: str | None = None,
	period_start: str | None = None,
) -> frappe.model.document.Document:
	"""A Draft Referral Reward of `sharer` for `amount` (net: amount - clawback) with its evidence
	lines; by default one Contract line referencing a real submitted Sales Order of `customer` (a new
	customer when none)."""
	if lines is None:
		if not customer:
			customer = (
				frappe.get_doc(
					{
						"doctype": "Customer",
						"customer_name": unique("奖励测试客户有限公司"),
						"customer_type": "Company",
					}
				)
				.insert(ignore_permissions=True)
				.name
			)
		so = submit_sales_order(customer)
		lines = [
			{
				"kind": "Contract",
				"reference_doctype": "Sales Order",
				"reference_name": so,
				"customer": customer,
				"customer_share": share,
				"business_line": business_line(),
				"posting_date": nowdate(),
				"amount": 5000,
				"contract_key": f"Contract:Sales Order:{so}",
			}
		]
	start = getdate(period_start or nowdate()).replace(day=1)
	doc = frappe.get_doc(
		{
			"doctype": "Referral Reward",
			"sharer": sharer,
			"sharer_name": frappe.db.get_value("User", sharer, "full_name"),
			"employee": employee,
			"company": company(),
			"currency": frappe.get_cached_value("Company", company(), "default_currency"),
			"period_start": start,
			"period_end": add_days(add_months(start, 1), -1),
			"business_line": business_line(),
			"contracts": len(lines),
			"reward_amount": amount,
			"clawback_amount": clawback,
			"net_amount": amount - clawback,
			"lines": lines,
		}
	)
	frappe.flags.computing_referral_rewards = True  # as the computation writes it (not by hand)
	try:
		return doc.insert(ignore_permissions=True)
	finally:
		frappe.flags.computing_referral_rewards = False


# --- sharing: customer shares (共享客户) -------------------------------------------------------------


def employee_user(password: str | None = None) -> str:
	"""A desk user who is an Employee (ERPNext keeps the Employee role only for a user linked to an
	Employee record): the colleague of another department who shares a customer."""
	user = new_user(password=password)
	frappe.get_doc(
		{
			"doctype": "Employee",
			"first_name": frappe.db.get_value("User", user, "first_name"),
			"gender": frappe.db.get_value("Gender", {}, "name"),
			"date_of_birth": "1990-01-01",
			"date_of_joining": "2020-01-01",
			"company": company(),
			"user_id": user,
			"status": "Active",
		}
	).insert(ignore_permissions=True)
	if "Employee" not in frappe.get_roles(user):
		frappe.get_doc("User", user).add_roles("Employee")
	assert "Employee" in frappe.get_roles(user)
	return user


def make_business_line(name: str | None = None, parent: str | None = None) -> str:
	"""A business line (an Item Group with children) under `parent` (default the root), with one leaf
	group for its items (`line_item`)."""
	root = parent or frappe.db.get_value("Item Group", {"parent_item_group": ("in", ("", None))}, "name")
	line = (
		frappe.get_doc(
			{
				"doctype": "Item Group",
				"item_group_name": name or unique("测试业务线-"),
				"parent_item_group": root,
				"is_group": 1,
			}
		)
		.insert(ignore_permissions=True)
		.name
	)
	frappe.get_doc(
		{"doctype": "Item Group", "item_group_name": unique(f"{line}-服务-"), "parent_item_group": line}
	).insert(ignore_permissions=True)
	return line


def line_item(line: str) -> str:
	"""A service item of the business line (in a leaf group within its subtree)."""
	group = frappe.db.get_value("Item Group", {"parent_item_group": line, "is_group": 0}, "name") or line
	return make_item(group, "业务线服务")


def region_pool(members: list[str] | tuple = (), **rules) -> frappe._dict:
	"""A territory and the pool of that region (new customers of the territory enter it)."""
	territory = make_territory()
	return frappe._dict(territory=territory, pool=make_pool(members=members, territory=territory, **rules))


def share_fields(territory: str, line: str, **fields) -> dict:
	"""What an employee enters to share a new customer (unique company name and mobile)."""
	tag = uuid.uuid4().hex[:8]
	return {
		"company_name": f"共享测试{tag}有限公司",
		"territory": territory,
		"business_line": line,
		"business_needed": "危废年处置约200吨，需上门评估",
		"contact_person": "李明",
		"mobile_no": "137" + str(uuid.uuid4().int)[:8],
		"address": f"浙江省杭州市西湖区文三路{tag[:3]}号",
		"estimated_revenue": 12.5,
		**fields,
	}


def make_share(user: str, **fields) -> frappe.model.document.Document:
	"""A Customer Share inserted as `user` (its controller runs the intake)."""
	doc = frappe.get_doc({"doctype": "Customer Share", **fields})
	as_user(user, doc.insert)
	return doc


def add_line_staff(line: str, user: str) -> None:
	"""`user` is staff of the business line (Sharing Settings → Business Line Staff)."""
	settings = frappe.get_single("Sharing Settings")
	settings.append("line_staff", {"business_line": line, "user": user})
	settings.save(ignore_permissions=True)


def line_quotation(party_type: str, party: str, item_code: str) -> frappe.model.document.Document:
	"""A draft Quotation of one item for the party, not inserted."""
	return frappe.get_doc(
		{
			"doctype": "Quotation",
			"quotation_to": party_type,
			"party_name": party,
			"company": company(),
			"transaction_date": nowdate(),
			"valid_till": add_days(nowdate(), 30),
			"currency": "CNY",
			"items": [{"item_code": item_code, "qty": 1, "rate": 1000}],
		}
	)


def purge_shares(pools: list[str], users: list[str], item_groups: list[str] = (), territories=()) -> None:
	"""Delete committed shares of the pools' customers (and of the users), the pools with their
	customers, Leads, Contacts and logs, the users, item groups and territories."""
	pcs = frappe.get_all("Pool Customer", filters={"pool": ("in", pools or [""])}, fields=["name", "lead"])
	leads = [pc.lead for pc in pcs if pc.lead]
	frappe.db.delete("Customer Share", {"sharer": ("in", users or [""])})
	frappe.db.delete("Customer Share", {"pool_customer": ("in", [pc.name for pc in pcs] or [""])})
	contacts = frappe.get_all(
		"Dynamic Link",
		filters={"parenttype": "Contact", "link_doctype": "Lead", "link_name": ("in", leads or [""])},
		pluck="parent",
	)
	for pool in pools:
		purge(pool, [])
		frappe.delete_doc("Customer Pool", pool, force=True, ignore_permissions=True)
	for contact in contacts:
		if frappe.db.exists("Contact", contact):
			frappe.delete_doc("Contact", contact, force=True, ignore_permissions=True)
	for employee in frappe.get_all("Employee", filters={"user_id": ("in", users or [""])}, pluck="name"):
		frappe.delete_doc("Employee", employee, force=True, ignore_permissions=True)
	for user in users:
		frappe.delete_doc("User", user, force=True, ignore_permissions=True)
	for group in item_groups:
		for child in frappe.get_all("Item Group", filters={"parent_item_group": group}, pluck="name"):
			frappe.delete_doc("Item Group", child, force=True, ignore_permissions=True)
		frappe.delete_doc("Item Group", group, force=True, ignore_permissions=True)
	for territory in territories:
		frappe.delete_doc("Territory", territory, force=True, ignore_permissions=True)


# --- sharing: referral rewards (rules, converted shares, documents of a business line) ---------------


def make_converted_share(sharer: str, customer: str, business_line: str, estimated_revenue: float = 0) -> str:
	"""A Customer Share of `customer` by `sharer` for `business_line`, converted (customer set),
	written directly (no intake)."""
	from crm_pool.sharing.model import CONVERTED, CUSTOMER_SHARE

	doc = frappe.get_doc(
		{
			"doctype": CUSTOMER_SHARE,
			"name": unique("CS-TEST-"),
			"company_name": frappe.db.get_value("Customer", customer, "customer_name") or customer,
			"territory": frappe.db.get_value("Territory", {"is_group": 1}, "name"),
			"business_line": business_line,
			"business_needed": "危废处置与检测",
			"estimated_revenue": estimated_revenue,
			"status": CONVERTED,
			"sharer": sharer,
			"customer": customer,
			"converted_on": now_datetime(),
		}
	)
	doc.db_insert()
	return doc.name


def shared_customer() -> str:
	"""A new Customer (taken into a new pool by the intake) for sharing tests."""
	return make_customer(make_pool()).customer


def line_service(business_line: str) -> str:
	"""A non-stock service item of `business_line` (an Item Group), one per line and test run."""
	key = f"line:{business_line}"
	code = _items.get(key)
	if code and frappe.db.exists("Item", code):
		return code
	code = make_item()
	frappe.db.set_value("Item", code, "item_group", business_line)
	_items[key] = code
	return code


def line_order(
	customer: str, business_line: str, amount: float = 5000, on=None, *, submit: bool = True
) -> str:
	"""A (submitted) Sales Order of `customer` for one item of `business_line`, dated `on`."""
	on = getdate(on or nowdate())
	ensure_fiscal_year(on)
	doc = frappe.get_doc(
		{
			"doctype": "Sales Order",
			"company": company(),
			"customer": customer,
			"currency": "CNY",
			"transaction_date": on,
			"delivery_date": add_days(on, 10),
			"items": [
				{
					"item_code": line_service(business_line),
					"qty": 1,
					"rate": amount,
					"delivery_date": add_days(on, 10),
				}
			],
		}
	).insert(ignore_permissions=True)
	if submit:
		doc.submit()
	return doc.name


def line_invoice(customer: str, business_line: str, amount: float, on=None, qty: int = 1) -> str:
	"""A submitted Sales Invoice of `customer` for `qty` units of an item of `business_line` worth
	`amount` in all, posted `on`."""
	days_ago = date_diff(nowdate(), getdate(on or nowdate()))
	return invoice(customer, amount, days_ago, qty=qty, item_code=line_service(business_line))
