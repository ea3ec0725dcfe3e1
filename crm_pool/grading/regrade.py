"""The regrade (重新评级): one set-based job grading every customer a Customer Grade Rule covers.

Steps (crm_pool.grading.scores holds the SQL): the population of each enabled rule, most specific
first, into a work table; the invoice inputs in one aggregation per window length; scores, grades
(hysteresis, overrides), RFM segments and CLV per rule; then one INSERT … SELECT of Customer Grade
Log rows for the customers whose grade changed, one UPDATE of the Pool Customers whose grading
changed, and the recycle due dates of the regraded customers (the pool's grade rules read
`pc.grade`). Monthly (scheduler_events) and on demand from a rule's form (`enqueue`).
"""

import time

import frappe
from frappe import _
from frappe.utils import now_datetime, nowdate

from crm_pool.core.setbased import work_table
from crm_pool.grading import rules, scores
from crm_pool.grading.scores import TABLE
from crm_pool.pool.followup import _recompute_where

JOB_TIMEOUT = 3600
PROGRESS_TITLE = "Regrade"

# Pool Customer field ← SQL over the work table `g`, written by the one UPDATE (Frappe's number
# columns are NOT NULL: an input the customer lacks is 0, with `profit_included` saying so).
PC_FIELDS = {
	"grade": "g.new_grade",
	"grade_score": "g.score",
	"score_monetary": "g.s_monetary",
	"score_frequency": "g.s_frequency",
	"score_recency": "g.s_recency",
	"score_profit": "COALESCE(g.s_profit, 0)",
	"profit_included": "g.has_cost",
	"score_repeat": "g.s_repeat",
	"score_potential": "g.s_potential",
	"rfm_segment": "g.segment",
	"clv": "g.clv",
	"grade_rule": "g.rule",
	"grade_override": "g.override",
	"net_invoiced": "g.monetary",
	"invoice_count": "g.frequency",
	"last_invoice_date": "g.last_date",
	"gross_profit": "COALESCE(g.profit, 0)",
	"purchase_months": "g.months",
	"average_order_value": "g.aov",
	"purchases_per_year": "g.per_year",
	"expected_lifetime_years": "g.lifetime",
}


def regrade(progress: bool = False, narrow: bool | None = None) -> dict:
	"""Regrade every customer covered by an enabled rule. Returns the run id and counts:
	{"run", "graded", "changed", "rules": {rule: {...}}, "seconds": {part: s}}. `narrow`: read only the
	covered customers' invoices (None: when they are few, `scores.add_inputs`)."""
	run = f"GR-{now_datetime():%Y%m%d%H%M%S}-{frappe.generate_hash(length=4)}"
	today, now = nowdate(), now_datetime()
	names = rules.enabled_rules()
	loaded = [rules.load(n) for n in names]
	result = {"run": run, "graded": 0, "changed": 0, "rules": {}, "seconds": {}}
	steps = 3 + 3 * len(loaded)
	clock = [time.monotonic()]

	def mark(what: str) -> None:
		"""Seconds of each part of the run (for the benchmark)."""
		now_s = time.monotonic()
		result["seconds"][what] = round(result["seconds"].get(what, 0) + now_s - clock[0], 3)
		clock[0] = now_s

	def tick(step: int, what: str) -> None:
		if progress:
			frappe.publish_progress(step * 100 / steps, title=_(PROGRESS_TITLE), description=_(what))

	with (
		work_table(TABLE, scores.TABLE_COLUMNS),
		work_table(scores.RANKS, scores.RANK_COLUMNS),
		work_table(scores.INVOICES, scores.INVOICE_COLUMNS),
		work_table(scores.COSTS, scores.COST_COLUMNS),
	):
		for rule in loaded:
			result["rules"][rule.name] = {"graded": scores.add_population(rule)}
		mark("population")
		tick(1, "Reading invoices")
		scores.add_inputs({r.window_months for r in loaded}, today, narrow)
		mark("invoices")
		step = 1
		for rule in loaded:
			step += 1
			tick(step, "Scoring")
			scores.score(rule)
			step += 1
			scores.grade(rule, today)
			step += 1
			stats = scores.segment_and_clv(rule)
			result["rules"][rule.name].update(stats)
		mark("scores")
		tick(step + 1, "Writing grades")
		result["changed"] = write_log(run, now)
		mark("log")
		result["graded"] = write_pool_customers(now)
		mark("pool customers")
		if result["changed"]:
			_recompute_where(f"pc.name IN (SELECT g.name FROM `{TABLE}` g WHERE g.changed = 1)", {})
		mark("due dates")
		# an override that ended on a customer no rule grades any more: the grade stays, the link goes
		frappe.db.sql(
			f"""UPDATE `tabPool Customer` pc JOIN `tabCustomer Grade Override` o ON o.name = pc.grade_override
			SET pc.grade_override = NULL
			WHERE (o.expiry_date < %(today)s OR o.workflow_state != 'Approved')
				AND pc.name NOT IN (SELECT g.name FROM `{TABLE}` g)""",
			{"today": today},
		)
		changed_by_rule = dict(frappe.db.sql(f"SELECT rule, SUM(changed) FROM `{TABLE}` GROUP BY rule"))
	for rule in loaded:
		stats = result["rules"][rule.name]
		stats["changed"] = int(changed_by_rule.get(rule.name) or 0)
		record_run(rule, run, now, stats)
	mark("rest")
	tick(steps, "Done")
	return result


