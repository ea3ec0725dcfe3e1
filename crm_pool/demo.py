"""Deterministic demo data: the sales organisation of a Chinese environmental-services company.

Usable on its own, and by the set-up script and the benchmarks:

    bench --site SITE crm-pool-demo --seed 42 --count 300
    bench --site SITE execute crm_pool.demo.make_demo --kwargs "{'seed': 42, 'count': 300}"

Idempotent: master data is created when missing; leads are generated from the seed, and only those
not yet on the site are inserted, so a re-run adds nothing and a larger count adds the difference.
(One module over 400 lines: it is data — names, regions, business lines — read top to bottom.)
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import frappe
from frappe.utils import add_days, add_months, getdate, nowdate

from crm_pool import demo_story
from crm_pool.core import normalize
from crm_pool.core.roles import POOL_MANAGER, SALES_MANAGER, SALES_USER

EMPLOYEE = "Employee"  # ERPNext's role of every employee
from crm_pool.setup.install import DEFAULT_POOL, make_default_pool

DEMO_PASSWORD = "CrmPool!2026"
EMAIL_DOMAIN = "demo.crm-pool.cn"

# Region -> province -> cities. Territories: 中国 > region > province.
REGIONS: dict[str, dict[str, list[str]]] = {
	"华东": {"上海": ["上海"], "江苏": ["南京", "苏州", "无锡", "常州"], "浙江": ["杭州", "宁波", "温州"]},
	"华南": {"广东": ["广州", "深圳", "东莞", "佛山"], "福建": ["福州", "厦门"]},
	"华北": {"北京": ["北京"], "天津": ["天津"], "河北": ["石家庄", "唐山"]},
	"西南": {"四川": ["成都", "绵阳"], "重庆": ["重庆"]},
}
# Industry (also the customer group) -> words used in company names.
INDUSTRIES: dict[str, list[str]] = {
	"化工": ["化工", "新材料", "涂料"],
	"制造业": ["机械", "精密制造", "装备"],
	"医药": ["制药", "生物医药", "医疗器械"],
	"电子": ["电子", "半导体", "光电"],
	"汽车": ["汽车零部件", "汽车配件"],
	"食品": ["食品", "饮料"],
}
# The business lines (业务线, seed 000) of the services: Item Groups under 环保服务; 危废处置 and 检测 have
# the seed's referral reward rules (crm_pool/fixtures/referral_reward_rule.json).
SERVICES_GROUP = "环保服务"
SERVICE_LINES = {"WF-DISPOSAL": "危废处置", "JC-TESTING": "检测", "HP-CONSULT": "环评咨询"}
# Services: item code -> (name, typical amount range in 元).
SERVICES: dict[str, tuple[str, tuple[int, int]]] = {
	"WF-DISPOSAL": ("危废处置服务", (20_000, 300_000)),
	"JC-TESTING": ("检测服务", (5_000, 80_000)),
	"HP-CONSULT": ("环评咨询服务", (10_000, 150_000)),
}
BRAND_WORDS = "恒信 华泰 中科 金鼎 瑞丰 宏达 新锐 博远 天成 永盛 鑫源 嘉禾 东方 联创 盛世 海纳 凯旋 正泰 远大 长青".split()
SUFFIXES = ["有限公司", "有限责任公司", "股份有限公司"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN_NAMES = "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 霞 平 刚 桂英 建华 志强".split()
LEAD_SOURCES = ["市场调研", "客户咨询", "业务推广", "员工推荐", "展会"]
# Administrative division codes (统一社会信用代码 characters 3-8) of the provinces.
DIVISION_CODES = {
	"上海": "310000",
	"江苏": "320000",
	"浙江": "330000",
	"广东": "440000",
	"福建": "350000",
	"北京": "110000",
	"天津": "120000",
	"河北": "130000",
	"四川": "510000",
	"重庆": "500000",
}
# Regional pools (公海) by territory; leads of other regions go to the default pool.
REGIONAL_POOLS = {"华东公海": "华东", "华南公海": "华南"}
# The rules a sales director sets per pool (set once, when a pool has none: a manager's later changes
# stay). 华东, the largest market: a cap of 50 (signed customers not counted), 10 claims a day, 7 days
# before a released customer may be re-claimed, back to the pool after 30 days without follow-up or
# 90 without a deal (key accounts, grade A: 60/180), new customers reviewed. 华南, a smaller team
# chasing faster: 40, 8 a day, 15 days' cooldown, 20/60 days, reminders 5 days ahead. 默认公海, what no
# region covers: lenient (100, 20 a day, 3 days, 60/180) and no review.
POOL_RULES: dict[str, dict] = {
	"华东公海": {
		"require_review": 1,
		"max_owned": 50,
		"converted_not_counted": 1,
		"max_daily_claims": 10,
		"cooldown_days": 7,
		"no_followup_days": 30,
		"no_deal_days": 90,
		"reminder_days": 3,
		"exempt_open_opportunity": 1,
		"grade_rules": [{"grade": "A", "no_followup_days": 60, "no_deal_days": 180}],
	},
	"华南公海": {
		"require_review": 1,
		"max_owned": 40,
		"max_daily_claims": 8,
		"cooldown_days": 15,
		"no_followup_days": 20,
		"no_deal_days": 60,
		"reminder_days": 5,
		"exempt_open_opportunity": 1,
	},
	DEFAULT_POOL: {
		"require_review": 0,
		"max_owned": 100,
		"max_daily_claims": 20,
		"cooldown_days": 3,
		"no_followup_days": 60,
		"no_deal_days": 180,
		"reminder_days": 7,
		"exempt_open_opportunity": 1,
	},
}
# A pool "has rules" when any of these is set.
RULE_FIELDS = ("max_owned", "max_daily_claims", "cooldown_days", "no_followup_days", "no_deal_days")


@dataclass(frozen=True)
class DemoUser:
	email: str
	full_name: str
	roles: tuple[str, ...]
	territory: str | None  # the region this user covers
	gender: str


DEMO_USERS: tuple[DemoUser, ...] = (
	DemoUser(
		f"wang.manager@{EMAIL_DOMAIN}", "王建国", (SALES_MANAGER, SALES_USER, POOL_MANAGER), None, "Male"
	),
	DemoUser(f"zhang.wei@{EMAIL_DOMAIN}", "张伟", (SALES_USER,), "华东", "Male"),
	DemoUser(f"li.na@{EMAIL_DOMAIN}", "李娜", (SALES_USER,), "华南", "Female"),
	DemoUser(f"liu.yang@{EMAIL_DOMAIN}", "刘洋", (SALES_USER,), "华北", "Male"),
	DemoUser(f"chen.jing@{EMAIL_DOMAIN}", "陈静", (SALES_USER,), "西南", "Female"),
	# 综合部: not in sales; shares customers she meets with the business lines (seed 000)
	DemoUser(f"zhao.min@{EMAIL_DOMAIN}", "赵敏", (EMPLOYEE,), None, "Female"),
)


@dataclass(frozen=True)
class DemoLead:
	company_name: str
	lead_name: str
	mobile_no: str
	email_id: str
	province: str
	city: str
	region: str
	industry: str
	source: str
	owner: str | None  # None: unowned, a pool customer
	uscc: str | None = None  # 统一社会信用代码, known for some leads


def make_demo(seed: int = 42, count: int = 300, commit: bool = True) -> dict:
	"""Create (or complete) the demo organisation with `count` leads; returns a summary with logins.

	With commit=False nothing is committed (the tests run it inside a transaction they roll back).
	"""
	seed, count = int(seed), int(count)
	if count < 0:
		frappe.throw("count must be >= 0")
	company = frappe.defaults.get_global_default("company") or frappe.db.get_value("Company", {}, "name")
	if not company:
		frappe.throw("Complete the ERPNext setup wizard first (crm_pool.setup.site.complete_setup_wizard)")

	previous = frappe.flags.in_test, frappe.flags.mute_emails
	# No outbound gravatar look-ups (three failing DNS look-ups per Lead here) and no mails while
	# generating data. in_test is the flag has_gravatar() honours without skipping field defaults
	# (in_import would leave every default unset).
	frappe.flags.in_test, frappe.flags.mute_emails = True, True
	try:
		make_masters(company)
		users = make_users(company)
		make_pools(users)
		rng = random.Random(seed)
		leads = list(generate_leads(rng, count, [u for u in users if u.territory]))
		started = time.monotonic()
		created = insert_missing_leads(leads, commit)
		# what the seed made owned at intake, whoever owns the leads now (the story claims others)
		first_contact = {lead.email_id for lead in leads if lead.owner}
		customers = convert_some_leads(random.Random(seed + 1), company, first_contact)
		invoices = make_invoices(random.Random(seed + 2), company, first_contact)
		shares = make_shares(random.Random(seed + 3), company)
		seconds = {"organisation": round(time.monotonic() - started, 1)}
		story = tell_story()
		story["seconds"] = {**seconds, **story["seconds"]}
		if commit:
			frappe.db.commit()
		found = {u.email: demo_story.what_they_find(u.email) for u in users}
	finally:
		frappe.flags.in_test, frappe.flags.mute_emails = previous
		# Frappe caches the outgoing email account per process, a sender-less dummy while mails are
		# muted: forget it, or the process's next mail fails on it
		frappe.local.outgoing_email_account = {}
	return {
		"company": company,
		"leads_created": created,
		"leads_total": frappe.db.count("Lead"),
		"customers_created": customers,
		"invoices_created": invoices,
		"shares_created": shares,
		"story": story,
		"found": found,
		"logins": [{"user": u.email, "name": u.full_name, "roles": list(u.roles)} for u in users],
		"password": DEMO_PASSWORD,
	}


# --- master data ---------------------------------------------------------------------------------


def get_or_insert(doctype: str, name: str, **fields) -> str:
	"""Insert a record named `name` unless it exists; returns its name."""
	if frappe.db.exists(doctype, name):
		return name
	doc = frappe.get_doc({"doctype": doctype, **fields})
	doc.flags.ignore_permissions = True
	doc.insert()
	return doc.name


def make_masters(company: str) -> None:
	root_territory = frappe.db.get_value("Territory", {"is_group": 1, "parent_territory": ("in", ("", None))})
	get_or_insert("Territory", "中国", territory_name="中国", parent_territory=root_territory, is_group=1)
	for region, provinces in REGIONS.items():
		get_or_insert("Territory", region, territory_name=region, parent_territory="中国", is_group=1)
		for province in provinces:
			get_or_insert("Territory", province, territory_name=province, parent_territory=region, is_group=0)

	root_group = frappe.db.get_value(
		"Customer Group", {"is_group": 1, "parent_customer_group": ("in", ("", None))}
	)
	for industry in INDUSTRIES:
		get_or_insert("Industry Type", industry, industry=industry)
		get_or_insert(
			"Customer Group",
			industry,
			customer_group_name=industry,
			parent_customer_group=root_group,
			is_group=0,
		)
	for source in LEAD_SOURCES:
		get_or_insert("Lead Source", source, source_name=source)

	make_business_lines()
	uom = "Nos" if frappe.db.exists("UOM", "Nos") else frappe.db.get_value("UOM", {}, "name")
	for code, (item_name, _) in SERVICES.items():
		get_or_insert(
			"Item",
			code,
			item_code=code,
			item_name=item_name,
			item_group=SERVICE_LINES[code],
			stock_uom=uom,
			is_stock_item=0,
			include_item_in_manufacturing=0,
		)
		if frappe.db.get_value("Item", code, "item_group") != SERVICE_LINES[code]:
			frappe.db.set_value("Item", code, "item_group", SERVICE_LINES[code])  # demo made before the lines
	make_previous_fiscal_year()
	for gender in ("Male", "Female"):
		get_or_insert("Gender", gender, gender=gender)


def make_business_lines() -> None:
	"""The business lines (业务线) of the demo's services, all under the group 环保服务: 危废处置 and 检测
	(the seed's referral reward rules) and 环评咨询 (no rule)."""
	root_items = frappe.db.get_value("Item Group", {"is_group": 1, "parent_item_group": ("in", ("", None))})
	get_or_insert(
		"Item Group", SERVICES_GROUP, item_group_name=SERVICES_GROUP, parent_item_group=root_items, is_group=1
	)
	if not frappe.db.get_value("Item Group", SERVICES_GROUP, "is_group"):  # a demo made before the lines
		group = frappe.get_doc("Item Group", SERVICES_GROUP)
		group.is_group = 1
		group.save(ignore_permissions=True)
	for line in dict.fromkeys(SERVICE_LINES.values()):
		get_or_insert("Item Group", line, item_group_name=line, parent_item_group=SERVICES_GROUP, is_group=0)
		group = frappe.get_doc("Item Group", line)
		if group.parent_item_group != SERVICES_GROUP:  # made under the root by ensure_business_lines
			group.parent_item_group = SERVICES_GROUP
			group.save(ignore_permissions=True)


def make_previous_fiscal_year() -> None:
	"""Invoices go back a year, so last calendar year needs a fiscal year too."""
	year = getdate(nowdate()).year - 1
	if not frappe.db.exists("Fiscal Year", {"year_start_date": f"{year}-01-01"}):
		get_or_insert(
			"Fiscal Year",
			str(year),
			year=str(year),
			year_start_date=f"{year}-01-01",
			year_end_date=f"{year}-12-31",
		)


def make_users(company: str) -> list[DemoUser]:
	"""Sales users and a manager, each with an Employee and a Sales Person in the sales team."""
	root_sales = frappe.db.get_value(
		"Sales Person", {"is_group": 1, "parent_sales_person": ("in", ("", None))}
	)
	for user in DEMO_USERS:
		if not frappe.db.exists("User", user.email):
			doc = frappe.get_doc(
				{
					"doctype": "User",
					"email": user.email,
					"first_name": user.full_name,
					"send_welcome_email": 0,
					"new_password": DEMO_PASSWORD,
					"roles": [{"role": role} for role in user.roles],  # one save: one cache clear
				}
			)
			doc.flags.no_welcome_mail = True
			doc.insert(ignore_permissions=True)
		employee = frappe.db.get_value("Employee", {"user_id": user.email})
		if not employee:
			employee = (
				frappe.get_doc(
					{
						"doctype": "Employee",
						"first_name": user.full_name,
						"gender": user.gender,
						"date_of_birth": "1990-01-01",
						"date_of_joining": "2020-03-01",
						"company": company,
						"user_id": user.email,
						"status": "Active",
					}
				)
				.insert(ignore_permissions=True)
				.name
			)
		if SALES_USER in user.roles and not frappe.db.exists("Sales Person", {"employee": employee}):
			get_or_insert(
				"Sales Person",
				user.full_name,
				sales_person_name=user.full_name,
				parent_sales_person=root_sales,
				employee=employee,
				is_group=0,
			)
	return list(DEMO_USERS)


def make_pools(users: list[DemoUser]) -> None:
	"""Regional pools 华东公海 and 华南公海 and the default pool 默认公海; members are the sales users of
	the region (all of them for the default pool), the manager is a pool admin. Created when missing."""
	manager = [{"user": u.email, "is_admin": 1} for u in users if SALES_MANAGER in u.roles]
	for pool_name, region in REGIONAL_POOLS.items():
		members = manager + [{"user": u.email} for u in users if u.territory == region]
		get_or_insert(
			"Customer Pool",
			pool_name,
			pool_name=pool_name,
			territory=region,
			enabled=1,
			require_review=1,
			members=members,
		)
	make_default_pool()
	default = frappe.db.get_value("Customer Pool", {"is_default": 1}) or DEFAULT_POOL
	if frappe.db.exists("Customer Pool", default) and not frappe.db.exists(
		"Customer Pool Member", {"parenttype": "Customer Pool", "parent": default}
	):
		pool = frappe.get_doc("Customer Pool", default)
		for member in manager + [{"user": u.email} for u in users if u.territory]:
			pool.append("members", member)
		pool.save(ignore_permissions=True)
	set_pool_rules(manager[0]["user"] if manager else None)


def set_pool_rules(manager: str | None) -> None:
	"""The manager sets each demo pool's rules (POOL_RULES) on its form, when it has none yet; the
	pool's controller applies them to its customers' due dates at once."""
	default = frappe.db.get_value("Customer Pool", {"is_default": 1}) or DEFAULT_POOL
	with acting_as_owner() as act_as:
		for pool_name, rules in POOL_RULES.items():
			name = default if pool_name == DEFAULT_POOL else pool_name
			if not frappe.db.exists("Customer Pool", name):
				continue
			pool = frappe.get_doc("Customer Pool", name)
			if any(pool.get(field) for field in RULE_FIELDS):
				continue
			act_as(manager)
			pool.update({k: v for k, v in rules.items() if k != "grade_rules"})
			for row in rules.get("grade_rules", []):
				pool.append("grade_rules", row)
			pool.save()


# --- leads, customers, invoices ------------------------------------------------------------------


def person_name(rng: random.Random) -> str:
	return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)


