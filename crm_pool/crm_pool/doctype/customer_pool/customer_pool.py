# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Customer Pool (公海): members and rules. Validation lives in crm_pool.pool.intake."""

from frappe.model.document import Document

from crm_pool.pool import intake


class CustomerPool(Document):
	def validate(self):
		intake.validate_customer_pool(self)

	def on_update(self):
		intake.make_only_default(self)
