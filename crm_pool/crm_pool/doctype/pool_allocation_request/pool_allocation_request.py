# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Pool Allocation Request (申请): a salesperson applies for pool customers; a manager approves or
rejects through the Workflow "Pool Allocation Request". The rules live in
crm_pool.pool.allocation_request."""

from frappe.model.document import Document

from crm_pool.pool import allocation_request


class PoolAllocationRequest(Document):
	def validate(self):
		allocation_request.validate(self)

	def on_update(self):
		allocation_request.on_update(self)

	def on_trash(self):
		allocation_request.on_trash(self)
