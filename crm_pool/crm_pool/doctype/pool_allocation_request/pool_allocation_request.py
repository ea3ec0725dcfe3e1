# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Pool Allocation Request (申请): a salesperson applies for pool customers; a manager approves or
rejects through the Workflow "Pool Allocation Request". The rules live in
crm_pool.allocation.requests."""

from frappe.model.document import Document

from crm_pool.allocation import requests


class PoolAllocationRequest(Document):
	def validate(self):
		requests.validate(self)

	def on_update(self):
		requests.on_update(self)

	def on_trash(self):
		requests.on_trash(self)
