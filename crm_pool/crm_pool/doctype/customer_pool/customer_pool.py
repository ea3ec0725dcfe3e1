# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Customer Pool (公海): members and rules. Validation lives in crm_pool.pool.controllers (members,
claim and recycle rules) and crm_pool.allocation.allocate (allocation settings); changed rules and
masks apply to the pool's customers at once (crm_pool.pool.followup, crm_pool.pool.profile)."""

from frappe.model.document import Document

from crm_pool.allocation.allocate import validate_pool
from crm_pool.pool import controllers, followup, profile


class CustomerPool(Document):
	def validate(self):
		controllers.validate_customer_pool(self)
		validate_pool(self)

	def on_update(self):
		controllers.make_only_default(self)
		followup.on_pool_update(self)
		profile.on_pool_masks_change(self)
