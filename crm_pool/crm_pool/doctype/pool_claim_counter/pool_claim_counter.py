# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Pool Claim Counter (领取计数): one row per salesperson and pool, the lock a claim takes after its
customer's row (`crm_pool.pool.locking.lock_claimant`), counting the claims made through it.
Written only by claims, never by hand."""

import frappe
from frappe import _
from frappe.model.document import Document


class PoolClaimCounter(Document):
	def validate(self):
		frappe.throw(_("Pool Claim Counter rows are written by claims only"), frappe.PermissionError)
