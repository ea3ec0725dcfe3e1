# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Customer Pool Member (公海成员): a user or a department that may claim from a pool, or its admin."""

from frappe.model.document import Document

from crm_pool.core import settings


class CustomerPoolMember(Document):
	pass


def on_doctype_update() -> None:
	settings.add_indexes()
