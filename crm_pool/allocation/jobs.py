"""Large allocations as background jobs: one per pool at a time, with progress shown to the user who
started it and a notification of the outcome."""

from __future__ import annotations

import frappe
from frappe import _

from crm_pool.allocation.allocate import allocate
from crm_pool.allocation.team import pool_of
from crm_pool.core.errors import PoolRuleError
from crm_pool.core.notify import notify


def enqueue_allocation(pool_customers: list[str], strategy: str | None, members: list[str] | None) -> dict:
	"""Run a large allocation as a background job (one per pool at a time); the user who started it
	sees its progress and gets a notification with the outcome."""
	from frappe.utils.background_jobs import is_job_enqueued

	pool = pool_of(pool_customers)
	job_id = f"crm_pool_allocate::{pool}"
	if is_job_enqueued(job_id):
		frappe.throw(
			_("An allocation of pool {0} is already running; please wait for it to finish").format(pool),
			PoolRuleError,
		)
	job = frappe.enqueue(
		"crm_pool.allocation.jobs.allocate_job",
		queue="long",
		timeout=3600,
		job_id=job_id,
		deduplicate=True,
		enqueue_after_commit=True,
		pool_customers=pool_customers,
		strategy=strategy,
		members=members,
	)
	return {"queued": True, "job_id": getattr(job, "id", None), "count": len(pool_customers), "pool": pool}


def allocate_job(
	pool_customers: list[str], strategy: str | None = None, members: list[str] | None = None
) -> dict:
	"""The background job: allocate, commit, tell the user how it went."""
	result = allocate(pool_customers, strategy, members)
	summary = result.as_dict(limit=50)
	frappe.db.commit()
	user = frappe.session.user
	notify(
		user,
		_("Allocation finished: {0} customers assigned, {1} left in the pool").format(
			summary["assigned_count"], summary["unassigned_count"]
		),
		"<ul>{}</ul>".format(
			"".join(
				f"<li>{frappe.utils.escape_html(m['full_name'])}: {m['given']}</li>"
				for m in summary["members"]
			)
		),
		document_type="Customer Pool",
		document_name=result.pool,
	)
	frappe.publish_realtime("crm_pool_allocation_done", summary, user=user, after_commit=True)
	frappe.db.commit()
	return summary
