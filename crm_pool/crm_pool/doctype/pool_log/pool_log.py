# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Pool Log (客户归属日志): the append-only history of every ownership change."""

import frappe
from frappe import _
from frappe.model.document import Document


class PoolLog(Document):
	def validate(self):
		if not self.is_new():
			frappe.throw(_("Pool Log entries cannot be changed"), frappe.PermissionError)

	def on_trash(self):
		frappe.throw(_("Pool Log entries cannot be deleted"), frappe.PermissionError)
