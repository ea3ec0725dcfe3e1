"""What an allocation works with: the strategies, the members who may receive customers with the
numbers the strategies weigh, and each customer's outcome."""

from __future__ import annotations

from dataclasses import dataclass, field

from frappe import _

ROUND_ROBIN = "Round Robin"
LOAD_BALANCING = "Load Balancing"
RULE_BASED = "Rule Based"
SCORE_BASED = "Score Based"
STRATEGIES = (ROUND_ROBIN, LOAD_BALANCING, RULE_BASED, SCORE_BASED)

SCORE_PARTS = ("conversion", "capacity", "experience", "region")
DEFAULT_WEIGHTS = {"conversion": 0.4, "capacity": 0.3, "experience": 0.1, "region": 0.2}
CONVERSION_DAYS = 90
EXPERIENCE_FULL_MONTHS = 36  # experience counts fully from three years on
GRADE_ORDER = {"A": 0, "B": 1, "C": 2}
ENQUEUE_ABOVE = 500  # larger batches run as a background job (api.allocation.allocate)


@dataclass
class Member:
	"""A member who may receive customers, with the numbers the strategies weigh."""

	user: str
	full_name: str
	order: int
	territory: str | None = None
	owned: int = 0  # customers of the pool counted toward the cap
	active: int = 0  # owned or locked customers of the pool (the load)
	given: int = 0  # customers this batch gives the member
	skipped: str | None = None  # why the member took no (more) customers
	received_recently: int = 0  # customers taken on in the last 90 days (any pool)
	converted_recently: int = 0  # of which converted (Pool Log CONVERT) in the last 90 days
	experience_months: float = 0.0

	@property
	def load(self) -> int:
		return self.active + self.given

	@property
	def conversion(self) -> float:
		if not self.received_recently:
			return 0.0
		return min(1.0, self.converted_recently / self.received_recently)

	@property
	def experience(self) -> float:
		return min(1.0, self.experience_months / EXPERIENCE_FULL_MONTHS)

	def room(self, cap: int) -> int | None:
		"""Customers the member may still take under the cap; None without a cap."""
		return None if not cap else cap - self.owned - self.given

	def summary(self, cap: int) -> dict:
		return {
			"user": self.user,
			"full_name": self.full_name,
			"territory": self.territory,
			"owned_before": self.owned,
			"active_before": self.active,
			"given": self.given,
			"owned_after": self.owned + self.given,
			"cap": cap or None,
			"skipped": self.skipped,
			"conversion": round(self.conversion, 4),
			"experience_months": round(self.experience_months, 1),
		}


@dataclass
class Allocation:
	"""One customer's outcome: the member it goes to (None: it stays in the pool) and why."""

	pool_customer: str
	customer_name: str
	user: str | None
	reason: str
	score: dict | None = None
	candidates: list[dict] | None = None

	def as_dict(self, names: dict[str, str]) -> dict:
		row = {
			"pool_customer": self.pool_customer,
			"customer_name": self.customer_name,
			"user": self.user,
			"full_name": names.get(self.user) if self.user else None,
			"reason": self.reason,
		}
		if self.score is not None:
			row["score"] = self.score
			row["candidates"] = self.candidates
		return row


@dataclass
class AllocationResult:
	"""What `allocate` did (or, for a dry run, would do)."""

	pool: str
	strategy: str
	dry_run: bool
	cap: int = 0
	allocations: list[Allocation] = field(default_factory=list)  # customers given to a member
	unassigned: list[Allocation] = field(default_factory=list)  # customers left in the pool
	members: list[Member] = field(default_factory=list)
	pointer: str | None = None

	@property
	def assigned(self) -> dict[str, str]:
		"""{pool customer: member}"""
		return {a.pool_customer: a.user for a in self.allocations}

	@property
	def counts(self) -> dict[str, int]:
		"""{member: customers given by this batch}, every member included."""
		return {m.user: m.given for m in self.members}

	def as_dict(self, limit: int | None = None) -> dict:
		names = {m.user: m.full_name for m in self.members}
		return {
			"pool": self.pool,
			"strategy": self.strategy,
			"strategy_label": _(self.strategy),
			"dry_run": self.dry_run,
			"assigned_count": len(self.allocations),
			"unassigned_count": len(self.unassigned),
			"members": [m.summary(self.cap) for m in self.members],
			"allocations": [a.as_dict(names) for a in self.allocations[:limit]],
			"unassigned": [a.as_dict(names) for a in self.unassigned[:limit]],
			"pointer": self.pointer,
		}
