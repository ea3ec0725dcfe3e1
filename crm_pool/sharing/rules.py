"""Referral Reward Rules (共享客户奖励规则, SPEC §5, seed 000): one rule per business line (业务线: a node
of the Item Group tree), its tiers, which tier a sharer's month reaches, and the seed's business lines.

A tier holds two measures: contracts X (份/月) and revenue Y (万元). A measure is in a tier's range
when X > min and (no max or X ≤ max): the min is exclusive, the max inclusive, as in the seed's
"20≥X>10". A tier matches when either measure is in its range ("或"). A measure whose min and max are
both blank (0: Frappe stores a blank number as 0) is not used by the tier; a blank min of a used
measure is 0 (nothing never matches), a blank max is no upper bound. Revenue is compared as exact decimals rounded to 2 places (50 vs 50.01 万元, no float
surprises). When several tiers or several rules match, the highest reward wins (按最高奖金).
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import frappe
from frappe import _

from crm_pool.core.errors import PoolRuleError
from crm_pool.sharing.model import REWARD_RULE

ACTUAL = "Actual"  # revenue = the invoiced amount of the line's items (合同总金额)
ESTIMATED = "Estimated"  # revenue = the shares' estimated revenue (预估总营业额)
CENT = Decimal("0.01")

# The seed's business lines and their rules (shipped as fixtures: fixtures/referral_reward_rule.json).
WASTE = "危废处置"
TESTING = "检测"
BUSINESS_LINES = (WASTE, TESTING)


def money(value) -> Decimal:
	"""`value` as an exact decimal of 2 places (half up); None and "" are 0."""
	return Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Tier:
	"""One tier: the ranges of contracts and revenue (None: not used / no upper bound) and its reward."""

	min_contracts: int | None
	max_contracts: int | None
	min_revenue: Decimal | None
	max_revenue: Decimal | None
	reward_amount: Decimal

	@property
	def uses_contracts(self) -> bool:
		return self.min_contracts is not None or self.max_contracts is not None

	@property
	def uses_revenue(self) -> bool:
		return self.min_revenue is not None or self.max_revenue is not None


@dataclass(frozen=True)
class Rule:
	"""What the computation reads of a Referral Reward Rule: its line (Item Group subtree), basis,
	tiers in their order."""

	name: str
	business_line: str
	lft: int
	rgt: int
	estimated: bool
	tiers: tuple[Tier, ...]


def tier_of(row) -> Tier:
	"""A Tier from a Referral Reward Tier row (a blank number, stored as 0, is None)."""
	return Tier(
		min_contracts=int(row.min_contracts) if row.min_contracts else None,
		max_contracts=int(row.max_contracts) if row.max_contracts else None,
		min_revenue=money(row.min_revenue) if row.min_revenue else None,
		max_revenue=money(row.max_revenue) if row.max_revenue else None,
		reward_amount=money(row.reward_amount),
	)


def in_range(value, low, high) -> bool:
	"""value > low (a blank low is 0: a used measure needs something) and (no high or value ≤ high)."""
	return value > (low or 0) and (high is None or value <= high)


def tier_matches(tier: Tier, contracts: int, revenue) -> bool:
	"""Either measure in the tier's range (X > min and (max blank or X ≤ max)); revenue in 万元,
	compared as an exact decimal of 2 places."""
	if tier.uses_contracts and in_range(int(contracts or 0), tier.min_contracts, tier.max_contracts):
		return True
	return tier.uses_revenue and in_range(money(revenue), tier.min_revenue, tier.max_revenue)


def best(rules: list[Rule], measures: dict[str, tuple[int, Decimal]]) -> tuple[Rule | None, int, Decimal]:
	"""The highest reward over every matching tier of every rule (按最高奖金): (rule, tier number
	from 1, amount); (None, 0, 0) when nothing matches. `measures`: rule name → (contracts, revenue
	in 万元). On equal amounts the first rule (by name) and its first tier win."""
	winner: tuple[Rule | None, int, Decimal] = (None, 0, Decimal(0))
	for rule in rules:
		if rule.name not in measures:
			continue
		contracts, revenue = measures[rule.name]
		for idx, tier in enumerate(rule.tiers, 1):
			if tier.reward_amount > winner[2] and tier_matches(tier, contracts, revenue):
				winner = (rule, idx, tier.reward_amount)
	return winner


def enabled_rules(include_disabled: bool = False) -> list[Rule]:
	"""The enabled rules (all with `include_disabled`: re-evaluating a frozen reward) whose business
	line exists, by name, with their lines' lft/rgt (one read of the rules, one of their tiers)."""
	rows = frappe.db.sql(
		"""SELECT r.name, r.business_line, r.revenue_basis, ig.lft, ig.rgt
		FROM `tabReferral Reward Rule` r JOIN `tabItem Group` ig ON ig.name = r.business_line
		WHERE r.enabled = 1 OR %(all)s ORDER BY r.name""",
		{"all": 1 if include_disabled else 0},
		as_dict=True,
	)
	if not rows:
		return []
	tiers = frappe.get_all(
		"Referral Reward Tier",
		filters={"parenttype": REWARD_RULE, "parent": ("in", [r.name for r in rows])},
		fields=["parent", "min_contracts", "max_contracts", "min_revenue", "max_revenue", "reward_amount"],
		order_by="parent asc, idx asc",
	)
	by_rule: dict[str, list[Tier]] = {}
	for t in tiers:
		by_rule.setdefault(t.parent, []).append(tier_of(t))
	return [
		Rule(
			name=r.name,
			business_line=r.business_line,
			lft=r.lft,
			rgt=r.rgt,
			estimated=r.revenue_basis == ESTIMATED,
			tiers=tuple(by_rule.get(r.name, ())),
		)
		for r in rows
	]


