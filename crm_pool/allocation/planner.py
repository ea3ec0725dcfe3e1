"""The plan of an allocation (调配): a member per customer (or the reason it stays in the pool), by
the batch's strategy, in memory, keeping every member's numbers current (see `crm_pool.allocation.allocate`)."""

from __future__ import annotations

import math

import frappe
from frappe import _

from crm_pool.allocation.model import (
	LOAD_BALANCING,
	ROUND_ROBIN,
	RULE_BASED,
	SCORE_BASED,
	SCORE_PARTS,
	Allocation,
	AllocationResult,
	Member,
)

# Criteria of an allocation rule row, in the order they are shown.
RULE_CRITERIA = ("territory", "customer_group", "industry", "product_line", "grade")


class Planner:
	"""Chooses a member per customer, in memory, keeping every member's numbers current."""

	def __init__(self, result: AllocationResult, settings: frappe._dict, losses: dict[str, set[str]]):
		self.result = result
		self.settings = settings
		self.team = result.members
		self.cap = result.cap
		self.losses = losses
		self.trees = {
			"territory": tree("Territory"),
			"customer_group": tree("Customer Group"),
			"item_group": tree("Item Group"),
		}
		for member in self.team:
			if self.cap and member.owned >= self.cap:
				member.skipped = _("At the cap of {0} customers").format(self.cap)

	def eligible(self, member: Member, pc: frappe._dict) -> bool:
		if self.cap and member.room(self.cap) <= 0:
			return False
		return member.user not in self.losses.get(pc.name, ())

	def give(self, pc: frappe._dict, member: Member, reason: str, **score) -> None:
		member.given += 1
		if self.cap and member.room(self.cap) <= 0:
			member.skipped = _("Reached the cap of {0} customers").format(self.cap)
		self.result.allocations.append(Allocation(pc.name, pc.customer_name, member.user, reason, **score))

	def leave(self, pc: frappe._dict, reason: str) -> None:
		self.result.unassigned.append(Allocation(pc.name, pc.customer_name, None, reason))

	def nobody(self, pc: frappe._dict, among: list[Member] | None = None) -> str:
		among = self.team if among is None else among
		if self.cap and all(m.room(self.cap) <= 0 for m in among):
			return _("Every member is at the cap of {0} customers").format(self.cap)
		return _("No member may take it now: the others gave it up within the cooldown")

	def within(self, kind: str, value: str | None, ancestor: str | None) -> bool:
		"""`value` is `ancestor` or lies under it in the territory / customer group tree."""
		if not ancestor:
			return True
		if not value:
			return False
		if value == ancestor:
			return True
		nodes = self.trees.get(kind) or {}
		inner, outer = nodes.get(value), nodes.get(ancestor)
		return bool(inner and outer and outer[0] <= inner[0] and inner[1] <= outer[1])

	# round robin: the member whose turn it is, i.e. with the fewest customers of this batch, the
	# rotation starting after the pointer breaking ties
	def round_robin(self, customers: list[frappe._dict]) -> None:
		n = len(self.team)
		users = [m.user for m in self.team]
		start = (
			(users.index(self.settings.allocation_pointer) + 1) % n
			if self.settings.allocation_pointer in users
			else 0
		)
		turn = {m.user: (m.order - start) % n for m in self.team}
		last = None
		for pc in customers:
			eligible = [m for m in self.team if self.eligible(m, pc)]
			if not eligible:
				self.leave(pc, self.nobody(pc))
				continue
			member = min(eligible, key=lambda m: (m.given, turn[m.user]))
			self.give(pc, member, _("Round robin: {0}'s turn").format(member.full_name))
			last = member.user
		self.result.pointer = last or self.settings.allocation_pointer

	def load_balancing(self, customers: list[frappe._dict]) -> None:
		for pc in customers:
			eligible = [m for m in self.team if self.eligible(m, pc)]
			if not eligible:
				self.leave(pc, self.nobody(pc))
				continue
			member = min(eligible, key=lambda m: (m.load, m.order))
			self.give(
				pc,
				member,
				_("Load balancing: {0} had the fewest active customers ({1})").format(
					member.full_name, member.load
				),
			)

	def rule_groups(self) -> list[tuple[dict, list[Member], str]]:
		"""(criteria, members, label) of the pool's rules, most specific first; rows with the same
		criteria form one group. Members' territories follow as territory rules."""
		by_user = {m.user: m for m in self.team}
		groups: dict[tuple, list] = {}
		for row in self.settings.allocation_rules:
			criteria = {k: row.get(k) or None for k in RULE_CRITERIA}
			key = tuple(criteria.items())
			groups.setdefault(key, [criteria, [], row.idx, _("row {0}").format(row.idx)])
			if row.user in by_user and by_user[row.user] not in groups[key][1]:
				groups[key][1].append(by_user[row.user])
		ordered = sorted(groups.values(), key=lambda g: (-sum(1 for v in g[0].values() if v), g[2]))
		for member in self.team:
			if member.territory:
				criteria = {
					"territory": member.territory,
					"customer_group": None,
					"industry": None,
					"product_line": None,
					"grade": None,
				}
				ordered.append([criteria, [member], 10**6, _("member territory")])
		return [(g[0], g[1], g[3]) for g in ordered]

	def matches(self, criteria: dict, pc: frappe._dict) -> bool:
		return (
			self.within("territory", pc.territory, criteria["territory"])
			and self.within("customer_group", pc.customer_group, criteria["customer_group"])
			and (not criteria["industry"] or criteria["industry"] == pc.industry)
			and self.within("item_group", pc.product_line, criteria["product_line"])
			and (not criteria["grade"] or criteria["grade"] == pc.grade)
		)

	def rule_based(self, customers: list[frappe._dict]) -> None:
		groups = self.rule_groups()
		for pc in customers:
			matched = [
				(criteria, members, label)
				for criteria, members, label in groups
				if self.matches(criteria, pc)
			]
			if not matched:
				self.leave(pc, _("Matches no allocation rule ({0})").format(profile_label(pc)))
				continue
			for criteria, members, label in matched:
				eligible = [m for m in members if self.eligible(m, pc)]
				if eligible:
					member = min(eligible, key=lambda m: (m.load, m.order))
					self.give(
						pc,
						member,
						_("Rule {0} ({1}): {2}").format(label, criteria_label(criteria), member.full_name),
					)
					break
			else:
				criteria, members, label = matched[0]
				if any(m for _c, ms, _l in matched for m in ms):
					why = _(
						"Matches rule {0} ({1}), but its members are at the cap or gave it up within the cooldown"
					)
				else:
					why = _("Matches rule {0} ({1}), but none of its members is among those allocating")
				self.leave(pc, why.format(label, criteria_label(criteria)))

	def score_parts(self, member: Member, pc: frappe._dict, reference_load: int) -> dict[str, float]:
		if self.cap:
			capacity = max(0, member.room(self.cap)) / self.cap
		else:
			capacity = max(0.0, 1 - member.load / reference_load)
		region = 1.0 if member.territory and self.within("territory", pc.territory, member.territory) else 0.0
		return {
			"conversion": round(member.conversion, 4),
			"capacity": round(capacity, 4),
			"experience": round(member.experience, 4),
			"region": region,
		}

	def score_based(self, customers: list[frappe._dict]) -> None:
		weights = self.settings.weights
		# without a cap, capacity is measured against this batch's reference load
		reference_load = max(m.active for m in self.team) + math.ceil(len(customers) / len(self.team)) + 1
		for pc in customers:
			scored = []
			for member in self.team:
				if not self.eligible(member, pc):
					continue
				parts = self.score_parts(member, pc, reference_load)
				total = round(sum(weights[p] * parts[p] for p in SCORE_PARTS), 4)
				scored.append((member, total, parts))
			if not scored:
				self.leave(pc, self.nobody(pc))
				continue
			scored.sort(key=lambda s: (-s[1], s[0].load, s[0].order))
			member, total, parts = scored[0]
			self.give(
				pc,
				member,
				_(
					"Best score {0} of {1} members: conversion rate {2} × {3}, capacity left {4} × {5}, "
					"experience {6} × {7}, region match {8} × {9}"
				).format(
					total,
					len(scored),
					parts["conversion"],
					weights["conversion"],
					parts["capacity"],
					weights["capacity"],
					parts["experience"],
					weights["experience"],
					parts["region"],
					weights["region"],
				),
				score={"total": total, "parts": parts, "weights": dict(weights)},
				candidates=[
					{"user": m.user, "full_name": m.full_name, "total": t, "parts": p} for m, t, p in scored
				],
			)


