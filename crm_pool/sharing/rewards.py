"""The monthly referral rewards (共享客户奖励, SPEC §5): from the real ERPNext documents of the shared
customers, a Draft Referral Reward per sharer and period with its evidence lines; clawbacks of frozen
rewards whose documents were cancelled or credited.

Set-based: per company, the drafts of the period go with one DELETE per table; one query reads the
counting shares, one aggregate per enabled rule and measure (contracts, actual revenue or estimates)
every counted document of every sharer at once, one UNION the cancellations and credit notes of
frozen rewards (and, only when there are some, three reads to re-evaluate those rewards); the new
rewards and lines are written with multi-row INSERTs. Python matches documents to shares, adds them
up and picks each sharer's tier. No per-share ORM loop.

What counts:
- a share counts when its sharer and customer are set, it is neither Not Rewardable nor Rejected, and
  the sharer does not own the customer (no reward for referring a customer to oneself);
- a contract (X) is a submitted Sales Order of the company dated in the period, of a customer shared
  for a line within the rule's line, with at least one item within the rule's line, never counted
  before (its key is in no Referral Reward Line: one contract rewarded once, ever — the UNIQUE
  contract_key is the guarantee, the anti-join the normal path);
- actual revenue (Y, 万元) is the Σ base_net_amount of the rule's items of the submitted, non-return
  Sales Invoices of those customers posted in the period, not counted before;
- estimated revenue (Y, 万元) is the Σ estimated_revenue of the sharer's shares for the line whose
  customer has a counted contract of the sharer in the period, each estimate counted once;
- when two sharers shared the same customer, a document counts for the earliest share's sharer.
Each sharer gets the highest reward over every tier of every rule (按最高奖金, `rules.best`); the
lines are every document counted for the sharer in the period (all rules: the one highest reward
rewards the period's contracts), each once, amounts in 元 (an estimate's too).

Clawbacks: a counted Sales Order or Sales Invoice cancelled later, or a counted invoice credited (a
submitted return against it), while its reward is frozen (Submitted, Approved, Paid): the frozen
reward is re-evaluated without the cancelled documents and with the credited amounts taken off its
revenue (today's tiers of the same rules); what it would lose, reward − new amount − what was
already taken back (never below 0), is taken back on the sharer's reward being computed (one is made
with reward 0 when there is none). The deduction is split evenly over the new cancelled/credited
documents (one Clawback line each, cents exact, the remainder on the first); their sum is what is
taken back from that reward. Key: clawback_key of the cancelled document's key, or of the credit
note's own revenue key (so a second credit note of the same invoice is taken back too). A frozen
reward itself is never changed.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import frappe
from frappe.utils import add_months, get_first_day, get_last_day, getdate, now_datetime, nowdate

from crm_pool.core.setbased import chunks
from crm_pool.sharing import rules as reward_rules
from crm_pool.sharing.model import (
	CLAWBACK,
	CONTRACT,
	CUSTOMER_SHARE,
	DRAFT,
	ESTIMATE,
	FROZEN_STATES,
	NOT_REWARDABLE,
	REJECTED,
	REVENUE,
	REVENUE_UNIT,
	REWARD,
	REWARD_LINE,
	clawback_key,
	contract_key,
)

ORDER = "Sales Order"
INVOICE = "Sales Invoice"
EXCLUDED = (NOT_REWARDABLE, REJECTED)
ZERO = Decimal(0)
# A share counts: sharer and customer set, neither Not Rewardable nor Rejected, and the customer is
# not the sharer's own (nobody is rewarded for referring a customer to themselves: a sharer who claims
# the customer they shared sells it as its owner).
SHARE_COUNTS = (
	"cs.sharer IS NOT NULL AND cs.sharer != '' AND cs.customer IS NOT NULL AND cs.customer != '' "
	"AND cs.status NOT IN %(excluded)s AND NOT EXISTS (SELECT 1 FROM `tabPool Customer` own "
	"WHERE own.customer = cs.customer AND own.owned_by = cs.sharer)"
)


@dataclass
class Counted:
	"""One document counted for a sharer under one rule (an evidence line)."""

	kind: str
	doctype: str
	name: str
	sharer: str
	customer: str
	share: str
	share_created: object
	rule: str
	business_line: str
	posting_date: object
	amount: Decimal  # 元 (an estimate: its estimated revenue × 10,000)

	@property
	def key(self) -> str:
		return contract_key(self.kind, self.doctype, self.name)


# --- entry points ------------------------------------------------------------------------------------


def run_monthly() -> dict:
	"""The scheduler's monthly run: the previous month, every company."""
	start = get_first_day(add_months(nowdate(), -1))
	return compute(start, get_last_day(start))


