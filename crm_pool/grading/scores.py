"""The set-based SQL of a regrade: each customer's inputs from the submitted Sales Invoices, their
scores against the rule's population, the total score, the grade with hysteresis, the RFM segment
and the CLV, all as statements over the work table (`TABLE`), whatever the number of customers.

Inputs (window: the rule's last N months up to today):
- monetary: net invoiced (base_net_total; credit notes and returns count negative; cancelled and
  draft invoices ignored); frequency: invoices that are not returns; recency: days since the last
  invoice that is not a return (NULL: never bought); repeat purchase: months of the window with a
  purchase ÷ N; potential: the Customer's `potential_score` (0–100, set by hand).
- profit contribution: Σ (base_net_amount − incoming_rate × stock_qty) over the customer's invoice
  items that have a cost in ERPNext (incoming_rate > 0). A customer without such items has no profit
  score: its profit weight is spread over its other inputs (the score is a weighted mean of the
  inputs it has); the rule's `profit_note` says how many customers that was.

Scores (0–100): percentile rank of the input in the rule's population (PERCENT_RANK, ties share a
rank), or fixed bands: the value ÷ the rule's full-score value × 100, at most 100 (recency: 100 on
the day of an invoice down to 0 after the rule's days). The grade's value is the total score, or its
percentile (thresholds by share of customers: 80 = the top 20 %). A customer moves down only when
its value is below its current grade's threshold by more than the margin (hysteresis); an approved,
unexpired Customer Grade Override wins.

MariaDB cannot open one TEMPORARY table twice in a statement: ranks go through a second work table
(`RANKS`). Raw SQL throughout: these are the set-based writers of the regrade.
"""

import frappe

from crm_pool.grading.rules import INPUTS, Rule

TABLE = "crm_pool_grade"
RANKS = "crm_pool_grade_rank"
INVOICES = "crm_pool_grade_invoices"
COSTS = "crm_pool_grade_costs"

TABLE_COLUMNS = """
	name VARCHAR(140) NOT NULL PRIMARY KEY,
	customer VARCHAR(140) NOT NULL,
	customer_name VARCHAR(140),
	rule VARCHAR(140) NOT NULL,
	window_months INT NOT NULL,
	old_grade VARCHAR(10),
	old_override VARCHAR(140),
	potential DOUBLE NOT NULL DEFAULT 0,
	monetary DECIMAL(21,9) NOT NULL DEFAULT 0,
	frequency INT NOT NULL DEFAULT 0,
	last_date DATE,
	recency_days INT,
	profit DECIMAL(21,9),
	has_cost TINYINT NOT NULL DEFAULT 0,
	months INT NOT NULL DEFAULT 0,
	bought_prev TINYINT NOT NULL DEFAULT 0,
	s_monetary DOUBLE, s_frequency DOUBLE, s_recency DOUBLE, s_profit DOUBLE, s_repeat DOUBLE,
	s_potential DOUBLE,
	score DOUBLE, value DOUBLE,
	computed VARCHAR(10), new_grade VARCHAR(10),
	override VARCHAR(140), override_grade VARCHAR(10),
	why VARCHAR(140),
	segment VARCHAR(40),
	aov DECIMAL(21,9), per_year DOUBLE, lifetime DOUBLE, clv DECIMAL(21,9),
	changed TINYINT NOT NULL DEFAULT 0,
	KEY customer (customer), KEY rule (rule)
"""
RANK_COLUMNS = """
	name VARCHAR(140) NOT NULL PRIMARY KEY,
	r_monetary DOUBLE, r_frequency DOUBLE, r_recency DOUBLE, r_profit DOUBLE, r_repeat DOUBLE,
	r_potential DOUBLE, r_score DOUBLE
"""
INVOICE_COLUMNS = """
	customer VARCHAR(140) NOT NULL, window_months INT NOT NULL,
	monetary DECIMAL(21,9), frequency INT, last_date DATE, months INT, bought_prev TINYINT,
	profit DECIMAL(21,9), has_cost TINYINT,
	PRIMARY KEY (customer, window_months)
"""
COST_COLUMNS = """
	parent VARCHAR(140) NOT NULL PRIMARY KEY, profit DECIMAL(21,9)
"""

