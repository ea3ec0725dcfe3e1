"""What the Lead and Customer forms show of a customer's grade: the grade, its score and parts, the
RFM segment and the CLV with its inputs (a part of `api.pool.pool_status`)."""

import frappe
from frappe import _

FIELDS = (
	"grade",
	"grade_score",
	"score_monetary",
	"score_frequency",
	"score_recency",
	"score_profit",
	"profit_included",
	"score_repeat",
	"score_potential",
	"rfm_segment",
	"clv",
	"net_invoiced",
	"invoice_count",
	"last_invoice_date",
	"average_order_value",
	"purchases_per_year",
	"expected_lifetime_years",
	"grade_override",
	"graded_at",
)


def grade_summary(pool_customer: str) -> dict:
	"""The grading of `pool_customer` (the caller already may read it), labels translated."""
	row = frappe.db.get_value("Pool Customer", pool_customer, list(FIELDS), as_dict=True) or {}
	meta = frappe.get_meta("Pool Customer")
	return {
		**row,
		"rfm_segment_label": _(row.get("rfm_segment")) if row.get("rfm_segment") else None,
		"labels": {f: _(meta.get_label(f)) for f in FIELDS},
	}