def month_period(month: str) -> tuple[date, date]:
	"""'2026-11' → (2026-11-01, 2026-11-30). Raises ValueError for anything else."""
	year, _sep, mon = month.partition("-")
	if len(year) != 4 or len(mon) != 2 or not (year.isdigit() and mon.isdigit()) or not 1 <= int(mon) <= 12:
		raise ValueError(month)
	start = date(int(year), int(mon), 1)
	return start, getdate(get_last_day(start))


def compute(period_start, period_end, *, sharers=None, company=None, progress=None) -> dict:
	"""Compute the rewards of the period for every company (or `company`) and every sharer (or
	`sharers`): replace the sharers' Draft rewards of the period, write the new ones with their lines
	and the clawbacks of frozen rewards. `progress(percent, text)` is told how far it got. Returns
	{rewards, sharers, contracts, clawbacks, amount}."""
	start, end = getdate(period_start), getdate(period_end)
	sharers = list(sharers) if sharers else None
	companies = [company] if company else frappe.get_all("Company", pluck="name", order_by="name")
	rules = reward_rules.enabled_rules()
	all_rules = reward_rules.enabled_rules(include_disabled=True)
	summary = {"rewards": 0, "sharers": 0, "contracts": 0, "clawbacks": 0, "amount": ZERO}
	for done, comp in enumerate(companies):
		if progress:
			progress(100 * done / len(companies), comp)
		part = compute_company(start, end, comp, rules, all_rules, sharers)
		for key in summary:
			summary[key] += part[key]
	summary["amount"] = float(summary["amount"])
	frappe.logger("crm_pool").info(
		f"referral rewards {start}..{end} companies={companies} sharers={sharers or 'all'}: {summary}"
	)
	return summary


def compute_company(start: date, end: date, company: str, rules, all_rules, sharers) -> dict:
	"""One company's pass of `compute`. One pass per company at a time: the company's row is locked to
	the end of the transaction, so a second run (the scheduler's and a manager's "compute now" at
	once) waits, then replaces the first one's drafts instead of colliding on the contracts' keys."""
	frappe.db.sql("SELECT name FROM `tabCompany` WHERE name = %s FOR UPDATE", company)  # the lock
	frozen = frozen_sharers(start, end, company, sharers)
	delete_drafts(start, end, company, sharers)
	params = {
		"company": company,
		"start": start,
		"end": end,
		"excluded": EXCLUDED,
		"sharers": tuple(sharers or ("",)),
	}
	counted = counted_documents(rules, params, sharers)
	clawbacks = find_clawbacks(all_rules, params, sharers)
	by_sharer: dict[str, list[Counted]] = defaultdict(list)
	for doc in counted:
		if doc.sharer not in frozen:
			by_sharer[doc.sharer].append(doc)
	claws_by_sharer: dict[str, list[dict]] = defaultdict(list)
	for claw in clawbacks:
		if claw["sharer"] not in frozen:
			claws_by_sharer[claw["sharer"]].append(claw)

	rewards, lines = [], []
	for sharer in sorted(set(by_sharer) | set(claws_by_sharer)):
		reward, reward_lines = build_reward(sharer, by_sharer[sharer], claws_by_sharer[sharer], rules)
		if reward:
			rewards.append(reward)
			lines.append(reward_lines)
	write(rewards, lines, start, end, company)
	return {
		"rewards": len(rewards),
		"sharers": len({r["sharer"] for r in rewards}),
		"contracts": sum(1 for ls in lines for line in ls if line["kind"] == CONTRACT),
		"clawbacks": sum(1 for ls in lines for line in ls if line["kind"] == CLAWBACK),
		"amount": sum((Decimal(str(r["net_amount"])) for r in rewards), ZERO),
	}