def mobile(rng: random.Random) -> str:
	return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def generate_leads(rng: random.Random, count: int, sales_users: list[DemoUser]) -> Iterator[DemoLead]:
	"""`count` distinct leads; about 40% owned by the salesperson of their region, the rest unowned."""
	seen: set[str] = set()  # normalized company names: intake refuses duplicates
	mobiles: set[str] = set()
	by_region = {u.territory: u.email for u in sales_users}
	regions = list(REGIONS)
	for i in range(count):
		region = rng.choice(regions)
		province = rng.choice(list(REGIONS[region]))
		city = rng.choice(REGIONS[region][province])
		industry = rng.choice(list(INDUSTRIES))
		name = ""
		while not name or normalize.normalize_company_name(name) in seen:
			name = f"{city}{rng.choice(BRAND_WORDS)}{rng.choice(INDUSTRIES[industry])}{rng.choice(SUFFIXES)}"
			if normalize.normalize_company_name(name) in seen:
				name = f"{city}{rng.choice(BRAND_WORDS)}{rng.choice(BRAND_WORDS)}{rng.choice(INDUSTRIES[industry])}{rng.choice(SUFFIXES)}"
		seen.add(normalize.normalize_company_name(name))
		owner = by_region.get(region) if rng.random() < 0.4 else None
		contact = person_name(rng)
		mobile_no = mobile(rng)
		while mobile_no in mobiles:
			mobile_no = mobile(rng)
		mobiles.add(mobile_no)
		yield DemoLead(
			company_name=name,
			lead_name=contact,
			mobile_no=mobile_no,
			email_id=f"contact{i:07d}@lead.{EMAIL_DOMAIN}",
			province=province,
			city=city,
			region=region,
			industry=industry,
			source=rng.choice(LEAD_SOURCES),
			owner=owner,
			uscc=demo_uscc(i, province) if i % 3 == 0 else None,
		)