# Why a grade changed (Customer Grade Log `why`).
WHY_SCORE = "Score"
WHY_OVERRIDE = "Override"
WHY_OVERRIDE_EXPIRED = "Override Expired"

# RFM segments from R, F, M above (1) or below (0) the population's average.
SEGMENTS = {
	"111": "Important Value",  # 重要价值
	"011": "Important Keep",  # 重要保持
	"101": "Important Develop",  # 重要发展
	"001": "Important Retain",  # 重要挽留
	"110": "General Value",  # 一般价值
	"010": "General Keep",  # 一般保持
	"100": "General Develop",  # 一般发展
	"000": "General Retain",  # 一般挽留
}
MAX_LIFETIME_YEARS = 10.0
# Covering indexes of the two aggregations: the regrade reads the indexes, never the wide rows.
INVOICE_INDEX = "crm_pool_grading"
ITEM_INDEX = "crm_pool_grading_cost"
# Rules covering fewer than 1 in NARROW customers read only their customers' invoices.
NARROW = 5


def add_indexes() -> None:
	"""The covering indexes of the regrade's aggregations (on_doctype_update of Customer Grade Rule):
	Sales Invoice by customer with what the inputs read, Sales Invoice Item by invoice with its cost."""
	frappe.db.add_index(
		"Sales Invoice",
		["customer", "docstatus", "posting_date", "is_return", "base_net_total"],
		INVOICE_INDEX,
	)
	frappe.db.add_index(
		"Sales Invoice Item", ["parent", "incoming_rate", "base_net_amount", "stock_qty"], ITEM_INDEX
	)


def add_population(rule: Rule) -> int:
	"""The rule's customers into the work table with their Customer's potential: Pool Customers with a
	Customer, not invalid, of the rule's pool and customer group; a customer already taken by a more specific rule is kept there
	(INSERT IGNORE on the primary key). Returns the rows added."""
	conditions = ["pc.customer IS NOT NULL", "pc.customer != ''", "pc.status != 'Invalid'"]
	if rule.pool:
		conditions.append("pc.pool = %(pool)s")
	if rule.customer_group:
		conditions.append("pc.customer_group = %(customer_group)s")
	frappe.db.sql(
		f"""INSERT IGNORE INTO `{TABLE}`
			(name, customer, customer_name, rule, window_months, old_grade, old_override, potential)
		SELECT pc.name, pc.customer, pc.customer_name, %(rule)s, %(window)s, NULLIF(pc.grade, ''),
			pc.grade_override, LEAST(100, GREATEST(0, COALESCE(c.potential_score, 0)))
		FROM `tabPool Customer` pc JOIN `tabCustomer` c ON c.name = pc.customer
		WHERE {" AND ".join(conditions)}""",
		{
			"rule": rule.name,
			"window": rule.window_months,
			"pool": rule.pool,
			"customer_group": rule.customer_group,
		},
	)
	return frappe.db.sql("SELECT ROW_COUNT()")[0][0]