# --- what is counted ---------------------------------------------------------------------------------


def customers_of(column: str, sharers) -> str:
	"""SQL: `column` is a customer one of `sharers` shared (nothing when all sharers are computed).
	Every share of those customers is still read: a document counts for the earliest share."""
	if not sharers:
		return ""
	return (
		f" AND {column} IN (SELECT s2.customer FROM `tab{CUSTOMER_SHARE}` s2 WHERE s2.sharer IN %(sharers)s)"
	)


def counted_documents(rules, params: dict, sharers) -> list[Counted]:
	"""Every document that counts in the period, per rule, each key for one sharer (the earliest
	share's), of `sharers` only when given."""
	shares = counting_shares(params, sharers)
	rows: list[Counted] = []
	for rule in rules:
		p = params | {"lft": rule.lft, "rgt": rule.rgt}
		of_customer: dict[str, list] = defaultdict(list)
		for share in shares:
			if share.lft >= rule.lft and share.rgt <= rule.rgt:
				of_customer[share.customer].append(share)
		contracts = documents_of(rule, p, sharers, CONTRACT, of_customer)
		rows += contracts
		if rule.estimated:
			rows += estimates_of(rule, p, sharers, contracts)
		else:
			rows += documents_of(rule, p, sharers, REVENUE, of_customer)
	owner: dict[str, tuple] = {}
	for doc in rows:
		candidate = (doc.share_created, doc.share, doc.sharer)
		if doc.key not in owner or candidate < owner[doc.key]:
			owner[doc.key] = candidate
	return [d for d in rows if owner[d.key][2] == d.sharer and (not sharers or d.sharer in sharers)]


def counting_shares(params: dict, sharers) -> list:
	"""The shares that count (of the customers `sharers` shared, when given) with their line's
	lft/rgt: a few thousand rows, matched to each rule's documents in Python."""
	return frappe.db.sql(
		f"""SELECT cs.name, cs.sharer, cs.customer, cs.creation, sg.lft, sg.rgt
		FROM `tab{CUSTOMER_SHARE}` cs JOIN `tabItem Group` sg ON sg.name = cs.business_line
		WHERE {SHARE_COUNTS} {customers_of("cs.customer", sharers)}""",
		params,
		as_dict=True,
	)


# A document of a rule: a contract (Sales Order) or actual revenue (a non-return Sales Invoice).
DOCUMENTS = {
	CONTRACT: (ORDER, "`tabSales Order` d JOIN `tabSales Order Item` i", "d.transaction_date", ""),
	REVENUE: (
		INVOICE,
		"`tabSales Invoice` d JOIN `tabSales Invoice Item` i",
		"d.posting_date",
		"AND d.is_return = 0",
	),
}