def demo_uscc(index: int, province: str) -> str:
	"""A valid, unique 统一社会信用代码 for the demo lead `index` (enterprise, province, check character)."""
	first17 = f"91{DIVISION_CODES[province]}MA{index:07d}"
	return first17 + normalize.uscc_check_character(first17)


def insert_missing_leads(leads: list[DemoLead], commit: bool = True) -> int:
	"""Insert the leads whose email is not on the site yet, through the Lead controller (and intake:
	each lead becomes a pool customer). An owned lead is entered by its owner (首问负责)."""
	existing = set(
		frappe.get_all("Lead", filters={"email_id": ("like", f"%@lead.{EMAIL_DOMAIN}")}, pluck="email_id")
	)
	created = 0
	with acting_as_owner() as act_as:
		for lead in leads:
			if lead.email_id in existing:
				continue
			act_as(lead.owner)
			insert_lead(lead)
			created += 1
			if commit and created % 500 == 0:
				frappe.db.commit()
	return created


@contextmanager
def acting_as_owner():
	"""act_as(user): the next records are made by `user` (None: the current user), so that assigning
	a salesperson their own lead or customer notifies nobody; the user is restored afterwards."""
	session_user = frappe.session.user

	def act_as(user: str | None) -> None:
		if (user or session_user) != frappe.session.user:
			frappe.set_user(user or session_user)

	try:
		yield act_as
	finally:
		if frappe.session.user != session_user:
			frappe.set_user(session_user)


