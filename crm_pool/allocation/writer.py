"""Writing an allocation's plan, set-based: a work table holds (customer, member, reason), then the
one owner writer (`ownership.write_owners`) changes every row in a few statements: Pool Log, pool
customers, ERPNext's owner fields and assignments; then the recycle due dates, the round robin
pointer, one notification per member."""

from __future__ import annotations

from urllib.parse import quote

import frappe
from frappe import _
from frappe.translate import get_user_lang
from frappe.utils import get_fullname

from crm_pool.allocation.model import ENQUEUE_ABOVE, ROUND_ROBIN, AllocationResult
from crm_pool.core import notify
from crm_pool.core.setbased import from_table, in_table, insert_rows, work_table
from crm_pool.core.status import ASSIGN
from crm_pool.pool import followup
from crm_pool.pool.ownership import write_owners

WORK_TABLE = "crm_pool_allocation"


def write(result: AllocationResult) -> None:
	"""Carry out the plan: Pool Log, pool customers, ERPNext owners and assignments, recycle due
	dates, the round robin pointer, one notification per member. The caller holds the locks."""
	names = {m.user: m.full_name for m in result.members}
	total = len(result.allocations)
	progress(5, total)
	columns = "name VARCHAR(140) NOT NULL PRIMARY KEY, user VARCHAR(140) NOT NULL, full_name VARCHAR(140), reason TEXT"
	with work_table(WORK_TABLE, columns):
		rows = [(a.pool_customer, a.user, names[a.user], a.reason) for a in result.allocations]
		insert_rows(WORK_TABLE, ("name", "user", "full_name", "reason"), rows)
		progress(15, total)
		write_owners(
			in_table(WORK_TABLE),
			{},
			ASSIGN,
			owner_sql=from_table(WORK_TABLE, "user"),
			owner_name_sql=from_table(WORK_TABLE, "full_name"),
			rule=f"allocation: {result.strategy}",
			reason_sql=from_table(WORK_TABLE, "reason"),
		)
		progress(80, total)
		followup.recompute_due([a.pool_customer for a in result.allocations])
		if result.strategy == ROUND_ROBIN and result.pointer:
			frappe.db.set_value(
				"Customer Pool", result.pool, "allocation_pointer", result.pointer, update_modified=False
			)
	progress(95, total)
	notify_members(result)
	progress(100, total)


def progress(percent: int, total: int) -> None:
	"""Progress of a large allocation, shown in the desk of the user who started it."""
	if total >= ENQUEUE_ABOVE:
		frappe.publish_progress(
			percent, title=_("Allocating {0} customers").format(total), description=_("Allocation")
		)


def notify_members(result: AllocationResult) -> None:
	"""One notification (and email) per member who received customers."""
	pool_name = frappe.db.get_value("Customer Pool", result.pool, "pool_name") or result.pool
	by = get_fullname(frappe.session.user)
	for member in result.members:
		if not member.given:
			continue
		lang = get_user_lang(member.user)
		subject = _("{0} allocated {1} customers of pool {2} to you", lang).format(
			by, member.given, pool_name
		)
		message = notify.table(
			[(a.customer_name, a.pool_customer) for a in result.allocations if a.user == member.user],
			lang,
			(_("Customer", lang), _("Customer Code", lang)),
		)
		notify.notify(
			member.user,
			subject,
			message,
			link=f"/app/pool-customer?owned_by={quote(member.user)}",
		)
