"""Whitelisted methods of sharing (客户资源共享与推荐奖励, SPEC §5). Each is an `api_method`
(crm_pool.api.args: typed arguments, roles). No `from __future__ import annotations` here: the
annotations must stay real types for the argument validation.

- customer shares: `share_customer` (any employee), `reject_share` (managers);
- rewards: `compute_rewards` (managers);
- payout: `make_journal_entry` — the "Make Journal Entry" button of an approved Referral Reward.
"""

import frappe
from frappe import _

from crm_pool.api import args
from crm_pool.api.args import api_method
from crm_pool.core.errors import InvalidArgument
from crm_pool.core.roles import MANAGER_ROLES
from crm_pool.sharing import payout, rewards, shares
from crm_pool.sharing.model import CUSTOMER_SHARE, NOT_REWARDABLE, REJECTED, REWARD

# At most this many counting shares are computed in the request; more go to a background job.
NOW_LIMIT = 2_000

# --- customer shares (共享客户) ---------------------------------------------------------------------


@api_method(methods=["POST"])
def share_customer(
	company_name: str,
	territory: str,
	business_line: str,
	business_needed: str,
	contact_person: str | None = None,
	mobile_no: str | None = None,
	address: str | None = None,
	uscc: str | None = None,
	estimated_revenue: float = 0,
) -> dict:
	"""Share a customer a business line needs (any employee: Employee, Sales User, managers). The
	customer goes through the pool's intake; returns the share, its status, the reason when it is not
	rewardable (the existing customer, its owner masked) and the pool it entered."""
	if not frappe.has_permission(CUSTOMER_SHARE, "create"):
		frappe.throw(_("You may not share customers"), frappe.PermissionError)
	doc = frappe.get_doc(
		{
			"doctype": CUSTOMER_SHARE,
			"company_name": args.text(company_name, "Company Name", required=True, max_length=140),
			"territory": args.existing("Territory", territory),
			"business_line": args.existing("Item Group", business_line, "Business Line"),
			"business_needed": args.text(business_needed, "Business Needed", required=True),
			"contact_person": args.text(contact_person, "Contact Person", max_length=140),
			"mobile_no": args.text(mobile_no, "Mobile", max_length=30),
			"address": args.text(address, "Address"),
			"uscc": args.text(uscc, "Unified Social Credit Code", max_length=30),
			"estimated_revenue": estimated_revenue,
		}
	)
	doc.insert()
	return {"share": doc.name, "status": doc.status, "reason": doc.reason, "pool": doc.pool}


@api_method(methods=["POST"], roles=MANAGER_ROLES)
def reject_share(share: str, reason: str) -> dict:
	"""A manager rejects a share (not rewarded yet) with a reason."""
	name = args.existing(CUSTOMER_SHARE, share, "Customer Share")
	return dict(shares.reject(name, args.text(reason, "Reason", required=True)))


# --- rewards (推荐奖励) -----------------------------------------------------------------------------


@api_method(methods=["POST"], roles=MANAGER_ROLES)
def compute_rewards(month: str, sharer: str | None = None) -> dict:
	"""Compute the referral rewards of `month` ("2026-11") for every sharer or `sharer`, every
	company; managers only. Small: now, returning the summary; else in the background (long queue)
	with progress on the desk, returning the job id."""
	try:
		start, end = rewards.month_period(month.strip())
	except ValueError:
		frappe.throw(_("Give the month as YYYY-MM, e.g. 2026-11"), InvalidArgument)
	sharers = [args.existing("User", sharer, "Sharer")] if sharer else None
	filters = {"status": ("not in", (NOT_REWARDABLE, REJECTED)), "customer": ("is", "set")}
	if sharers:
		filters["sharer"] = sharers[0]
	if frappe.db.count(CUSTOMER_SHARE, filters) <= NOW_LIMIT:
		return {"queued": False, **rewards.compute(start, end, sharers=sharers)}
	job = frappe.enqueue(
		"crm_pool.sharing.rewards.compute_job",
		queue="long",
		timeout=3600,
		job_id=f"crm_pool_rewards_{month}_{sharer or 'all'}",
		deduplicate=True,
		period_start=start,
		period_end=end,
		sharers=sharers,
	)
	return {
		"queued": True,
		"job": getattr(job, "id", None),
		"message": _("Computing the rewards in the background: the drafts appear when it is done"),
	}


# --- payout ------------------------------------------------------------------------------------------


@api_method(methods=["POST"])
def make_journal_entry(reward: str) -> str:
	"""Accounts staff: a draft Journal Entry paying the approved `reward`, prefilled; its name."""
	if not set(frappe.get_roles()) & set(payout.ACCOUNTS_ROLES):
		frappe.throw(_("Only accounts staff may make the Journal Entry of a reward"), frappe.PermissionError)
	return payout.make_journal_entry(args.existing(REWARD, reward, "Referral Reward"))
