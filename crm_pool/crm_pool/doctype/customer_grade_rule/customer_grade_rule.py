# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Customer Grade Rule (客户分级规则): the inputs, weights and grades of the regrade. The rules live in
crm_pool.grading.rules."""

from frappe.model.document import Document

from crm_pool.grading import rules, scores


class CustomerGradeRule(Document):
	def validate(self):
		rules.validate(self)


def on_doctype_update():
	scores.add_indexes()