def add_inputs(windows: set[int], today: str, narrow: bool | None = None) -> None:
	"""Aggregate the submitted Sales Invoices (and the cost of their items) once per window length,
	then copy each work-table customer's inputs.

	Both aggregations read covering indexes (`add_indexes`): the costed items grouped by invoice, then
	the invoices grouped by customer with their invoice's cost joined by name. When the rules cover
	most customers they read every customer's invoices in index order (cheaper than looking each one
	up); when they cover few (`NARROW`; or as `narrow` says), only the work table's customers'."""
	if narrow is None:
		population = frappe.db.sql(f"SELECT COUNT(*) FROM `{TABLE}`")[0][0]
		narrow = population * NARROW < frappe.db.count("Customer")
	of_population = f"si.customer IN (SELECT g.customer FROM `{TABLE}` g)" if narrow else "1 = 1"
	frappe.db.sql(
		f"""INSERT INTO `{COSTS}` (parent, profit)
		SELECT sii.parent, SUM(sii.base_net_amount - sii.incoming_rate * sii.stock_qty)
		FROM `tabSales Invoice Item` sii
		{"JOIN `tabSales Invoice` si ON si.name = sii.parent" if narrow else ""}
		WHERE sii.incoming_rate > 0 AND {of_population}
		GROUP BY sii.parent"""
	)
	for window in sorted(windows):
		values = {"window": window, "today": today}
		start = "DATE_SUB(%(today)s, INTERVAL %(window)s MONTH)"
		previous = "DATE_SUB(%(today)s, INTERVAL 2 * %(window)s MONTH)"
		in_window = f"si.posting_date > {start}"
		of_window = (
			f"si.customer IN (SELECT g.customer FROM `{TABLE}` g WHERE g.window_months = %(window)s)"
			if narrow
			else "1 = 1"
		)
		frappe.db.sql(
			f"""INSERT INTO `{INVOICES}`
				(customer, window_months, monetary, frequency, last_date, months, bought_prev, profit, has_cost)
			SELECT si.customer, %(window)s,
				SUM(IF({in_window}, si.base_net_total, 0)),
				SUM({in_window} AND si.is_return = 0),
				MAX(IF(si.is_return = 0, si.posting_date, NULL)),
				COUNT(DISTINCT IF({in_window} AND si.is_return = 0, DATE_FORMAT(si.posting_date, '%%Y%%m'), NULL)),
				MAX(si.posting_date > {previous} AND NOT {in_window} AND si.is_return = 0),
				SUM(IF({in_window}, c.profit, 0)),
				MAX({in_window} AND c.parent IS NOT NULL)
			FROM `tabSales Invoice` si
			LEFT JOIN `{COSTS}` c ON c.parent = si.name
			WHERE si.docstatus = 1 AND si.posting_date <= %(today)s AND si.customer IS NOT NULL AND {of_window}
			GROUP BY si.customer""",
			values,
		)
	frappe.db.sql(
		f"""UPDATE `{TABLE}` g JOIN `{INVOICES}` i ON i.customer = g.customer AND i.window_months = g.window_months
		SET g.monetary = i.monetary, g.frequency = i.frequency, g.last_date = i.last_date,
			g.recency_days = DATEDIFF(%(today)s, i.last_date), g.months = i.months, g.bought_prev = i.bought_prev,
			g.has_cost = i.has_cost, g.profit = IF(i.has_cost, i.profit, NULL)""",
		{"today": today},
	)


