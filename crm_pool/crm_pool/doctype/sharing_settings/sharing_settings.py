# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Sharing Settings (客户共享设置): the company and accounts referral rewards are paid with
(crm_pool.sharing.payout) and each business line's staff."""

from frappe.model.document import Document

from crm_pool.sharing import payout


class SharingSettings(Document):
	def validate(self):
		payout.validate_settings(self)
