"""Complaints (客户投诉, seed 003 §7): ERPNext Issues linked to the customer, under the Service Level
Agreement of the customer's grade.

How the grade's agreement is chosen: ERPNext picks, among the enabled agreements for Issue, the first
non-default one whose `condition` holds, and the default agreement only after those. The Issue gets
three fields (`ISSUE_FIELDS`), filled before validation (`issue_before_validate`, so before
ERPNext's `apply` in the validate hooks): the pool customer of its Customer, the customer's grade
(`customer_grade`, fixed when the Issue is raised) and who serves the customer (the exclusive
manager, else the owner). The shipped agreements `SLA-Issue-Grade A/B/C` have the condition
`doc.customer_grade == "A"` (...), so the grade's agreement wins over a generic default one.

The serving manager is notified of a new complaint (`issue_after_insert`) and of a breach: the hourly
`check_breaches` lists open Issues whose first response or resolution is overdue by ERPNext's own
fields (`response_by`, `first_responded_on`, `resolution_by`, `resolution_date`), one notification per
manager, once per Issue (`sla_breach_notified_at`).

Sales users handle their customers' complaints: crm_pool gives Sales User and Sales Manager access to
Issue (`allow_sales_on_issues`), and `issue_query` / `has_issue_permission` narrow it to the Issues of
customers they may read (Support Team and the managers' roles keep every Issue).
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields
from frappe.translate import get_user_lang
from frappe.utils import now_datetime

from crm_pool.access.permissions import ALL, _visible, party_condition, scope
from crm_pool.core import notify
from crm_pool.core.roles import SALES_MANAGER, SALES_USER

ISSUE_FIELDS = {
	"Issue": [
		{
			"fieldname": "pool_customer",
			"fieldtype": "Link",
			"label": "Pool Customer",
			"options": "Pool Customer",
			"insert_after": "customer",
			"read_only": 1,
			"search_index": 1,
		},
		{
			"fieldname": "customer_grade",
			"fieldtype": "Data",
			"label": "Customer Grade",
			"insert_after": "pool_customer",
			"read_only": 1,
			"in_standard_filter": 1,
		},
		{
			"fieldname": "service_manager",
			"fieldtype": "Link",
			"label": "Exclusive Manager",
			"options": "User",
			"insert_after": "customer_grade",
			"read_only": 1,
			"in_standard_filter": 1,
			"search_index": 1,
		},
		{
			"fieldname": "sla_breach_notified_at",
			"fieldtype": "Datetime",
			"label": "SLA Breach Notified At",
			"insert_after": "agreement_status",
			"read_only": 1,
			"no_copy": 1,
		},
	]
}
OPEN_STATUSES = ("Open", "Replied", "On Hold")
# Roles that keep every Issue (ERPNext's support desk, and the app's all-scope roles).
ALL_ISSUE_ROLES = {"Support Team"}


def setup_issues() -> None:
	"""Install/migrate: the Issue fields, sales access to Issues."""
	create_custom_fields(ISSUE_FIELDS, update=True)
	allow_sales_on_issues()


def allow_sales_on_issues() -> None:
	"""Sales User and Sales Manager read, create and write Issues (ERPNext gives them to Support Team
	only); the record-level rules below keep them to their customers'. Frappe's `add_permission`
	copies the standard permissions first, so Support Team keeps its own."""
	from frappe.permissions import add_permission, update_permission_property

	for role in (SALES_USER, SALES_MANAGER):
		if frappe.db.exists("Custom DocPerm", {"parent": "Issue", "role": role, "permlevel": 0}):
			continue
		add_permission("Issue", role, 0)
		for ptype in ("write", "create", "report"):
			update_permission_property("Issue", role, 0, ptype, 1, validate=False)


def issue_before_validate(doc, method=None) -> None:
	"""Issue before_validate: the pool customer, grade and serving manager of its Customer (the grade
	is the one when the complaint was raised, or when its customer changes)."""
	if not doc.customer:
		doc.pool_customer = doc.customer_grade = None
		return
	if doc.pool_customer and not doc.is_new() and not doc.has_value_changed("customer"):
		return
	user = frappe.session.user
	if (
		not doc.flags.ignore_permissions
		and issue_condition(user)
		and not frappe.has_permission("Customer", "read", doc.customer, user=user)
	):
		frappe.throw(_("You may raise complaints only for customers you may read"), frappe.PermissionError)
	pc = frappe.db.get_value(
		"Pool Customer",
		{"customer": doc.customer},
		["name", "grade", "exclusive_manager", "owned_by"],
		as_dict=True,
	)
	doc.pool_customer = pc and pc.name
	doc.customer_grade = (pc and pc.grade) or None
	doc.service_manager = pc and (pc.exclusive_manager or pc.owned_by)


def issue_after_insert(doc, method=None) -> None:
	"""A new complaint of a pool customer: its serving manager is told, with the agreement's times."""
	if not doc.service_manager:
		return
	lang = get_user_lang(doc.service_manager)
	notify.notify(
		doc.service_manager,
		_("New complaint from {0}: {1}", lang).format(doc.customer_name or doc.customer, doc.subject),
		_("First response by {0}, resolution by {1} ({2}).", lang).format(
			doc.response_by or "-", doc.resolution_by or "-", doc.service_level_agreement or "-"
		),
		document_type="Issue",
		document_name=doc.name,
	)