def score(rule: Rule) -> None:
	"""Input scores, the total score and the grade's value of the rule's customers."""
	values = {"rule": rule.name}
	if rule.percentile:
		frappe.db.sql(f"DELETE FROM `{RANKS}`")
		frappe.db.sql(
			f"""INSERT INTO `{RANKS}` (name, r_monetary, r_frequency, r_recency, r_profit, r_repeat, r_potential)
			SELECT name,
				PERCENT_RANK() OVER (ORDER BY monetary),
				PERCENT_RANK() OVER (ORDER BY frequency),
				PERCENT_RANK() OVER (ORDER BY recency_days IS NULL DESC, recency_days DESC),
				PERCENT_RANK() OVER (PARTITION BY has_cost ORDER BY profit),
				PERCENT_RANK() OVER (ORDER BY months),
				PERCENT_RANK() OVER (ORDER BY potential)
			FROM `{TABLE}` WHERE rule = %(rule)s""",
			values,
		)
		frappe.db.sql(
			f"""UPDATE `{TABLE}` g JOIN `{RANKS}` r ON r.name = g.name
			SET g.s_monetary = ROUND(100 * r.r_monetary, 4), g.s_frequency = ROUND(100 * r.r_frequency, 4),
				g.s_recency = ROUND(100 * r.r_recency, 4),
				g.s_profit = IF(g.has_cost, ROUND(100 * r.r_profit, 4), NULL),
				g.s_repeat = ROUND(100 * r.r_repeat, 4), g.s_potential = ROUND(100 * r.r_potential, 4)"""
		)
	else:
		frappe.db.sql(
			f"""UPDATE `{TABLE}` SET
				s_monetary = ROUND(LEAST(100, GREATEST(0, monetary / %(full_monetary)s * 100)), 4),
				s_frequency = ROUND(LEAST(100, frequency / %(full_frequency)s * 100), 4),
				s_recency = IF(recency_days IS NULL, 0,
					ROUND(GREATEST(0, 100 - GREATEST(0, recency_days) / %(zero_days)s * 100), 4)),
				s_profit = IF(has_cost, ROUND(LEAST(100, GREATEST(0, profit / %(full_profit)s * 100)), 4), NULL),
				s_repeat = ROUND(LEAST(100, months / window_months * 100), 4),
				s_potential = ROUND(potential, 4)
			WHERE rule = %(rule)s""",
			{
				**values,
				"full_monetary": rule.full_monetary,
				"full_frequency": rule.full_frequency,
				"zero_days": rule.zero_recency_days,
				"full_profit": rule.full_profit,
			},
		)
	w = {f"w_{i}": rule.weights[i] for i in INPUTS}
	frappe.db.sql(
		f"""UPDATE `{TABLE}` SET score = ROUND(COALESCE((
				%(w_monetary)s * s_monetary + %(w_frequency)s * s_frequency + %(w_recency)s * s_recency
				+ %(w_profit)s * COALESCE(s_profit, 0) + %(w_repeat)s * s_repeat + %(w_potential)s * s_potential
			) / NULLIF(%(w_monetary)s + %(w_frequency)s + %(w_recency)s + IF(s_profit IS NULL, 0, %(w_profit)s)
				+ %(w_repeat)s + %(w_potential)s, 0), 0), 4)
			{"" if rule.by_share else ", value = score"}
		WHERE rule = %(rule)s""",
		{**values, **w},
	)
	if rule.by_share:
		frappe.db.sql(f"DELETE FROM `{RANKS}`")
		frappe.db.sql(
			f"""INSERT INTO `{RANKS}` (name, r_score)
			SELECT name, PERCENT_RANK() OVER (ORDER BY score) FROM `{TABLE}` WHERE rule = %(rule)s""",
			values,
		)
		frappe.db.sql(
			f"UPDATE `{TABLE}` g JOIN `{RANKS}` r ON r.name = g.name SET g.value = ROUND(100 * r.r_score, 4)"
		)


