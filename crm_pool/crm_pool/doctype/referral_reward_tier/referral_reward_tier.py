# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

from frappe.model.document import Document


class ReferralRewardTier(Document):
	pass
