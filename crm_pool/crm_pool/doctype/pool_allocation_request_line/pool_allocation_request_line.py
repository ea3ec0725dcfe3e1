# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""One requested pool customer of a Pool Allocation Request, with its result after approval."""

from frappe.model.document import Document


class PoolAllocationRequestLine(Document):
	pass