def documents_of(rule, params: dict, sharers, kind: str, of_customer: dict) -> list[Counted]:
	"""The rule's contracts (submitted Sales Orders dated in the period) or actual revenue (submitted,
	non-return Sales Invoices posted in the period) of customers shared for a line within the rule's
	line, with at least one item of the line, not counted before; the amount of the line's items. One
	row per document and share of its customer. Raw SQL: one aggregate over the period's documents."""
	doctype, tables, date_column, extra = DOCUMENTS[kind]
	result = frappe.db.sql(
		f"""SELECT d.name, d.customer, {date_column} AS posting_date, SUM(i.base_net_amount) AS amount
		FROM {tables} ON i.parent = d.name AND i.parenttype = %(doctype)s
		JOIN `tabItem Group` ig ON ig.name = i.item_group
		WHERE d.docstatus = 1 AND d.company = %(company)s {extra}
			AND {date_column} BETWEEN %(start)s AND %(end)s
			AND ig.lft >= %(lft)s AND ig.rgt <= %(rgt)s
			AND d.customer IN (SELECT cs.customer FROM `tab{CUSTOMER_SHARE}` cs
				JOIN `tabItem Group` sg ON sg.name = cs.business_line
				WHERE sg.lft >= %(lft)s AND sg.rgt <= %(rgt)s AND {SHARE_COUNTS}
				{customers_of("cs.customer", sharers)})
			AND NOT EXISTS (SELECT 1 FROM `tab{REWARD_LINE}` rl
				WHERE rl.contract_key = CONCAT(%(prefix)s, d.name))
		GROUP BY d.name""",
		params | {"doctype": doctype, "prefix": contract_key(kind, doctype, "")},
		as_dict=True,
	)
	return [
		counted(
			kind,
			doctype,
			frappe._dict(r, sharer=share.sharer, share=share.name, share_created=share.creation),
			rule,
			reward_rules.money(r.amount),
		)
		for r in result
		for share in of_customer.get(r.customer, ())
	]


def estimates_of(rule, params: dict, sharers, contracts: list[Counted]) -> list[Counted]:
	"""The rule's estimated revenue: the shares for the line whose customer has a contract of the
	same sharer counted in the period, each estimate not counted before."""
	result = frappe.db.sql(
		f"""SELECT cs.name, cs.customer, cs.sharer, cs.name AS share, cs.creation AS share_created,
			cs.estimated_revenue
		FROM `tab{CUSTOMER_SHARE}` cs
		JOIN `tabItem Group` sg ON sg.name = cs.business_line
		WHERE sg.lft >= %(lft)s AND sg.rgt <= %(rgt)s
			AND {SHARE_COUNTS} {customers_of("cs.customer", sharers)}
			AND cs.customer IN (SELECT so.customer FROM `tabSales Order` so WHERE so.docstatus = 1
				AND so.company = %(company)s AND so.transaction_date BETWEEN %(start)s AND %(end)s)
			AND NOT EXISTS (SELECT 1 FROM `tab{REWARD_LINE}` rl
				WHERE rl.contract_key = CONCAT(%(prefix)s, cs.name))""",
		params | {"prefix": contract_key(ESTIMATE, CUSTOMER_SHARE, "")},
		as_dict=True,
	)
	first_contract: dict[tuple[str, str], object] = {}
	for c in contracts:
		pair = (c.sharer, c.customer)
		first_contract[pair] = min(first_contract.get(pair, c.posting_date), c.posting_date)
	rows = []
	for r in result:
		when = first_contract.get((r.sharer, r.customer))
		if when is None:
			continue  # no contract of this sharer for the customer in the period
		estimate = reward_rules.money(r.estimated_revenue)
		r.posting_date = when
		rows.append(counted(ESTIMATE, CUSTOMER_SHARE, r, rule, estimate * REVENUE_UNIT))
	return rows


def counted(kind: str, doctype: str, row, rule, amount: Decimal) -> Counted:
	return Counted(
		kind=kind,
		doctype=doctype,
		name=row.name,
		sharer=row.sharer,
		customer=row.customer,
		share=row.share,
		share_created=row.share_created,
		rule=rule.name,
		business_line=rule.business_line,
		posting_date=row.posting_date,
		amount=amount,
	)


