# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Pool Log Tally (归属日志日计): the Pool Log's entries counted per day, pool, action and owners.
Written only with the entries (`crm_pool.core.log`), never by hand."""

import frappe
from frappe import _
from frappe.model.document import Document

from crm_pool.core import log


class PoolLogTally(Document):
	def validate(self):
		frappe.throw(_("Pool Log Tally rows are written with the Pool Log only"), frappe.PermissionError)

	def on_trash(self):
		frappe.throw(_("Pool Log Tally rows are written with the Pool Log only"), frappe.PermissionError)


def on_doctype_update() -> None:
	log.add_tally_indexes()