# --- controller ------------------------------------------------------------------------------------


def validate(doc) -> None:
	"""The Rule form: at least one tier; each tier uses at least one measure; min < max where both are
	given; no negative bound; reward amounts ≥ 0. Translated refusals."""
	if not doc.tiers:
		frappe.throw(_("Add at least one tier"), PoolRuleError)
	for row in doc.tiers:
		tier = tier_of(row)
		if not (tier.uses_contracts or tier.uses_revenue):
			frappe.throw(
				_("Tier {0}: give a range of contracts or of revenue").format(row.idx), PoolRuleError
			)
		if (
			min(row.min_contracts or 0, row.max_contracts or 0, row.min_revenue or 0, row.max_revenue or 0)
			< 0
		):
			frappe.throw(_("Tier {0}: the ranges cannot be negative").format(row.idx), PoolRuleError)
		for low, high, label in (
			(tier.min_contracts, tier.max_contracts, _("contracts")),
			(tier.min_revenue, tier.max_revenue, _("revenue")),
		):
			if low is not None and high is not None and low >= high:
				frappe.throw(
					_("Tier {0}: the minimum of {1} must be below its maximum").format(row.idx, label),
					PoolRuleError,
				)
		if money(row.reward_amount) < 0:
			frappe.throw(_("Tier {0}: the reward cannot be negative").format(row.idx), PoolRuleError)


# --- the seed's business lines ---------------------------------------------------------------------


def ensure_business_lines(parent: str | None = None) -> list[str]:
	"""The Item Groups of the seed's rules (危废处置, 检测), made under `parent` (default: the root
	Item Group) when the tree exists. Idempotent; returns the groups made."""
	parent = parent or frappe.db.get_value(
		"Item Group", {"is_group": 1, "parent_item_group": ("in", ("", None))}, "name"
	)
	if not parent:
		return []
	made = []
	for line in BUSINESS_LINES:
		if frappe.db.exists("Item Group", line):
			continue
		frappe.get_doc(
			{"doctype": "Item Group", "item_group_name": line, "parent_item_group": parent, "is_group": 0}
		).insert(ignore_permissions=True)
		made.append(line)
	return made


SEED_RULES = "seed_rules.json"  # the seed's rules, as records (Frappe's fixture format)


def ensure_seed_rules() -> list[str]:
	"""The referral reward rules of seed 000 (危废处置, 检测; crm_pool/sharing/seed_rules.json): each
	made when its business line exists and it is missing. A rule that exists is left as the managers
	made it (Frappe's fixtures are re-imported at every migrate, which would undo their changes).
	Returns the rules made."""
	path = frappe.get_app_path("crm_pool", "sharing", SEED_RULES)
	with open(path, encoding="utf-8") as f:
		records = frappe.parse_json(f.read())
	made = []
	for record in records:
		if frappe.db.exists("Referral Reward Rule", record["name"]) or not frappe.db.exists(
			"Item Group", record["business_line"]
		):
			continue
		doc = frappe.get_doc({k: v for k, v in record.items() if k not in ("name", "modified")})
		doc.insert(ignore_permissions=True)
		made.append(doc.name)
	return made