def measures_of(docs, rules) -> dict[str, tuple[int, Decimal]]:
	"""Per rule: (contracts, revenue in 万元) of `docs` (Counted, or dicts of line fields)."""
	basis = {r.name: r.estimated for r in rules}
	contracts: dict[str, set] = defaultdict(set)
	cents: dict[str, int] = defaultdict(int)
	for d in docs:
		if d.kind == CONTRACT:
			contracts[d.rule].add(d.name)
		elif (d.kind == ESTIMATE and basis.get(d.rule)) or (
			d.kind == REVENUE and not basis.get(d.rule, True)
		):
			cents[d.rule] += int(d.amount * 100)  # 元, an estimate's too
	return {
		r: (len(contracts[r]), reward_rules.money(Decimal(cents[r]) / 100 / REVENUE_UNIT))
		for r in set(contracts) | set(cents)
	}


# --- one sharer's reward -----------------------------------------------------------------------------


def build_reward(sharer: str, docs: list[Counted], claws: list[dict], rules) -> tuple[dict | None, list]:
	"""The reward row and its line rows of `sharer` (None when there is no reward and no clawback)."""
	rule, tier, amount = reward_rules.best(rules, measures_of(docs, rules))
	if amount <= 0 and not claws:
		return None, []
	measures = measures_of(docs, rules).get(rule.name, (0, ZERO)) if rule else (0, ZERO)
	lines, seen = [], set()
	# each document once: under the winning rule when it counts there, else under its first rule
	for doc in sorted(docs, key=lambda d: (rule is None or d.rule != rule.name, d.rule)):
		if doc.key in seen:
			continue
		seen.add(doc.key)
		lines.append(
			{
				"kind": doc.kind,
				"reference_doctype": doc.doctype,
				"reference_name": doc.name,
				"customer": doc.customer,
				"customer_share": doc.share,
				"business_line": doc.business_line,
				"posting_date": doc.posting_date,
				"amount": float(doc.amount),
				"clawback_of": None,
				"contract_key": doc.key,
			}
		)
	lines.sort(key=lambda line: (str(line["posting_date"]), line["kind"], line["reference_name"]))
	clawed = sum((c["amount"] for c in claws), ZERO)
	lines += [{k: v for k, v in c.items() if k != "sharer"} | {"amount": float(c["amount"])} for c in claws]
	reward = {
		"sharer": sharer,
		"business_line": rule.business_line if rule else None,
		"rule": rule.name if rule else None,
		"tier": tier,
		"contracts": measures[0],
		"revenue": float(measures[1]),
		"reward_amount": float(amount),
		"clawback_amount": float(clawed),
		"net_amount": float(amount - clawed),
	}
	return reward, lines


# --- clawbacks ---------------------------------------------------------------------------------------


