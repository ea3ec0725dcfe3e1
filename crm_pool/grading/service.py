"""The service each grade gets (SPEC §4, seed 003 专属经理客户管理办法): the Grade Service Policy.

One row per grade: the return-visit interval (回访), whether an exclusive manager (专属经理) is
required, the complaint times (first response within working hours, resolution within working days)
and the recycle-days override. Defaults ship with the app (`DEFAULTS`, written by `ensure_policy`).

Where each setting acts:
- visit interval: the daily planner (`grading.visits.plan_visits`);
- exclusive manager required: `grading.managers` (defaults to the owner; A customers without one are
  listed on the workspace);
- complaint times: the Service Level Agreement of the grade (one per grade, shipped as fixtures,
  `SLA-Issue-Grade A`...); saving the policy writes them into the agreement's priorities, counted in
  the agreement's working hours (its Service Day rows and Holiday List), as ERPNext counts them;
- recycle days: read by `crm_pool.pool.followup` (RULE_JOINS_SQL joins the policy row of the
  customer's grade): a pool's own grade rule wins, then the policy, then the pool's days.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import cint, flt, time_diff_in_seconds

from crm_pool.pool.followup import LARGE_POOL, RECYCLABLE, apply_to_pool

POLICY = "Grade Service Policy"
GRADES = ("A", "B", "C")
# seed 003: A 专属经理 and priority, B regular visits, C basic contact; complaint times from issue 10.
DEFAULTS = {
	"A": {
		"visit_interval_days": 30,
		"exclusive_manager_required": 1,
		"response_hours": 4,
		"resolution_days": 2,
	},
	"B": {
		"visit_interval_days": 60,
		"exclusive_manager_required": 0,
		"response_hours": 8,
		"resolution_days": 3,
	},
	"C": {
		"visit_interval_days": 180,
		"exclusive_manager_required": 0,
		"response_hours": 24,
		"resolution_days": 5,
	},
}
HOLIDAY_LIST = "CRM Pool Service Holidays"


PRIORITIES = ("Low", "Medium", "High")  # ERPNext's setup wizard makes these; the agreements list them


def prepare_support() -> None:
	"""ERPNext tracks Service Level Agreements (it refuses to save one otherwise) and the Issue
	priorities the shipped agreements list exist: run before the fixtures are imported."""
	if not frappe.db.get_single_value("Support Settings", "track_service_level_agreement"):
		frappe.db.set_single_value("Support Settings", "track_service_level_agreement", 1)
	for priority in PRIORITIES:
		if not frappe.db.exists("Issue Priority", priority):
			frappe.get_doc({"doctype": "Issue Priority", "name": priority}).insert(ignore_permissions=True)


def sla_name(grade: str) -> str:
	"""The Service Level Agreement shipped for `grade` (ERPNext names it SLA-{doctype}-{level})."""
	return f"SLA-Issue-Grade {grade}"


def policy() -> dict[str, frappe._dict]:
	"""{grade: its policy row}; a grade without a row gets the shipped defaults."""
	rows = frappe.get_all(
		"Grade Service Policy Row",
		filters={"parent": POLICY, "parenttype": POLICY},
		fields=[
			"grade",
			"visit_interval_days",
			"exclusive_manager_required",
			"response_hours",
			"resolution_days",
			"no_followup_days",
			"no_deal_days",
			"service_level_agreement",
		],
	)
	result = {g: frappe._dict(DEFAULTS[g], grade=g, service_level_agreement=sla_name(g)) for g in GRADES}
	result.update({row.grade: row for row in rows})
	return result


def ensure_policy() -> None:
	"""Write the default rows (and link each grade's agreement) when the policy has none (install,
	migrate); then make sure ERPNext tracks agreements and the agreements carry the policy's times."""
	doc = frappe.get_single(POLICY)
	if not doc.get("policies"):
		for grade in GRADES:
			doc.append(
				"policies", dict(DEFAULTS[grade], grade=grade, service_level_agreement=sla_name(grade))
			)
		doc.flags.ignore_permissions = True
		doc.save()
	else:
		sync_service_level_agreements(doc)


def validate_policy(doc) -> None:
	"""One row per grade; no negative numbers; the response comes before the resolution."""
	seen = set()
	for row in doc.get("policies"):
		if row.grade in seen:
			frappe.throw(_("Grade {0} appears twice in the service policy").format(row.grade))
		seen.add(row.grade)
		for field in ("visit_interval_days", "no_followup_days", "no_deal_days"):
			if cint(row.get(field)) < 0:
				frappe.throw(
					_("Row {0}: {1} cannot be negative").format(row.idx, _(row.meta.get_label(field)))
				)
		if flt(row.response_hours) <= 0 or flt(row.resolution_days) <= 0:
			frappe.throw(
				_("Row {0}: complaint response and resolution times must be positive").format(row.idx)
			)
		if not row.service_level_agreement and frappe.db.exists(
			"Service Level Agreement", sla_name(row.grade)
		):
			row.service_level_agreement = sla_name(row.grade)


def policy_changed(doc) -> None:
	"""Grade Service Policy on_update: the agreements get the new complaint times, and the recycle due
	dates of owned customers follow the new recycle days (each pool at once, a large pool in a
	background job, as a pool's own rule change)."""
	sync_service_level_agreements(doc)
	before = doc.get_doc_before_save()

	def days(d) -> list[tuple]:
		return sorted((r.grade, cint(r.no_followup_days), cint(r.no_deal_days)) for r in d.get("policies"))

	if before is None or days(before) != days(doc):
		counts = frappe.get_all(
			"Pool Customer",
			filters={"status": ("in", RECYCLABLE)},
			fields=["pool", "count(name) as n"],
			group_by="pool",
		)
		for row in counts:
			apply_to_pool("crm_pool.pool.followup.recompute_due_for_pool", row.pool, row.n > LARGE_POOL)


def working_seconds_per_day(sla) -> int:
	"""The longest support day of an agreement, in seconds (a working day, for resolution days)."""
	spans = [time_diff_in_seconds(d.end_time, d.start_time) for d in sla.get("support_and_resolution")]
	return int(max(spans, default=0)) or 9 * 3600


def sync_service_level_agreements(doc=None) -> None:
	"""Write each grade's complaint times into its agreement: every Issue Priority gets the grade's
	response (hours) and resolution (working days × the agreement's working day), so an Issue of any
	priority finds its grade's agreement. Agreements that are missing are left alone (an admin may
	have removed them: the generic default applies)."""
	prepare_support()
	rows = {r.grade: r for r in (doc or frappe.get_single(POLICY)).get("policies")}
	priorities = frappe.get_all("Issue Priority", pluck="name", order_by="name")
	for grade, row in rows.items():
		name = row.service_level_agreement or sla_name(grade)
		if not frappe.db.exists("Service Level Agreement", name):
			continue
		sla = frappe.get_doc("Service Level Agreement", name)
		response = int(flt(row.response_hours) * 3600)
		resolution = int(flt(row.resolution_days) * working_seconds_per_day(sla))
		existing = {p.priority: p for p in sla.priorities}
		changed = False
		for priority in priorities:
			p = existing.get(priority) or sla.append("priorities", {"priority": priority})
			if (p.response_time, p.resolution_time) != (response, resolution):
				p.response_time, p.resolution_time = response, resolution
				changed = True
		if not any(p.default_priority for p in sla.priorities):
			sla.priorities[0].default_priority = 1
			changed = True
		if changed:
			sla.flags.ignore_permissions = True
			sla.save()
