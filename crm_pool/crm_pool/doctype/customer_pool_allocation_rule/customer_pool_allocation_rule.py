# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""One row of a pool's rule-based allocation: customers matching its criteria go to its user."""

from frappe.model.document import Document


class CustomerPoolAllocationRule(Document):
	pass