def find_clawbacks(rules, params: dict, sharers) -> list[dict]:
	"""Clawback line rows (with their sharer) for the frozen rewards of the company whose counted
	documents were cancelled or credited and not taken back yet."""
	frozen_from = f"FROM `tab{REWARD_LINE}` rl JOIN `tab{REWARD}` rr ON rr.name = rl.parent"
	frozen_where = (
		"rl.parenttype = %(reward)s AND rr.workflow_state IN %(frozen)s AND rr.company = %(company)s"
	)
	if sharers:
		frozen_where += " AND rr.sharer IN %(sharers)s"
	not_taken = (
		f"NOT EXISTS (SELECT 1 FROM `tab{REWARD_LINE}` c WHERE c.contract_key = CONCAT(%(claw)s, {{}}))"
	)
	columns = """rl.parent AS reward, rr.sharer, rl.customer, rl.customer_share, rl.business_line"""
	# Raw SQL: one statement finds every new event of every frozen reward of the company.
	cancelled = frappe.db.sql(
		f"""SELECT {columns}, rl.reference_doctype, rl.reference_name, DATE(d.modified) AS posting_date,
			rl.contract_key AS claw_of
		{frozen_from} JOIN `tabSales Order` d ON d.name = rl.reference_name
		WHERE {frozen_where} AND rl.kind = %(contract)s AND rl.reference_doctype = 'Sales Order'
			AND d.docstatus = 2 AND {not_taken.format("rl.contract_key")}
		UNION ALL
		SELECT {columns}, rl.reference_doctype, rl.reference_name, DATE(d.modified), rl.contract_key
		{frozen_from} JOIN `tabSales Invoice` d ON d.name = rl.reference_name
		WHERE {frozen_where} AND rl.kind = %(revenue)s AND rl.reference_doctype = 'Sales Invoice'
			AND d.docstatus = 2 AND {not_taken.format("rl.contract_key")}
		UNION ALL
		SELECT {columns}, 'Sales Invoice', cn.name, cn.posting_date, CONCAT(%(revenue_prefix)s, cn.name)
		{frozen_from} JOIN `tabSales Invoice` cn ON cn.return_against = rl.reference_name
		WHERE {frozen_where} AND rl.kind = %(revenue)s AND rl.reference_doctype = 'Sales Invoice'
			AND cn.is_return = 1 AND cn.docstatus = 1
			AND {not_taken.format("CONCAT(%(revenue_prefix)s, cn.name)")}""",
		params
		| {
			"reward": REWARD,
			"frozen": FROZEN_STATES,
			"claw": clawback_key(""),
			"contract": CONTRACT,
			"revenue": REVENUE,
			"revenue_prefix": contract_key(REVENUE, INVOICE, ""),
		},
		as_dict=True,
	)
	if not cancelled:
		return []
	events: dict[str, list] = defaultdict(list)
	for e in cancelled:
		events[e.reward].append(e)
	deductions = deductions_of(list(events), rules)
	result = []
	for reward, new in events.items():
		new.sort(key=lambda e: (str(e.posting_date), e.claw_of))
		for event, amount in zip(new, split(deductions[reward], len(new)), strict=True):
			result.append(
				{
					"sharer": event.sharer,
					"kind": CLAWBACK,
					"reference_doctype": event.reference_doctype,
					"reference_name": event.reference_name,
					"customer": event.customer,
					"customer_share": event.customer_share,
					"business_line": event.business_line,
					"posting_date": event.posting_date,
					"amount": amount,
					"clawback_of": reward,
					"contract_key": clawback_key(event.claw_of),
				}
			)
	return [c for c in result if c["amount"] > 0]


def split(total: Decimal, parts: int) -> list[Decimal]:
	"""`total` in `parts` equal shares to the cent, the remainder on the first."""
	cents = int(total * 100)
	each, rest = divmod(cents, parts)
	return [Decimal(each + (rest if i == 0 else 0)) / 100 for i in range(parts)]


def deductions_of(rewards: list[str], rules) -> dict[str, Decimal]:
	"""What each frozen reward loses now: reward − its amount re-evaluated without the cancelled
	documents and with the credited amounts off its revenue − what was already taken back (≥ 0)."""
	head = {
		r.name: r
		for r in frappe.get_all(REWARD, filters={"name": ("in", rewards)}, fields=["name", "reward_amount"])
	}
	lines = frappe.get_all(
		REWARD_LINE,
		filters={"parenttype": REWARD, "parent": ("in", rewards), "kind": ("!=", CLAWBACK)},
		fields=[
			"parent",
			"kind",
			"reference_doctype",
			"reference_name",
			"customer",
			"business_line",
			"amount",
		],
	)
	already = defaultdict(Decimal)
	for row in frappe.get_all(
		REWARD_LINE,
		filters={"kind": CLAWBACK, "clawback_of": ("in", rewards)},
		fields=["clawback_of", "amount"],
	):
		already[row.clawback_of] += reward_rules.money(row.amount)
	orders = {l.reference_name for l in lines if l.reference_doctype == ORDER} or {""}
	invoices = {l.reference_name for l in lines if l.reference_doctype == INVOICE} or {""}
	cancelled = set(
		frappe.get_all(ORDER, filters={"name": ("in", orders), "docstatus": 2}, pluck="name")
	) | set(frappe.get_all(INVOICE, filters={"name": ("in", invoices), "docstatus": 2}, pluck="name"))
	credited = credited_amounts(invoices, rules)
	rule_of_line = {r.business_line: r for r in rules}
	result = {}
	for reward in rewards:
		docs = []
		mine = [l for l in lines if l.parent == reward]
		live = {
			(l.business_line, l.customer)
			for l in mine
			if l.kind == CONTRACT and l.reference_name not in cancelled
		}
		for l in mine:
			rule = rule_of_line.get(l.business_line)
			if not rule or l.reference_name in cancelled:
				continue
			amount = reward_rules.money(l.amount)
			if l.kind == REVENUE:
				amount = max(ZERO, amount - credited.get((l.reference_name, rule.name), ZERO))
			if l.kind == ESTIMATE and (l.business_line, l.customer) not in live:
				continue  # its customer's contracts were all cancelled
			docs.append(
				frappe._dict(
					kind=l.kind,
					name=l.reference_name,
					rule=rule.name,
					amount=amount,
				)
			)
		_rule, _tier, amount = reward_rules.best(rules, measures_of(docs, rules))
		lose = reward_rules.money(head[reward].reward_amount) - amount - already[reward]
		result[reward] = max(ZERO, lose)
	return result


