# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Return Visit (回访): planned by crm_pool.grading.visits, done by the assignee."""

from frappe.model.document import Document


class ReturnVisit(Document):
	def validate(self):
		from crm_pool.grading.visits import validate_visit

		validate_visit(self)

	def on_update(self):
		from crm_pool.grading.visits import visit_updated

		visit_updated(self)
