"""Customer Grade Rules (客户分级规则): which rule grades which customer, what a rule holds, and the
shipped default.

A rule has grades (code, label, threshold; default A/B/C), the weights of its inputs, its window and
its scoring: percentile rank in the rule's population or fixed bands, thresholds by score or by share
of customers, and a hysteresis margin. One rule is the default; a rule may be limited to a pool, a
customer group or both: for each customer the most specific enabled rule applies (pool and group,
then pool, then group, then the default).
"""

from dataclasses import dataclass

import frappe
from frappe import _
from frappe.utils import flt

from crm_pool.core.errors import PoolRuleError

DEFAULT_RULE = "Default"
PERCENTILE = "Percentile Rank"
FIXED_BANDS = "Fixed Bands"
BY_SCORE = "Score"
BY_SHARE = "Share of Customers"
# The inputs of a grade, in the order of the rule's weights and the Pool Customer's score fields.
INPUTS = ("monetary", "frequency", "recency", "profit", "repeat", "potential")
DEFAULT_GRADES = (("A", "A", 80.0), ("B", "B", 50.0), ("C", "C", 0.0))
DEFAULT_WEIGHTS = {"monetary": 35, "frequency": 20, "recency": 15, "profit": 15, "repeat": 10, "potential": 5}


@dataclass(frozen=True)
class Grade:
	code: str
	label: str
	threshold: float


@dataclass(frozen=True)
class Rule:
	"""What the regrade reads of a Customer Grade Rule."""

	name: str
	pool: str | None
	customer_group: str | None
	window_months: int
	percentile: bool
	by_share: bool
	margin: float
	grades: tuple[Grade, ...]  # highest threshold first; the last one is the floor (threshold 0)
	weights: dict[str, float]
	full_monetary: float
	full_frequency: float
	zero_recency_days: int
	full_profit: float


def grade_codes() -> list[str]:
	"""The grade codes the Pool Customer's `grade` field allows (its options, Property Setters too)."""
	options = frappe.get_meta("Pool Customer").get_field("grade").options or ""
	return [o for o in options.split("\n") if o]


def load(name: str) -> Rule:
	"""The rule `name` as the regrade reads it."""
	doc = frappe.get_cached_doc("Customer Grade Rule", name)
	grades = sorted(
		(Grade(g.grade, g.label or g.grade, flt(g.threshold)) for g in doc.grades),
		key=lambda g: -g.threshold,
	)
	return Rule(
		name=doc.name,
		pool=doc.pool or None,
		customer_group=doc.customer_group or None,
		window_months=max(1, doc.window_months or 12),
		percentile=doc.scoring_method != FIXED_BANDS,
		by_share=doc.threshold_basis == BY_SHARE,
		margin=flt(doc.hysteresis_margin),
		grades=tuple(grades),
		weights={i: flt(doc.get(f"weight_{i}")) for i in INPUTS},
		full_monetary=flt(doc.full_monetary) or 1.0,
		full_frequency=flt(doc.full_frequency) or 1.0,
		zero_recency_days=doc.zero_recency_days or 365,
		full_profit=flt(doc.full_profit) or 1.0,
	)


def enabled_rules() -> list[str]:
	"""Names of the enabled rules, most specific first (pool and group, pool, group, the default)."""
	rules = frappe.get_all(
		"Customer Grade Rule",
		filters={"enabled": 1},
		fields=["name", "pool", "customer_group", "is_default"],
		order_by="name asc",
	)
	return [r.name for r in sorted(rules, key=lambda r: (-specificity(r), r.name))]


def specificity(rule) -> int:
	"""3: pool and customer group, 2: pool, 1: customer group, 0: the default (everyone)."""
	return (2 if rule.pool else 0) + (1 if rule.customer_group else 0)


# --- controller ------------------------------------------------------------------------------------


def validate(doc) -> None:
	"""Grades: known codes, each once, one floor at threshold 0; weights not all 0; one default rule;
	a non-default rule names a pool or a customer group; no two rules for the same scope."""
	if not doc.grades:
		doc.set("grades", [{"grade": c, "label": label, "threshold": t} for c, label, t in DEFAULT_GRADES])
	allowed = grade_codes()
	codes = [(g.grade or "").strip() for g in doc.grades]
	unknown = [c for c in codes if c not in allowed]
	if unknown:
		frappe.throw(
			_("Unknown grade {0}: the Pool Customer's grades are {1}").format(
				", ".join(unknown), ", ".join(allowed)
			),
			PoolRuleError,
		)
	if len(set(codes)) != len(codes):
		frappe.throw(_("Each grade may appear once"), PoolRuleError)
	thresholds = [flt(g.threshold) for g in doc.grades]
	if len(set(thresholds)) != len(thresholds):
		frappe.throw(_("Each grade needs its own threshold"), PoolRuleError)
	if min(thresholds) != 0:
		frappe.throw(
			_("The lowest grade's threshold must be 0, so every customer gets a grade"), PoolRuleError
		)
	if max(thresholds) > 100:
		frappe.throw(_("Thresholds are between 0 and 100"), PoolRuleError)
	doc.grades.sort(key=lambda g: -flt(g.threshold))
	for idx, g in enumerate(doc.grades, 1):
		g.idx = idx
	doc.weight_referral = 0  # a customer's referrals of others are not recorded (shares are employees')
	if not any(flt(doc.get(f"weight_{i}")) for i in INPUTS):
		frappe.throw(_("At least one input needs a weight above 0"), PoolRuleError)
	if doc.is_default and (doc.pool or doc.customer_group):
		frappe.throw(
			_("The default rule grades everyone: leave Pool and Customer Group empty"), PoolRuleError
		)
	if not doc.is_default and not (doc.pool or doc.customer_group):
		frappe.throw(_("Give a pool or a customer group, or make this the default rule"), PoolRuleError)
	same = frappe.get_all(
		"Customer Grade Rule",
		filters={
			"name": ("!=", doc.name or ""),
			"is_default": doc.is_default or 0,
			"pool": doc.pool or ("is", "not set"),
			"customer_group": doc.customer_group or ("is", "not set"),
		},
		pluck="name",
	)
	if same:
		frappe.throw(_("Rule {0} already covers the same customers").format(same[0]), PoolRuleError)


def ensure_default_rule() -> str:
	"""The shipped default rule (A ≥ 80, B ≥ 50, C; percentile rank; 12 months; margin 5), made if
	there is none (after_install and a patch). Returns its name."""
	existing = frappe.db.get_value("Customer Grade Rule", {"is_default": 1}, "name")
	if existing:
		return existing
	doc = frappe.get_doc(
		{
			"doctype": "Customer Grade Rule",
			"rule_name": DEFAULT_RULE,
			"enabled": 1,
			"is_default": 1,
			"window_months": 12,
			"scoring_method": PERCENTILE,
			"threshold_basis": BY_SCORE,
			"hysteresis_margin": 5,
			"grades": [{"grade": c, "label": label, "threshold": t} for c, label, t in DEFAULT_GRADES],
			**{f"weight_{i}": w for i, w in DEFAULT_WEIGHTS.items()},
		}
	)
	doc.insert(ignore_permissions=True)
	return doc.name
