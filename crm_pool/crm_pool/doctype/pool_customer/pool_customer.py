# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

from frappe.model.document import Document


class PoolCustomer(Document):
	pass


def on_doctype_update() -> None:
	"""Indexes of the recycle scan (crm_pool.pool.followup)."""
	from crm_pool.pool.followup import add_indexes

	add_indexes()