def check_breaches() -> int:
	"""scheduler_events hourly: open Issues of pool customers whose first response or resolution is
	overdue and not yet notified; one notification per serving manager listing their Issues, then the
	Issues are marked notified. Returns the number of Issues."""
	now = now_datetime()
	rows = frappe.db.sql(  # locking read: two runs never notify the same Issue twice
		"""SELECT name, subject, customer_name, service_manager, response_by, resolution_by,
			IF(first_responded_on IS NULL AND response_by < %(now)s, 'response', 'resolution') AS missed
		FROM `tabIssue`
		WHERE service_manager IS NOT NULL AND sla_breach_notified_at IS NULL AND status IN %(open)s
			AND ((first_responded_on IS NULL AND response_by < %(now)s)
				OR (resolution_date IS NULL AND resolution_by < %(now)s))
		ORDER BY service_manager, name FOR UPDATE""",
		{"now": now, "open": OPEN_STATUSES},
		as_dict=True,
	)
	by_manager: dict[str, list] = {}
	for row in rows:
		by_manager.setdefault(row.service_manager, []).append(row)
	for manager, issues in by_manager.items():
		lang = get_user_lang(manager)
		headers = (_("Issue", lang), _("Customer", lang), _("Subject", lang), _("Missed", lang))
		listing = [
			(
				i.name,
				i.customer_name,
				i.subject,
				_("First response", lang) if i.missed == "response" else _("Resolution", lang),
			)
			for i in issues
		]
		notify.notify(
			manager,
			_("{0} complaints missed their service level", lang).format(len(issues)),
			notify.table(listing, lang, headers),
			document_type="Issue",
			document_name=issues[0].name,
		)
	if rows:
		frappe.db.sql(
			"UPDATE `tabIssue` SET sla_breach_notified_at = %(now)s WHERE name IN %(names)s",
			{"now": now, "names": tuple(r.name for r in rows)},
		)
	return len(rows)


# --- record-level access ---------------------------------------------------------------------------


def _all_issues(user: str) -> bool:
	return scope(user, "Issue") == ALL or bool(set(frappe.get_roles(user)) & ALL_ISSUE_ROLES)


def issue_condition(user: str) -> str:
	"""The Issues a sales user may see, as SQL on `tabIssue`: those of the Customers they may read,
	and those without a customer that they raised."""
	if _all_issues(user):
		return ""
	customers = party_condition("Customer", user)
	if not customers:
		return ""
	return (
		f"(`tabIssue`.customer IN (SELECT `tabCustomer`.name FROM `tabCustomer` WHERE {customers}) "
		f"OR (IFNULL(`tabIssue`.customer, '') = '' AND `tabIssue`.owner = {frappe.db.escape(user)}))"
	)


def issue_query(user: str | None = None) -> str:
	return issue_condition(user or frappe.session.user)


def has_issue_permission(doc, ptype: str | None = None, user: str | None = None, debug=False):
	user = user or frappe.session.user
	if doc.is_new():
		return None
	return None if _visible("Issue", doc.name, issue_condition(user)) else False
