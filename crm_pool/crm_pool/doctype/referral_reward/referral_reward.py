# Copyright (c) 2026, crm_pool developers
# For license information, please see license.txt

"""Referral Reward (推荐奖励): a sharer's reward of a period, computed as a draft with its evidence lines
(crm_pool.sharing.rewards), approved and paid by Journal Entry through the Workflow "Referral Reward"
(crm_pool.sharing.payout)."""

from frappe.model.document import Document

from crm_pool.sharing import payout


class ReferralReward(Document):
	def validate(self):
		payout.validate(self)

	def on_update(self):
		payout.on_update(self)
