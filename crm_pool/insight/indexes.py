"""Indexes of the insight reports, added by the doctypes' `on_doctype_update`.

`INSIGHT_INDEX` on Pool Customer covers every column the ageing, recycle forecast and grade
distribution queries read (with the columns of the access condition), so each of them reads the
index alone, never the wide rows: a range of (status, recycle_due_at) for the forecast, a scan of
the statuses for the ageing and the distribution (MariaDB prefers the `pool` index for the ageing's
GROUP BY and would read every row: the ageing and the forecast force this one). Seen on 300,000 bulk
customers (bulk_demo; MariaDB's default 128 MB buffer pool shared with other sites, load average 6 on
2 cores): forecast of a month (73,000 due) 12-14 s reading the rows, 1.5-1.9 s on this index; ageing
5-6 s, 2.7-3 s; grade distribution 2-3 s, 0.7-1.5 s.
"""

from __future__ import annotations

import frappe

INSIGHT_INDEX = "crm_pool_insight"
GRADE_LOG_INDEX = "crm_pool_at_grades"
GRADE_LOG_CUSTOMER_INDEX = "crm_pool_customer_at_grades"

INSIGHT_COLUMNS = [
	"status",
	"recycle_due_at",
	"pool",
	"owned_by",
	"exclusive_manager",
	"grade",
	"claimed_at",
	"last_followup_at",
	"last_deal_at",
	"pool_entered_at",
	"creation",
]


def add_pool_customer_indexes() -> None:
	frappe.db.add_index("Pool Customer", INSIGHT_COLUMNS, INSIGHT_INDEX)


def add_grade_log_indexes() -> None:
	"""The grade log by time, covering the movement query; and by customer and time, covering it from
	a sales user's customers' side (a month's entries of 100,000 customers: 0.3 s at 1,000,000, where
	joining the month's 667,000 entries to their customers takes 4-7 s)."""
	frappe.db.add_index(
		"Customer Grade Log", ["at", "from_grade", "to_grade", "pool_customer"], GRADE_LOG_INDEX
	)
	frappe.db.add_index(
		"Customer Grade Log", ["pool_customer", "at", "from_grade", "to_grade"], GRADE_LOG_CUSTOMER_INDEX
	)
