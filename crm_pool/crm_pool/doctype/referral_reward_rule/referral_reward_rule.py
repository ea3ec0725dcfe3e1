# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

from frappe.model.document import Document

from crm_pool.sharing import rules


class ReferralRewardRule(Document):
	def validate(self):
		rules.validate(self)
