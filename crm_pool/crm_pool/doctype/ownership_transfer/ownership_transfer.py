# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Ownership Transfer (调整 · 交接): the rules live in crm_pool.transfer.transfers."""

import frappe
from frappe import _
from frappe.model.document import Document

from crm_pool.transfer import transfers


class OwnershipTransfer(Document):
	def validate(self):
		transfers.validate(self)

	def on_submit(self):
		transfers.on_submit(self)

	def before_cancel(self):
		frappe.throw(_("An approved transfer cannot be cancelled; make a new transfer to move the customers"))