def insert_lead(lead: DemoLead) -> None:
	frappe.get_doc(
		{
			"doctype": "Lead",
			"company_name": lead.company_name,
			"lead_name": lead.lead_name,
			"first_name": lead.lead_name,
			"mobile_no": lead.mobile_no,
			"email_id": lead.email_id,
			"territory": lead.province,
			"industry": lead.industry,
			"source": lead.source,
			"city": lead.city,
			"state": lead.province,
			"country": "China",
			"lead_owner": lead.owner,
			"uscc": lead.uscc,
			"status": "Lead",
		}
	).insert(ignore_permissions=True)


def convert_some_leads(rng: random.Random, company: str, first_contact: set[str]) -> int:
	"""Turn about a third of the leads owned at intake (`first_contact`: their emails) into Customers
	(ERPNext's own Lead -> Customer mapping), by their owner."""
	from erpnext.crm.doctype.lead.lead import make_customer

	leads = frappe.get_all(
		"Lead",
		filters={"email_id": ("in", list(first_contact) or [""])},
		fields=["name", "industry", "lead_owner", "status"],
		order_by="email_id",
	)
	created = 0
	with acting_as_owner() as act_as:
		for lead in leads:
			# Decide from the seed, whatever the lead's current state, so re-runs stay deterministic.
			if rng.random() >= 0.35 or lead.status == "Converted" or not lead.lead_owner:
				continue
			if frappe.db.exists("Customer", {"lead_name": lead.name}):
				continue
			act_as(lead.lead_owner)  # the owner converts their lead
			customer = make_customer(lead.name)
			customer.customer_group = lead.industry
			customer.account_manager = lead.lead_owner
			customer.flags.ignore_permissions = True
			customer.insert()
			created += 1
	return created


