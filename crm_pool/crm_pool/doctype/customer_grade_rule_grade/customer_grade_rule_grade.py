# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""A grade of a Customer Grade Rule: its code, label and threshold."""

from frappe.model.document import Document


class CustomerGradeRuleGrade(Document):
	pass
