# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Pool Log (客户归属日志): the append-only history of every ownership change."""

import frappe
from frappe import _
from frappe.model.document import Document

from crm_pool.core import log
from crm_pool.insight import history


class PoolLog(Document):
	def validate(self):
		if not self.is_new():
			frappe.throw(_("Pool Log entries cannot be changed"), frappe.PermissionError)

	def after_insert(self):
		log.tally_entry(self.name)

	def on_trash(self):
		frappe.throw(_("Pool Log entries cannot be deleted"), frappe.PermissionError)


def on_doctype_update() -> None:
	"""Indexes of the rule checks: claims today per user (daily cap), and who lost a customer when
	(cooldown); and those of the insight reports (a user's history, the performance window, the
	workspace's counts of an action over a period); the reports of a period read the Pool Log Tally."""
	frappe.db.add_index("Pool Log", ["to_user", "pool", "action", "at"], "claims_by_user")
	frappe.db.add_index("Pool Log", ["pool_customer", "from_user"], "losses_by_customer")
	frappe.db.add_index("Pool Log", ["action", "at"], "action_at")
	history.add_indexes()
