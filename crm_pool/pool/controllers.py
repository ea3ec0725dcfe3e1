"""The Pool Customer and Customer Pool controllers' rules: a pool customer's owner fields change
only through the audited actions, a review decision moves its status, and a pool's settings make
sense."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import get_datetime, now_datetime

from crm_pool.core.errors import AuditedPathError
from crm_pool.core.log import log_change
from crm_pool.core.normalize import validate_uscc
from crm_pool.core.status import (
	IN_POOL,
	INVALID,
	OWNED,
	PENDING_REVIEW,
	REVIEW,
	REVIEW_APPROVED,
	REVIEW_PENDING,
	REVIEW_REJECTED,
)


def validate_pool_customer(pc: Document) -> None:
	"""Pool Customer validate: a pool, one Pool Customer per party, a valid USCC, party links, owner
	name; a review decision moves the status (approved: in pool or owned; rejected: invalid)."""
	if not pc.pool:
		frappe.throw(_("Choose the pool of this customer"), frappe.MandatoryError)
	if pc.is_new() and not frappe.db.get_value("Customer Pool", pc.pool, "enabled"):
		frappe.throw(_("Customer pool {0} is disabled or does not exist").format(pc.pool))
	guard_owner_fields(pc)
	if pc.party_type and pc.party:
		other = frappe.db.get_value(
			"Pool Customer",
			{"party_type": pc.party_type, "party": pc.party, "name": ("!=", pc.name or "")},
		)
		if other:
			frappe.throw(
				_("{0} {1} is already the pool customer {2}").format(_(pc.party_type), pc.party, other),
				frappe.DuplicateEntryError,
			)
		if pc.party_type == "Lead":
			pc.lead = pc.party
		elif pc.party_type == "Customer":
			pc.customer = pc.party
	if pc.uscc:
		pc.uscc = validate_uscc(pc.uscc)
	pc.owner_name = frappe.db.get_value("User", pc.owned_by, "full_name") if pc.owned_by else None
	apply_review_decision(pc)


# Pool Customer fields that only crm_pool's actions change (claim, assign, release, lock, transfer,
# recycle, allocation, review), each with its Pool Log entry; never a form, REST or set_value.
OWNER_FIELDS = (
	"pool",
	"status",
	"owned_by",
	"exclusive_manager",  # 专属经理: crm_pool.grading.managers (assign, or the owner by default)
	"previous_owner",
	"claimed_at",
	"released_at",
	"pool_entered_at",
	"recycle_due_at",
	"reminder_sent_at",
	"last_followup_at",
	"last_deal_at",
	"first_followup_at",  # follow-up since the current owner got it: pool.followup.record_followup
	"followups_since_claim",
	"lock_reason",
	"party_type",
	"party",
	"lead",
	"customer",
)


def guard_owner_fields(pc: Document) -> None:
	"""Pool Customer validate: its owner, status, pool, dates and collaborators change through the
	actions only (crm_pool.api, each logged): a save through the form, REST (PUT / POST),
	frappe.client.save / set_value or an import that changes them is refused, a manager's too; other
	fields (grade, profile) stay editable. A new pool customer made outside intake has no owner and
	starts pending review or in the pool. The app's own writes are database writes or carry
	ignore_permissions; the review Workflow changes review_status, from which `apply_review_decision`
	(after this check) moves the status."""
	if pc.flags.ignore_permissions:
		return
	if pc.is_new():
		if pc.owned_by or pc.status not in (PENDING_REVIEW, IN_POOL, None, "") or pc.get("collaborators"):
			frappe.throw(
				_("A new pool customer has no owner: it is claimed or assigned afterwards"),
				AuditedPathError,
			)
		return
	before = pc.get_doc_before_save()
	if not before:
		return
	changed = [field for field in OWNER_FIELDS if _field_changed(pc, before, field)]
	if _collaborators(pc) != _collaborators(before):
		changed.append("collaborators")
	if changed:
		frappe.throw(
			_(
				"{0} of a pool customer change only through its actions (claim, assign, release, lock, "
				"transfer, collaborators), which keep its history"
			).format(", ".join(_(pc.meta.get_label(field)) for field in changed)),
			AuditedPathError,
			title=_("Not Allowed"),
		)


def _field_changed(pc: Document, before: Document, field: str) -> bool:
	old, new = before.get(field) or None, pc.get(field) or None
	if old and new and pc.meta.get_field(field).fieldtype == "Datetime":
		return get_datetime(old) != get_datetime(new)
	return old != new


def _collaborators(pc: Document) -> list[tuple[str, str]]:
	return sorted((row.user or "", row.access or "") for row in pc.get("collaborators") or [])


def apply_review_decision(pc: Document) -> None:
	"""When review_status changed (the Workflow), move a pending customer into the pool (or to its
	owner) or mark it invalid; the REVIEW log entry is written on update."""
	before = pc.get_doc_before_save()
	if not before or before.review_status == pc.review_status:
		return
	pc.flags.review_decision = (before.review_status, pc.review_status)
	if pc.status != PENDING_REVIEW:
		return
	if pc.review_status == REVIEW_APPROVED:
		pc.status = OWNED if pc.owned_by else IN_POOL
		if not pc.owned_by:
			pc.pool_entered_at = now_datetime()
	elif pc.review_status == REVIEW_REJECTED:
		pc.status = INVALID


def after_insert_pool_customer(pc: Document) -> None:
	if pc.flags.review_not_needed and pc.review_status == REVIEW_PENDING:
		# inserted in the workflow's first state (the Workflow requires it), then marked reviewed
		pc.db_set("review_status", REVIEW_APPROVED, update_modified=False)


def log_review(pc: Document) -> None:
	"""Pool Customer on_update: the REVIEW log entry of a review decision."""
	if pc.flags.review_decision:
		previous, decision = pc.flags.review_decision
		pc.flags.review_decision = None
		log_change(pc, REVIEW, to_user=pc.owned_by, reason=f"{previous} -> {decision}")


POOL_COUNTS = (
	"max_owned",
	"max_daily_claims",
	"cooldown_days",
	"no_followup_days",
	"no_deal_days",
	"reminder_days",
)


def validate_customer_pool(pool: Document) -> None:
	"""Customer Pool validate: the default pool is enabled; counts are not negative; a territory is
	covered by one enabled pool; members are listed once (with their full names); one rule per grade."""
	if pool.is_default and not pool.enabled:
		frappe.throw(_("The default pool must be enabled"))
	for field in POOL_COUNTS:
		if (pool.get(field) or 0) < 0:
			frappe.throw(_("{0} cannot be negative").format(_(pool.meta.get_label(field))))
	if pool.territory and pool.enabled:
		other = frappe.db.get_value(
			"Customer Pool",
			{"territory": pool.territory, "enabled": 1, "name": ("!=", pool.name or "")},
		)
		if other:
			frappe.throw(_("Territory {0} is already covered by the pool {1}").format(pool.territory, other))
	seen = set()
	for member in pool.get("members"):
		if member.user in seen:
			frappe.throw(_("Row {0}: {1} is already a member of this pool").format(member.idx, member.user))
		seen.add(member.user)
		member.full_name = frappe.db.get_value("User", member.user, "full_name") if member.user else None
	grades = set()
	for rule in pool.get("grade_rules"):
		if rule.grade in grades:
			frappe.throw(_("Row {0}: grade {1} already has a rule").format(rule.idx, rule.grade))
		grades.add(rule.grade)
		for field in ("no_followup_days", "no_deal_days"):
			if (rule.get(field) or 0) < 0:
				frappe.throw(
					_("Row {0}: {1} cannot be negative").format(rule.idx, _(rule.meta.get_label(field)))
				)


def make_only_default(pool: Document) -> None:
	"""Customer Pool on_update: a pool made the default pool takes that over from any other."""
	if pool.is_default:
		others = frappe.get_all(
			"Customer Pool", filters={"is_default": 1, "name": ("!=", pool.name)}, pluck="name"
		)
		if others:
			frappe.db.sql(
				"UPDATE `tabCustomer Pool` SET is_default = 0 WHERE is_default = 1 AND name != %s",
				pool.name,
			)
			frappe.msgprint(
				_("{0} is now the default pool instead of {1}").format(pool.name, ", ".join(others)),
				alert=True,
			)
