# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

from frappe.model.document import Document

from crm_pool.sharing import shares


class CustomerShare(Document):
	"""共享客户: an employee shares a customer a business line needs (crm_pool.sharing.shares)."""

	def before_insert(self):
		shares.prepare(self)

	def validate(self):
		if self.is_new():
			shares.intake(self)
		else:
			shares.check_unchanged(self)