def credited_amounts(invoices: set, rules) -> dict[tuple[str, str], Decimal]:
	"""(invoice, rule) → the amount of the rule's items credited by submitted returns of the invoice."""
	rows = frappe.db.sql(
		"""SELECT cn.return_against, ig.lft, ig.rgt, -SUM(cni.base_net_amount) AS credited
		FROM `tabSales Invoice` cn
		JOIN `tabSales Invoice Item` cni ON cni.parent = cn.name AND cni.parenttype = 'Sales Invoice'
		JOIN `tabItem Group` ig ON ig.name = cni.item_group
		WHERE cn.is_return = 1 AND cn.docstatus = 1 AND cn.return_against IN %(invoices)s
		GROUP BY cn.return_against, ig.name""",
		{"invoices": tuple(invoices)},
		as_dict=True,
	)
	result: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
	for r in rows:
		for rule in rules:
			if r.lft >= rule.lft and r.rgt <= rule.rgt:
				result[(r.return_against, rule.name)] += reward_rules.money(r.credited)
	return result


# --- writing -----------------------------------------------------------------------------------------


def frozen_sharers(start: date, end: date, company: str, sharers) -> set[str]:
	"""Sharers whose reward of the period is already frozen: their period is done (never changed)."""
	filters = {
		"company": company,
		"period_start": start,
		"period_end": end,
		"workflow_state": ("in", FROZEN_STATES),
	}
	if sharers:
		filters["sharer"] = ("in", sharers)
	return set(frappe.get_all(REWARD, filters=filters, pluck="sharer"))


def delete_drafts(start: date, end: date, company: str, sharers) -> None:
	"""Delete the Draft rewards of the period (of `sharers`, or all) with their lines: recomputing
	replaces them. Raw SQL: two set-based DELETEs."""
	sharer_filter = " AND r.sharer IN %(sharers)s" if sharers else ""
	where = f"""r.company = %(company)s AND r.period_start = %(start)s AND r.period_end = %(end)s
		AND (r.workflow_state = %(draft)s OR IFNULL(r.workflow_state, '') = '') {sharer_filter}"""
	params = {"company": company, "start": start, "end": end, "draft": DRAFT, "sharers": tuple(sharers or ())}
	frappe.db.sql(
		f"""DELETE rl FROM `tab{REWARD_LINE}` rl JOIN `tab{REWARD}` r ON r.name = rl.parent
		WHERE rl.parenttype = '{REWARD}' AND {where}""",
		params,
	)
	frappe.db.sql(f"DELETE r FROM `tab{REWARD}` r WHERE {where}", params)