def plan(
	result: AllocationResult,
	customers: list[frappe._dict],
	settings: frappe._dict,
	losses: dict[str, set[str]],
) -> None:
	"""Fill `result` with each customer's member (or reason to stay), by its strategy."""
	planner = Planner(result, settings, losses)
	{
		ROUND_ROBIN: planner.round_robin,
		LOAD_BALANCING: planner.load_balancing,
		RULE_BASED: planner.rule_based,
		SCORE_BASED: planner.score_based,
	}[result.strategy](customers)


def tree(doctype: str) -> dict[str, tuple[int, int]]:
	"""{node: (lft, rgt)} of a nested-set tree (Territory, Customer Group, Item Group: small tables)."""
	return {
		name: (lft, rgt)
		for name, lft, rgt in frappe.get_all(doctype, fields=["name", "lft", "rgt"], as_list=True)
	}


def criteria_label(criteria: dict) -> str:
	labels = {
		"territory": _("Territory"),
		"customer_group": _("Customer Group"),
		"industry": _("Industry"),
		"product_line": _("Product Line"),
		"grade": _("Customer Grade"),
	}
	return ", ".join(f"{labels[k]} {v}" for k, v in criteria.items() if v) or _("any customer")


def profile_label(pc: frappe._dict) -> str:
	return criteria_label(
		{
			"territory": pc.territory or "—",
			"customer_group": pc.customer_group or "—",
			"industry": pc.industry or "—",
			"product_line": pc.product_line or "—",
			"grade": pc.grade or "—",
		}
	)
