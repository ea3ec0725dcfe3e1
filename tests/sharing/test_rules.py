"""Referral Reward Rules (SPEC §5, seed 000): the tiers' boundaries through `tier_matches` and `best`
for both seed rules (shipped with the app: sharing/seed_rules.json), the highest reward over tiers and rules
(按最高奖金), and the Rule form's validation."""

from decimal import Decimal

import frappe
import pytest

from crm_pool.core.errors import PoolRuleError
from crm_pool.sharing import rules
from crm_pool.sharing.rules import TESTING, WASTE, best, tier_matches


@pytest.fixture
def seed(site):
	"""The seed's rules as the test site has them (made after the setup wizard and every migrate)."""
	found = {r.name: r for r in rules.enabled_rules()}
	assert {WASTE, TESTING} <= set(found), found
	return found


def amount(seed, name: str, contracts: int = 0, revenue=0) -> Decimal:
	return best([seed[name]], {name: (contracts, revenue)})[2]


def test_the_seed_rules_and_lines_ship_with_the_app(seed):
	for line in (WASTE, TESTING):
		assert frappe.db.exists("Item Group", line)
		assert seed[line].business_line == line
		assert len(seed[line].tiers) == 2
	assert seed[WASTE].estimated  # 预估总营业额
	assert not seed[TESTING].estimated  # 合同总金额
	assert rules.ensure_business_lines() == []  # idempotent
	assert rules.ensure_seed_rules() == []


def test_a_managers_change_to_a_seed_rule_survives_the_next_migrate(seed):
	rule = frappe.get_doc("Referral Reward Rule", TESTING)
	rule.tiers[0].reward_amount = 600
	rule.save(ignore_permissions=True)
	rules.ensure_business_lines()  # what every migrate runs for sharing (setup.install.setup_service)
	rules.ensure_seed_rules()
	assert frappe.db.get_value("Referral Reward Tier", rule.tiers[0].name, "reward_amount") == 600
	frappe.delete_doc("Referral Reward Rule", TESTING, ignore_permissions=True, force=True)
	assert rules.ensure_seed_rules() == [TESTING]  # a missing seed rule comes back as written
	assert [t.reward_amount for t in frappe.get_doc("Referral Reward Rule", TESTING).tiers] == [500, 1000]


@pytest.mark.parametrize(
	"contracts,expected", [(0, 0), (10, 0), (11, 500), (20, 500), (21, 1000), (500, 1000)]
)
def test_contract_boundaries_of_both_rules(seed, contracts, expected):
	assert amount(seed, WASTE, contracts=contracts) == expected
	assert amount(seed, TESTING, contracts=contracts) == expected


@pytest.mark.parametrize(
	"revenue,expected",
	[(0, 0), (50, 0), ("50.00", 0), (50.01, 500), (Decimal("50.01"), 500), (200, 500), (200.01, 1000)],
)
def test_estimated_revenue_boundaries_of_the_waste_rule(seed, revenue, expected):
	assert amount(seed, WASTE, revenue=revenue) == expected


@pytest.mark.parametrize(
	"revenue,expected", [(10, 0), (10.01, 500), (50, 500), (50.01, 1000), (0.1 + 0.2 + 49.7, 500)]
)
def test_contract_amount_boundaries_of_the_testing_rule(seed, revenue, expected):
	# 0.1 + 0.2 + 49.7 is 50.00000000000001 as a float: still 50 万元, tier 1
	assert amount(seed, TESTING, revenue=revenue) == expected


def test_either_measure_and_the_higher_tier_wins(seed):
	tier1, tier2 = seed[WASTE].tiers
	assert tier_matches(tier1, 11, 0) and tier_matches(tier1, 0, 51) and not tier_matches(tier1, 0, 0)
	assert not tier_matches(tier2, 20, 200) and tier_matches(tier2, 0, 201)
	# contracts in tier 1, revenue in tier 2: the higher reward
	assert best([seed[WASTE]], {WASTE: (11, 201)}) == (seed[WASTE], 2, Decimal(1000))
	assert best([seed[WASTE]], {WASTE: (21, 60)}) == (seed[WASTE], 2, Decimal(1000))


def test_two_rules_matching_the_higher_wins(seed):
	both = [seed[WASTE], seed[TESTING]]
	rule, tier, reward = best(both, {WASTE: (11, 0), TESTING: (21, 0)})
	assert (rule.name, tier, reward) == (TESTING, 2, 1000)
	rule, tier, reward = best(both, {WASTE: (0, Decimal("200.01")), TESTING: (11, 0)})
	assert (rule.name, tier, reward) == (WASTE, 2, 1000)
	assert best(both, {WASTE: (10, 50), TESTING: (10, 10)}) == (None, 0, 0)
	assert best(both, {}) == (None, 0, 0)


def make_rule(line: str, tiers: list[dict]):
	return frappe.get_doc(
		{"doctype": "Referral Reward Rule", "business_line": line, "revenue_basis": "Actual", "tiers": tiers}
	)


@pytest.fixture
def line(site):
	group = frappe.get_doc(
		{
			"doctype": "Item Group",
			"item_group_name": f"测试业务线-{frappe.generate_hash(length=6)}",
			"parent_item_group": frappe.db.get_value("Item Group", {"is_group": 1}, "name"),
			"is_group": 0,
		}
	).insert(ignore_permissions=True)
	return group.name


@pytest.mark.parametrize(
	"tiers,message",
	[
		([], "at least one tier"),
		([{"reward_amount": 100}], "range"),
		([{"min_contracts": 20, "max_contracts": 10, "reward_amount": 100}], "below"),
		([{"min_revenue": 50, "max_revenue": 50, "reward_amount": 100}], "below"),
		([{"min_contracts": -1, "reward_amount": 100}], "negative"),
		([{"min_contracts": 5, "reward_amount": -1}], "negative"),
	],
)
def test_a_bad_rule_is_refused(line, tiers, message):
	with pytest.raises(PoolRuleError, match=message):
		make_rule(line, tiers).insert(ignore_permissions=True)
	assert not frappe.db.exists("Referral Reward Rule", line)


def test_a_good_rule_is_saved_and_read(line):
	make_rule(
		line,
		[
			{"min_contracts": 0, "max_contracts": 5, "reward_amount": 100},  # 5 ≥ X > 0
			{"min_revenue": 100, "reward_amount": 800},  # Y > 100, no contracts measure
		],
	).insert(ignore_permissions=True)
	rule = next(r for r in rules.enabled_rules() if r.name == line)
	assert best([rule], {line: (0, 0)})[2] == 0
	assert best([rule], {line: (1, 0)})[2] == 100
	assert best([rule], {line: (6, 0)})[2] == 0
	assert best([rule], {line: (6, Decimal("100.01"))})[2] == 800


def test_the_demo_services_are_in_their_business_lines(site):
	from crm_pool import demo
	from tests.factories import company

	demo.make_masters(company())
	assert frappe.db.get_value("Item Group", demo.SERVICES_GROUP, "is_group") == 1
	for code, line in demo.SERVICE_LINES.items():
		assert frappe.db.get_value("Item", code, "item_group") == line
		assert frappe.db.get_value("Item Group", line, "parent_item_group") == demo.SERVICES_GROUP
	assert demo.SERVICE_LINES["WF-DISPOSAL"] == WASTE and demo.SERVICE_LINES["JC-TESTING"] == TESTING
	assert not frappe.db.exists("Referral Reward Rule", demo.SERVICE_LINES["HP-CONSULT"])