def make_invoices(rng: random.Random, company: str, first_contact: set[str]) -> int:
	"""Submitted Sales Invoices over the last 12 months for about half of the demo customers converted
	from the leads owned at intake (`first_contact`: their emails; not those the story converts)."""
	leads = frappe.get_all("Lead", filters={"email_id": ("in", list(first_contact) or [""])}, pluck="name")
	customers = frappe.get_all(
		"Customer",
		filters={"lead_name": ("in", leads or [""])},
		fields=["name"],
		order_by="name",
	)
	invoiced = set(frappe.get_all("Sales Invoice", filters={"docstatus": 1}, pluck="customer"))
	shared = set(frappe.get_all("Customer Share", filters={"customer": ("is", "set")}, pluck="customer"))
	today = getdate(nowdate())
	created = 0
	for customer in customers:
		if customer.name in shared:
			continue  # the sharing story's customers buy by Sales Order; drawn for the leads' only
		plan = [rng.random() for _ in range(6)]  # drawn for every customer: stable across re-runs
		if plan[0] >= 0.5 or customer.name in invoiced:
			continue
		for k in range(1 + int(plan[1] * 4)):
			code = list(SERVICES)[int(plan[2] * len(SERVICES))]
			low, high = SERVICES[code][1]
			posting_date = add_days(today, -int(((plan[3] + k * 0.23) % 1) * 360))
			invoice = frappe.get_doc(
				{
					"doctype": "Sales Invoice",
					"company": company,
					"customer": customer.name,
					"currency": "CNY",
					"set_posting_time": 1,
					"posting_date": posting_date,
					"due_date": add_days(posting_date, 30),
					"items": [{"item_code": code, "qty": 1, "rate": round(low + (high - low) * plan[4], -2)}],
				}
			)
			invoice.flags.ignore_permissions = True
			invoice.insert()
			invoice.submit()
			created += 1
	return created


