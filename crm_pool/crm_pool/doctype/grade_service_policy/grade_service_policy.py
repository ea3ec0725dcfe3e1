# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Grade Service Policy (客户分级服务): the service each grade gets. Thin: crm_pool.grading.service."""

from frappe.model.document import Document


class GradeServicePolicy(Document):
	def validate(self):
		from crm_pool.grading.service import validate_policy

		validate_policy(self)

	def on_update(self):
		from crm_pool.grading.service import policy_changed

		policy_changed(self)