def write(rewards: list[dict], lines: list[list[dict]], start: date, end: date, company: str) -> None:
	"""Insert the Draft rewards and their lines in bulk (names from the reward's naming series)."""
	if not rewards:
		return
	currency = frappe.get_cached_value("Company", company, "default_currency")
	users = {
		u.name: u.full_name
		for u in frappe.get_all(
			"User", filters={"name": ("in", [r["sharer"] for r in rewards])}, fields=["name", "full_name"]
		)
	}
	employees = {}
	for e in frappe.get_all(
		"Employee",
		filters={"user_id": ("in", list(users)), "status": "Active"},
		fields=["name", "user_id"],
		order_by="creation asc",
	):
		employees.setdefault(e.user_id, e.name)
	names = reserve_names(len(rewards))
	line_rows = []
	for name, reward, reward_lines in zip(names, rewards, lines, strict=True):
		reward.update(
			name=name,
			sharer_name=users.get(reward["sharer"]),
			employee=employees.get(reward["sharer"]),
			company=company,
			currency=currency,
			period_start=start,
			period_end=end,
			workflow_state=DRAFT,
		)
		for idx, line in enumerate(reward_lines, 1):
			line_rows.append(
				line | {"parent": name, "parenttype": REWARD, "parentfield": "lines", "idx": idx}
			)
	insert_all(REWARD, rewards)
	insert_all(REWARD_LINE, line_rows)


def insert_all(doctype: str, rows: list[dict]) -> None:
	"""Insert `rows` (dicts with the same keys, a name each or a line's parent and idx) into
	`doctype`, 5,000 rows per statement, without controllers; a value the same in every row (the
	creation, the owner, a line's parenttype …) is written once into the statement. Raw SQL: Frappe's
	bulk_insert builds its statement with the query builder, which takes seconds per 10,000 lines."""
	now, user = now_datetime(), frappe.session.user
	for row in rows:
		row.setdefault("name", f"{row.get('parent')}-{row.get('idx')}")
	fixed = {"creation": now, "modified": now, "owner": user, "modified_by": user, "docstatus": 0}
	first = rows[0]
	same = fixed | {c: v for c, v in first.items() if all(row.get(c) == v for row in rows)}
	varying = [c for c in first if c not in same]
	# the constants as SQL literals (their % doubled: the statement is formatted once more)
	constants = frappe.db.mogrify(", ".join(["%s"] * len(same)), tuple(same.values())).replace("%", "%%")
	columns = ", ".join(f"`{c}`" for c in [*varying, *same])
	one = "(" + ", ".join(["%s"] * len(varying) + [constants]) + ")"
	for chunk in chunks(rows, 5000):
		frappe.db.sql(
			f"INSERT INTO `tab{doctype}` ({columns}) VALUES " + ", ".join([one] * len(chunk)),
			[row.get(c) for row in chunk for c in varying],
		)


def reserve_names(count: int) -> list[str]:
	"""`count` new names of Referral Rewards (format RR-{YYYY}-{#####}): Frappe counts such a format's
	numbers in the Series row "" (frappe.model.naming.parse_naming_series); reserved in one step."""
	year = now_datetime().strftime("%Y")
	current = frappe.db.sql("SELECT `current` FROM `tabSeries` WHERE `name` = '' FOR UPDATE")
	if not current:
		frappe.db.sql("INSERT INTO `tabSeries` (`name`, `current`) VALUES ('', 0)")
		first = 1
	else:
		first = int(current[0][0] or 0) + 1
	frappe.db.sql("UPDATE `tabSeries` SET `current` = %s WHERE `name` = ''", first + count - 1)
	return [f"RR-{year}-{n:05d}" for n in range(first, first + count)]


def compute_job(period_start, period_end, sharers=None) -> dict:
	"""`compute` as a background job, with its progress published to the desk."""
	from frappe import _

	def progress(percent: float, company: str) -> None:
		frappe.publish_progress(percent, title=_("Referral rewards"), description=company)

	return compute(period_start, period_end, sharers=sharers, progress=progress)
