"""Whitelisted methods of sharing (客户资源共享, SPEC §5). Each is an `api_method` (crm_pool.api.args:
typed arguments, roles). No `from __future__ import annotations` here: the annotations must stay
real types for the argument validation.

- payout: `make_journal_entry` — the "Make Journal Entry" button of an approved Referral Reward.
"""

import frappe
from frappe import _

from crm_pool.api import args
from crm_pool.api.args import api_method
from crm_pool.sharing import payout
from crm_pool.sharing.model import REWARD


@api_method(methods=["POST"])
def make_journal_entry(reward: str) -> str:
	"""Accounts staff: a draft Journal Entry paying the approved `reward`, prefilled; its name."""
	if not set(frappe.get_roles()) & set(payout.ACCOUNTS_ROLES):
		frappe.throw(_("Only accounts staff may make the Journal Entry of a reward"), frappe.PermissionError)
	return payout.make_journal_entry(args.existing(REWARD, reward, "Referral Reward"))