def grade(rule: Rule, today: str) -> None:
	"""The computed grade from the thresholds, hysteresis against the current grade, then the
	approved unexpired override; `why` and `changed` for the log."""
	values: dict = {"rule": rule.name, "margin": rule.margin, "today": today}
	cases, thresholds = [], []
	for i, g in enumerate(rule.grades):
		values[f"c{i}"], values[f"t{i}"] = g.code, g.threshold
		cases.append(f"WHEN value >= %(t{i})s THEN %(c{i})s")
		thresholds.append(f"WHEN %(c{i})s THEN %(t{i})s")
	codes = ", ".join(f"%(c{i})s" for i in range(len(rule.grades)))
	last = f"%(c{len(rule.grades) - 1})s"
	# the computed grade, then hysteresis: down only when below the current grade's threshold by more
	# than the margin; not after an override (the computed grade returns when it expires). One pass:
	# MariaDB assigns left to right, so new_grade reads the new `computed`.
	frappe.db.sql(
		f"""UPDATE `{TABLE}` SET computed = CASE {" ".join(cases)} ELSE {last} END,
			new_grade = IF(
				old_override IS NULL AND FIELD(old_grade, {codes}) > 0
					AND FIELD(old_grade, {codes}) < FIELD(computed, {codes})
					AND value >= (CASE old_grade {" ".join(thresholds)} END) - %(margin)s,
				old_grade, computed)
		WHERE rule = %(rule)s""",
		values,
	)
	# the latest approved override that has not expired wins (raw SQL: a join of the work table)
	if frappe.db.exists(
		"Customer Grade Override", {"workflow_state": "Approved", "expiry_date": (">=", today)}
	):
		frappe.db.sql(
			f"""UPDATE `{TABLE}` g JOIN `tabCustomer Grade Override` o ON o.name = (
				SELECT o2.name FROM `tabCustomer Grade Override` o2
				WHERE o2.pool_customer = g.name AND o2.workflow_state = 'Approved' AND o2.expiry_date >= %(today)s
				ORDER BY o2.decided_at DESC, o2.name DESC LIMIT 1)
			SET g.override = o.name, g.override_grade = o.grade, g.new_grade = o.grade
			WHERE g.rule = %(rule)s""",
			values,
		)
	frappe.db.sql(
		f"""UPDATE `{TABLE}` SET changed = NOT (old_grade <=> new_grade),
			why = CASE WHEN override IS NOT NULL THEN %(why_override)s
				WHEN old_override IS NOT NULL THEN %(why_expired)s ELSE %(why_score)s END
		WHERE rule = %(rule)s""",
		{
			**values,
			"why_override": WHY_OVERRIDE,
			"why_expired": WHY_OVERRIDE_EXPIRED,
			"why_score": WHY_SCORE,
		},
	)


def segment_and_clv(rule: Rule) -> dict:
	"""RFM segment (R, F, M above or below the population's average; R by the recency score, so a
	customer who never bought is below it) and CLV = average order value
	× purchases per year × expected remaining lifetime (window ÷ observed churn, at most 10 years;
	the window itself when nobody bought in the previous window). Returns the churn and lifetime."""
	values = {"rule": rule.name}
	avg_recency, avg_frequency, avg_monetary, previous, churned = frappe.db.sql(
		f"""SELECT AVG(s_recency), AVG(frequency), AVG(monetary), SUM(bought_prev),
			SUM(bought_prev AND frequency = 0)
		FROM `{TABLE}` WHERE rule = %(rule)s""",
		values,
	)[0]
	years = rule.window_months / 12
	churn = (churned or 0) / previous if previous else None
	if churn is None:
		lifetime = years
	elif churn == 0:
		lifetime = MAX_LIFETIME_YEARS
	else:
		lifetime = min(MAX_LIFETIME_YEARS, years / churn)
	case = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in SEGMENTS.items())
	frappe.db.sql(
		f"""UPDATE `{TABLE}` SET
			segment = CASE CONCAT(
				s_recency > %(avg_recency)s,
				frequency > %(avg_frequency)s,
				monetary > %(avg_monetary)s) {case} END,
			aov = IF(frequency > 0, monetary / frequency, 0),
			per_year = frequency / %(years)s,
			lifetime = %(lifetime)s,
			clv = GREATEST(0, IF(frequency > 0, monetary / frequency, 0) * frequency / %(years)s * %(lifetime)s)
		WHERE rule = %(rule)s""",
		{
			**values,
			"avg_recency": avg_recency or 0,
			"avg_frequency": avg_frequency or 0,
			"avg_monetary": avg_monetary or 0,
			"years": years,
			"lifetime": lifetime,
		},
	)
	costed, total = frappe.db.sql(
		f"SELECT SUM(has_cost), COUNT(*) FROM `{TABLE}` WHERE rule = %(rule)s", values
	)[0]
	return {"churn": churn, "lifetime": lifetime, "costed": int(costed or 0), "total": int(total or 0)}
