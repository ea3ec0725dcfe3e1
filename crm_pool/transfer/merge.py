"""Lead / Customer rename and merge (`frappe.rename_doc`, merge=True): one Pool Customer per party.

Frappe's rename rewrites every link to the party, the Pool Customer's `party`, `lead` and `customer`
included. A plain rename thus keeps the one Pool Customer; `after_party_rename` only points the
party's `pool_customer` field at it again. A merge of party A into party B would leave two Pool
Customers standing for B: `before_party_rename` notes which Pool Customer stood for A and which for
B, and `after_party_rename` merges them —

- B's Pool Customer survives; A's becomes Invalid, without party, owner or collaborators. Both get
  a MERGE Pool Log entry naming the other.
- Owners: when only A's customer had an owner, the survivor goes to that owner (Pool Log MERGE);
  when both had different owners, B's owner stays and A's owner becomes the claimant of an
  Ownership Conflict (kind Merge) for the managers — nobody loses a customer silently. A's owner's
  assignment that Frappe carried over to B is cancelled.
- The survivor keeps the latest follow-up and deal dates of the two and A's collaborators; its
  recycle due date is recomputed.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import now_datetime

from crm_pool.core import mirror
from crm_pool.core.log import log_change
from crm_pool.core.status import HAS_OWNER, INVALID, MERGE
from crm_pool.pool import followup, ownership
from crm_pool.pool.locking import lock_pool_customers
from crm_pool.transfer import conflicts

PARTY_DOCTYPES = ("Lead", "Customer")


def _party_pool_customer(doctype: str, name: str) -> str | None:
	"""The Pool Customer standing for this party (as its party), else the one linking it."""
	return frappe.db.get_value(
		"Pool Customer", {"party_type": doctype, "party": name}
	) or frappe.db.get_value("Pool Customer", {doctype.lower(): name})


def _pending() -> dict:
	pending = getattr(frappe.local, "crm_pool_merges", None)
	if pending is None:
		pending = frappe.local.crm_pool_merges = {}
	return pending


def before_party_rename(doc, method=None, old: str | None = None, new: str | None = None, merge=False):
	"""Lead / Customer before_rename: before Frappe rewrites the links, note the Pool Customers of
	both parties of a merge."""
	if doc.doctype not in PARTY_DOCTYPES or not merge or not old or not new:
		return
	_pending()[(doc.doctype, old, new)] = (
		_party_pool_customer(doc.doctype, old),
		_party_pool_customer(doc.doctype, new),
	)


def after_party_rename(doc, method=None, old: str | None = None, new: str | None = None, merge=False):
	"""Lead / Customer after_rename: one Pool Customer for the renamed or merged party."""
	if doc.doctype not in PARTY_DOCTYPES or not old or not new:
		return
	noted = _pending().pop((doc.doctype, old, new), None)
	if merge and noted and all(noted) and noted[0] != noted[1]:
		merge_pool_customers(doc.doctype, old, new, merged=noted[0], survivor=noted[1])
	survivor = _party_pool_customer(doc.doctype, new)
	if survivor:
		frappe.db.set_value(doc.doctype, new, "pool_customer", survivor, update_modified=False)
		if doc.doctype == "Customer":  # ERPNext renames a Customer named by its name
			customer_name = frappe.db.get_value("Customer", new, "customer_name")
			if customer_name:
				frappe.db.set_value("Pool Customer", survivor, "customer_name", customer_name)


def merge_pool_customers(doctype: str, old: str, new: str, *, merged: str, survivor: str) -> None:
	"""Party `old` (Pool Customer `merged`) was merged into party `new` (Pool Customer `survivor`)."""
	rows = lock_pool_customers([merged, survivor])
	if merged not in rows or survivor not in rows:
		return
	gone, kept = rows[merged], rows[survivor]
	gone_owner = gone.owned_by if gone.status in HAS_OWNER else None
	kept_owner = kept.owned_by if kept.status in HAS_OWNER else None
	reason = _("{0} {1} merged into {2} ({3})").format(_(doctype), old, new, survivor)

	# the survivor: the owner (or a conflict), then the later dates and the collaborators
	if gone_owner and not kept_owner and kept.status != INVALID:
		ownership.set_owner(kept, gone_owner, MERGE, reason=reason, rule=f"merge:{merged}")
		kept_owner = gone_owner
	else:
		log_change(
			kept, MERGE, from_user=kept_owner, to_user=kept_owner, reason=reason, rule=f"merge:{merged}"
		)
	conflict_with = gone_owner if gone_owner and gone_owner != kept_owner else None
	if conflict_with:
		conflicts.record_conflict(
			survivor,
			conflict_with,
			conflicts.MERGED,
			source_doctype=doctype,
			source_name=new,
			details=_("{0} {1}, owned by {2}, was merged into {3}, owned by {4}").format(
				_(doctype),
				old,
				frappe.utils.get_fullname(conflict_with),
				new,
				frappe.utils.get_fullname(kept_owner),
			),
		)
		# Frappe's merge carried the old owner's assignment over to the surviving party
		todos = frappe.get_all(
			"ToDo",
			filters={
				"reference_type": doctype,
				"reference_name": new,
				"allocated_to": conflict_with,
				"status": "Open",
			},
			pluck="name",
		)
		mirror.move_assignments(todos, None)
	frappe.db.sql(
		"""UPDATE `tabPool Customer` kept JOIN `tabPool Customer` gone ON gone.name = %(merged)s
		SET kept.last_followup_at = GREATEST(COALESCE(kept.last_followup_at, gone.last_followup_at),
				COALESCE(gone.last_followup_at, kept.last_followup_at)),
			kept.last_deal_at = GREATEST(COALESCE(kept.last_deal_at, gone.last_deal_at),
				COALESCE(gone.last_deal_at, kept.last_deal_at))
		WHERE kept.name = %(survivor)s""",
		{"merged": merged, "survivor": survivor},
	)
	frappe.db.sql(
		"""UPDATE `tabPool Customer Collaborator` c SET c.parent = %(survivor)s
		WHERE c.parenttype = 'Pool Customer' AND c.parent = %(merged)s
			AND c.user != COALESCE(%(owner)s, '') AND NOT EXISTS (
				SELECT 1 FROM (SELECT user FROM `tabPool Customer Collaborator`
					WHERE parenttype = 'Pool Customer' AND parent = %(survivor)s) k
				WHERE k.user = c.user)""",
		{"merged": merged, "survivor": survivor, "owner": kept_owner},
	)
	followup.recompute_due([survivor])

	# the merged one: history kept, no party, no owner
	log_change(gone, MERGE, from_user=gone.owned_by, reason=reason, rule=f"merge:{survivor}")
	frappe.db.sql(
		"""DELETE FROM `tabPool Customer Collaborator` WHERE parenttype = 'Pool Customer' AND parent = %s""",
		merged,
	)
	frappe.db.sql(
		"""UPDATE `tabPool Customer` SET status = %(invalid)s, party = NULL, lead = NULL, customer = NULL,
			previous_owner = COALESCE(owned_by, previous_owner), owned_by = NULL, owner_name = NULL,
			recycle_due_at = NULL, reminder_sent_at = NULL, claimed_at = NULL,
			modified = %(now)s, modified_by = %(by)s
		WHERE name = %(merged)s""",
		{"invalid": INVALID, "now": now_datetime(), "by": frappe.session.user, "merged": merged},
	)
