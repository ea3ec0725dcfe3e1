# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Ownership Conflict (撞单): recorded and resolved by crm_pool.transfer.conflicts only."""

import frappe
from frappe import _
from frappe.model.document import Document


class OwnershipConflict(Document):
	def validate(self):
		if not self.is_new():
			frappe.throw(
				_("Ownership conflicts are resolved with the Resolve action"), frappe.PermissionError
			)
