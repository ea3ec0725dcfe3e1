"""Whitelisted methods of sharing (客户资源共享奖励, SPEC §5): compute a month's referral rewards now.
Each is an `api_method` (crm_pool.api.args: typed arguments, roles). No `from __future__ import
annotations` here: the annotations must stay real types for the argument validation.
"""

import frappe
from frappe import _

from crm_pool.api import args
from crm_pool.api.args import api_method
from crm_pool.core.errors import InvalidArgument
from crm_pool.core.roles import MANAGER_ROLES
from crm_pool.sharing import rewards
from crm_pool.sharing.model import CUSTOMER_SHARE, NOT_REWARDABLE, REJECTED

# At most this many counting shares are computed in the request; more go to a background job.
NOW_LIMIT = 2_000


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
