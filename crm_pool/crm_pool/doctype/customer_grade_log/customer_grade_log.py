# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Customer Grade Log (客户等级变更记录): one row per change of a customer's grade, written by the regrade
(crm_pool.grading.regrade) and by overrides; append-only."""

from frappe.model.document import Document

from crm_pool.insight import indexes


class CustomerGradeLog(Document):
	pass


def on_doctype_update() -> None:
	"""The log by time, for the Grade Movement report."""
	indexes.add_grade_log_indexes()
