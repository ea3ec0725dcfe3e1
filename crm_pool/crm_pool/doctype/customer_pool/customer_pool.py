# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Customer Pool (公海): members and rules. Validation lives in crm_pool.pool.intake (members,
claim and recycle rules) and crm_pool.pool.allocation (allocation settings)."""

from frappe.model.document import Document

from crm_pool.pool import allocation, intake


class CustomerPool(Document):
	def validate(self):
		intake.validate_customer_pool(self)
		allocation.validate_pool(self)

	def on_update(self):
		intake.make_only_default(self)