def write_log(run: str, now) -> int:
	"""One Customer Grade Log row per customer whose grade changed (INSERT … SELECT). Returns the rows."""
	user = frappe.session.user
	frappe.db.sql(
		f"""INSERT INTO `tabCustomer Grade Log` (name, creation, modified, owner, modified_by, docstatus, idx,
			pool_customer, customer_name, from_grade, to_grade, why, run, at, rule, override, score,
			score_monetary, score_frequency, score_recency, score_profit, score_repeat, score_potential)
		SELECT CONCAT(%(run)s, '-', g.name), %(now)s, %(now)s, %(user)s, %(user)s, 0, 0,
			g.name, g.customer_name, g.old_grade, g.new_grade, g.why, %(run)s, %(now)s, g.rule, g.override, g.score,
			g.s_monetary, g.s_frequency, g.s_recency, COALESCE(g.s_profit, 0), g.s_repeat, g.s_potential
		FROM `{TABLE}` g WHERE g.changed = 1""",
		{"run": run, "now": now, "user": user},
	)
	return frappe.db.sql("SELECT ROW_COUNT()")[0][0]


def write_pool_customers(now) -> int:
	"""One UPDATE of the Pool Customers whose grade, score, parts, segment or CLV changed. Returns
	the number of customers graded (the work table's rows)."""
	same = " AND ".join(f"pc.`{f}` <=> {c}" for f, c in PC_FIELDS.items() if f != "grade")
	sets = ", ".join(f"pc.`{f}` = {c}" for f, c in PC_FIELDS.items())
	frappe.db.sql(
		f"""UPDATE `tabPool Customer` pc JOIN `{TABLE}` g ON g.name = pc.name
		SET {sets}, pc.graded_at = %(now)s
		WHERE NOT (COALESCE(pc.grade, '') <=> COALESCE(g.new_grade, '') AND {same})""",
		{"now": now},
	)
	return frappe.db.sql(f"SELECT COUNT(*) FROM `{TABLE}`")[0][0]


def record_run(rule: rules.Rule, run: str, now, stats: dict) -> None:
	"""The rule's last run, churn, lifetime and whether profit counted."""
	costed, total = stats.get("costed", 0), stats.get("total", 0)
	if not rule.weights.get("profit"):
		note = _("Profit contribution has weight 0")
	elif costed == total:
		note = _("Profit contribution counted for all {0} customers").format(total)
	else:
		note = _(
			"ERPNext has no cost (incoming rate) for the items of {0} of {1} customers: their profit "
			"contribution is left out and its weight spread over their other inputs"
		).format(total - costed, total)
	frappe.db.set_value(
		"Customer Grade Rule",
		rule.name,
		{
			"last_run": run,
			"last_run_at": now,
			"last_graded": stats.get("graded", 0),
			"last_changed": stats.get("changed", 0),
			# 0 also when nobody bought in the previous window (then the lifetime is the window)
			"churn_rate": round((stats.get("churn") or 0) * 100, 2),
			"expected_lifetime_years": stats.get("lifetime"),
			"profit_note": note,
		},
		update_modified=False,
	)


# --- jobs ------------------------------------------------------------------------------------------


def run_monthly() -> None:
	"""scheduler_events "monthly": regrade everyone."""
	regrade()


def run_daily() -> None:
	"""scheduler_events "daily": regrade when an applied override has expired, so the computed grade
	returns the day after its expiry (nothing to do on most days)."""
	expired = frappe.db.sql(
		"""SELECT 1 FROM `tabPool Customer` pc JOIN `tabCustomer Grade Override` o ON o.name = pc.grade_override
		WHERE o.expiry_date < %(today)s OR o.workflow_state != 'Approved' LIMIT 1""",
		{"today": nowdate()},
	)
	if expired:
		regrade()


def run_job() -> dict:
	"""The background job of "Regrade now": with progress for the desk."""
	return regrade(progress=True)


def enqueue() -> str:
	"""Regrade in the background (long queue); returns the job id."""
	job = frappe.enqueue(
		"crm_pool.grading.regrade.run_job",
		queue="long",
		timeout=JOB_TIMEOUT,
		job_id="crm_pool_regrade",
		deduplicate=True,
	)
	return getattr(job, "id", None) or "crm_pool_regrade"
