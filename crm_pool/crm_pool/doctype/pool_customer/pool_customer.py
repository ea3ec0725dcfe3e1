# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Pool Customer (公海客户): one ERPNext party in a pool. Its rules live in crm_pool.pool.controllers;
ownership changes are made by crm_pool.pool.ownership (set-based, not through this controller)."""

import frappe
from frappe.model.document import Document

from crm_pool.insight import indexes, performance
from crm_pool.pool import controllers, dedupe, followup, locking


class PoolCustomer(Document):
	@property
	def previous_owner_name(self) -> str:
		"""Virtual field: the previous owner's name, masked (王*) for users who may not see this
		customer in full (the field previous_owner itself is for managers: permlevel 1)."""
		if "previous_owner" in self.__dict__:
			previous = self.previous_owner
		else:  # removed by apply_fieldlevel_read_permissions before the document is sent
			previous = (
				frappe.db.get_value("Pool Customer", self.name, "previous_owner") if self.name else None
			)
		return dedupe.display_user_name(previous, self)

	def validate(self):
		controllers.validate_pool_customer(self)

	def after_insert(self):
		controllers.after_insert_pool_customer(self)

	def on_update(self):
		controllers.log_review(self)


def on_doctype_update() -> None:
	"""Indexes of the caps' counts (locking), of the recycle scan (followup) and of the reports (insight)."""
	locking.add_indexes()
	followup.add_indexes()
	performance.add_indexes("Pool Customer")
	indexes.add_pool_customer_indexes()
