# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Customer Grade Override (客户等级调整): a grade set by hand, with a reason, approved through the Workflow
"Customer Grade Override" and kept until its expiry date. The rules live in crm_pool.grading.override."""

from frappe.model.document import Document

from crm_pool.grading import override


class CustomerGradeOverride(Document):
	def validate(self):
		override.validate(self)

	def on_update(self):
		override.on_update(self)