# --- sharing (客户资源共享, seed 000): shares, their customers' orders, last month's rewards --------------

# sharer, company, province, business line, business needed, estimated revenue (万元), stage, orders
# last month. Stages: shared (left in the pool), accepted (assigned to the region's salesperson),
# converted (a Customer). Orders: submitted Sales Orders of the line's service last month.
DEMO_SHARES: tuple[tuple[str, str, str, str, str, float, str, int], ...] = (
	(
		"zhao.min",
		"苏州恒远化工有限公司",
		"江苏",
		"危废处置",
		"废酸、废有机溶剂处置，年产生约 300 吨",
		40,
		"converted",
		2,
	),
	("zhao.min", "杭州博远制药有限公司", "浙江", "危废处置", "制药废液和过期药品处置", 35, "converted", 1),
	("zhao.min", "东莞新锐电子有限公司", "广东", "检测", "车间环境检测、职业卫生检测", 12, "accepted", 0),
	("zhao.min", "宁波海纳汽车配件有限公司", "浙江", "危废处置", "废切削液、含油废物", 20, "shared", 0),
	("zhang.wei", "广州瑞丰精密制造有限公司", "广东", "危废处置", "电镀污泥处置", 30, "converted", 4),
	("zhang.wei", "佛山金鼎机械有限公司", "广东", "危废处置", "废矿物油、废油漆桶", 25, "converted", 4),
	("zhang.wei", "厦门联创食品有限公司", "福建", "危废处置", "实验室废液", 8, "converted", 3),
	("li.na", "南京正泰装备有限公司", "江苏", "危废处置", "喷涂废物处置", 15, "shared", 0),
	("liu.yang", "天津永盛生物医药有限公司", "天津", "检测", "废水检测、环评监测", 8, "converted", 1),
)
LINE_ITEMS = {line: code for code, line in SERVICE_LINES.items()}
# who works each line (Sharing Settings: only they quote a shared customer for it)
LINE_STAFF = {"危废处置": ("liu.yang", "chen.jing"), "检测": ("zhang.wei", "li.na")}


def demo_email(key: str) -> str:
	return f"{key}@{EMAIL_DOMAIN}"


def make_shares(rng: random.Random, company: str) -> int:
	"""The sharing story: 赵敏 of 综合部 and three salespeople share customers with other business lines
	(one already a customer of ours: not rewardable); the manager approves most and the salesperson of
	their region claims them, some became Customers with orders last month; last month's rewards are computed,
	赵敏's submitted and approved, ready to pay. Shares are made by their sharers through the intake;
	only what is missing is made."""
	from erpnext.crm.doctype.lead.lead import make_customer
	from frappe.model.workflow import apply_workflow

	from crm_pool.pool.ownership import claim
	from crm_pool.sharing import rewards
	from crm_pool.sharing.model import CUSTOMER_SHARE, DRAFT, REWARD, SUBMITTED

	make_sharing_settings(company)
	manager = next(u.email for u in DEMO_USERS if SALES_MANAGER in u.roles)
	region_user = {u.territory: u.email for u in DEMO_USERS if u.territory}
	created = 0
	with acting_as_owner() as act_as:
		existing = frappe.get_all(
			"Lead",
			filters={"email_id": ("like", f"%@lead.{EMAIL_DOMAIN}")},
			pluck="company_name",
			order_by="email_id",
			limit=1,
		)
		plan = [*DEMO_SHARES]
		if existing:  # 赵敏 also shares a company we already serve: recorded, not rewardable
			plan.append(("zhao.min", existing[0], "江苏", "危废处置", "危废处置咨询", 10, "shared", 0))
		for sharer, company_name, province, line, need, estimate, stage, orders in plan:
			if frappe.db.exists(CUSTOMER_SHARE, {"company_name": company_name}):
				continue
			act_as(demo_email(sharer))
			share = frappe.get_doc(
				{
					"doctype": CUSTOMER_SHARE,
					"company_name": company_name,
					"territory": province,
					"business_line": line,
					"business_needed": need,
					"estimated_revenue": estimate,
					"contact_person": person_name(rng),
					"mobile_no": mobile(rng),
					"address": f"{province}{REGIONS[region_of(province)][province][0]}市工业园区 {rng.randint(1, 99)} 号",
				}
			).insert()
			created += 1
			if stage == "shared" or not share.pool_customer:
				continue
			act_as(manager)  # the manager approves the new customer (审核) ...
			pc = frappe.get_doc("Pool Customer", share.pool_customer)
			if pc.review_status == "Pending":
				apply_workflow(pc, "Approve")
			salesperson = region_user.get(region_of(province)) or region_user["华东"]
			act_as(salesperson)  # ... and the region's salesperson claims it (领取)
			claim(share.pool_customer, salesperson)
			if stage != "converted":
				continue
			owner = frappe.db.get_value("Pool Customer", share.pool_customer, "owned_by")
			act_as(owner)
			customer = make_customer(share.lead)
			customer.customer_group = customer.customer_group or frappe.db.get_value(
				"Customer Group", {"is_group": 0}
			)
			customer.flags.ignore_permissions = True
			customer.insert()
			for k in range(orders):
				make_order(company, customer.name, LINE_ITEMS[line], rng, k)
	last_month = add_months(getdate(nowdate()).replace(day=1), -1)
	if created:
		rewards.compute(last_month, add_days(getdate(nowdate()).replace(day=1), -1), company=company)
		zhao = frappe.db.get_value(
			REWARD, {"sharer": demo_email("zhao.min"), "period_start": last_month, "workflow_state": DRAFT}
		)
		if zhao:
			with acting_as_owner() as act_as:
				act_as(manager)
				doc = frappe.get_doc(REWARD, zhao)
				apply_workflow(doc, "Submit")
				doc = frappe.get_doc(REWARD, zhao)
				if doc.workflow_state == SUBMITTED:
					act_as(manager)
					apply_workflow(doc, "Approve")
	return created


def tell_story() -> dict:
	"""Something to do for every login (crm_pool.demo_story): reviews, claims, requests, a transfer, a
	conflict, customers due for recycling, grades and visits, rewards to approve and pay."""
	manager = next(u.email for u in DEMO_USERS if SALES_MANAGER in u.roles)
	salespeople = {u.email.split("@")[0]: u.territory for u in DEMO_USERS if u.territory}
	return demo_story.tell(EMAIL_DOMAIN, manager, salespeople)


def region_of(province: str) -> str:
	return next(region for region, provinces in REGIONS.items() if province in provinces)


def make_order(company: str, customer: str, item_code: str, rng: random.Random, k: int) -> None:
	"""A submitted Sales Order of the service last month."""
	low, high = SERVICES[item_code][1]
	date = add_days(add_months(getdate(nowdate()).replace(day=1), -1), 2 + 6 * k % 26)
	order = frappe.get_doc(
		{
			"doctype": "Sales Order",
			"company": company,
			"customer": customer,
			"currency": "CNY",
			"transaction_date": date,
			"delivery_date": add_days(date, 30),
			"items": [{"item_code": item_code, "qty": 1, "rate": round(rng.uniform(low, high), -2)}],
		}
	)
	order.flags.ignore_permissions = True
	order.insert()
	order.submit()


def make_sharing_settings(company: str) -> None:
	"""Rewards are booked to 销售佣金 (sales commission, an expense account) against the employee's
	payable account; each line's staff listed. Left alone when already set."""
	settings = frappe.get_single("Sharing Settings")
	if settings.company:
		return
	leaves = {"company": company, "root_type": "Expense", "is_group": 0}
	expense = next(
		(
			account
			for name in ("销售佣金", "Commission on Sales", "市场营销费用", "Marketing Expenses")
			if (account := frappe.db.get_value("Account", {**leaves, "account_name": name}))
		),
		None,
	) or frappe.db.get_value("Account", leaves)
	settings.update(
		{
			"company": company,
			"reward_expense_account": expense,
			"payout_account": frappe.get_cached_value("Company", company, "default_payable_account"),
			"cost_center": frappe.get_cached_value("Company", company, "cost_center"),
		}
	)
	for line, staff in LINE_STAFF.items():
		for key in staff:
			settings.append("line_staff", {"business_line": line, "user": demo_email(key)})
	settings.save(ignore_permissions=True)


def format_summary(summary: dict) -> str:
	lines = [
		f"公司 company: {summary['company']}",
		f"线索 leads: {summary['leads_total']} (new {summary['leads_created']}), "
		f"客户 customers new {summary['customers_created']}, 发票 invoices new {summary['invoices_created']}, "
		f"共享 shares new {summary.get('shares_created', 0)}",
		"登录 logins (password for all: " + summary["password"] + "):",
	]
	story = summary.get("story") or {}
	lines.insert(
		-1,
		"故事 story: "
		+ ", ".join(f"{step} {n}" for step, n in story.items() if step != "seconds")
		+ " (seconds: "
		+ ", ".join(f"{step} {s}" for step, s in (story.get("seconds") or {}).items())
		+ ")",
	)
	for u in summary["logins"]:
		lines.append(f"  {u['user']:<34} {u['name']:<6} {', '.join(u['roles'])}")
		found = demo_story.format_found(summary.get("found", {}).get(u["user"], {}))
		if found:
			lines.append(f"      finds: {found}")
	return "\n".join(lines)
