"""Hidden fields stay hidden in list queries (SPEC §7, issue 8).

Frappe v15 drops the fields a user may not read (a permlevel without read access) from the columns
of a list query, but not from its filters, sort or grouping (frappe/model/db_query.py): a sales user
could ask `/api/resource/Pool Customer?filters=[["mobile_key","=",…]]`, or sort or group by a key,
and learn from which rows come back. Here every list query run with permissions — REST
`/api/resource`, `frappe.client.get_list/get_value` (and `get_count`, which Frappe runs without any
permission: `get_count` below replaces it), the list and report views
(`frappe.desk.reportview`), export, sidebar stats and group-by counts, link search — is refused when
a filter, its sort or its grouping names a hidden field of one of `GUARDED_DOCTYPES` (for Pool
Customer: the dedupe keys, the previous owner). Users who may read those fields (managers) and
code that queries without permissions (`frappe.get_all`, `frappe.db`) are not concerned.

Frappe has no hook around `DatabaseQuery`: `install` wraps its `prepare_args` (where a query's
filters, sort and grouping are all known and nothing has run yet) once per process. It runs from the
`before_request` and `before_job` hooks (hooks.py), so before any query of a request or job, and
when this module is imported.
"""

from __future__ import annotations

import re
from functools import wraps

import frappe
from frappe import _
from frappe.model.db_query import DatabaseQuery

from crm_pool.core.errors import HiddenFieldQueryError

GUARDED_DOCTYPES = ("Pool Customer", "Ownership Conflict", "Pool Log")


def hidden_fields(doctype: str, user: str | None = None) -> dict[str, str]:
	"""Fieldname -> label of the fields of `doctype` whose permlevel `user` may not read."""
	meta = frappe.get_meta(doctype)
	high = meta.get_high_permlevel_fields()
	if not high:
		return {}
	access = meta.get_permlevel_access("read", user=user)
	return {df.fieldname: df.label or df.fieldname for df in high if df.permlevel not in access}


def _doctypes_of(query: DatabaseQuery) -> set[str]:
	"""The guarded doctypes a query reads or filters on."""
	names = {query.doctype}
	names.update(table[4:-1] for table in query.tables if table.startswith("`tab"))
	names.update(link.doctype for link in getattr(query, "link_tables", []) or [])
	for f in _filters(query):
		if isinstance(f, list | tuple) and len(f) >= 4 and isinstance(f[0], str):
			names.add(f[0])
	return names & set(GUARDED_DOCTYPES)


def _filters(query: DatabaseQuery) -> list:
	filters = []
	for group in (query.filters, query.or_filters):
		if isinstance(group, dict):
			group = [group]
		filters.extend(group or [])
	return filters


def _filter_texts(query: DatabaseQuery) -> list[str]:
	"""What each filter names: its fieldname (or the whole condition when it is SQL text)."""
	texts = []
	for f in _filters(query):
		if isinstance(f, str):
			texts.append(f)
		elif isinstance(f, dict):
			texts.extend(str(key) for key in f)
		elif isinstance(f, list | tuple) and f:
			texts.append(str(f[1] if len(f) >= 4 else f[0]))
	return texts


def check_query(query: DatabaseQuery, order_by: str | None = None) -> None:
	"""Refuse a permission-checked query whose filters, sort or grouping name a hidden field."""
	if query.flags.ignore_permissions:
		return
	doctypes = _doctypes_of(query)
	if not doctypes:
		return
	hidden: dict[str, tuple[str, str]] = {}
	for doctype in sorted(doctypes):
		for fieldname, label in hidden_fields(doctype, query.user).items():
			hidden.setdefault(fieldname, (doctype, label))
	if not hidden:
		return
	pattern = re.compile(
		r"\b(" + "|".join(re.escape(f) for f in sorted(hidden, key=len, reverse=True)) + r")\b"
	)
	for text in (*_filter_texts(query), order_by or "", query.order_by or "", query.group_by or ""):
		if match := pattern.search(str(text)):
			doctype, label = hidden[match.group(1)]
			frappe.throw(
				_("You may not filter, sort or group {0} by {1}").format(_(doctype), _(label)),
				HiddenFieldQueryError,
				title=_("Not Permitted"),
			)


@frappe.whitelist()
def get_count(doctype: str, filters=None, debug=False, cache=False) -> int:
	"""frappe.client.get_count (override_whitelisted_methods), with permissions.

	Frappe v15 counts there with `frappe.db.count`, which applies no permission at all: any user
	could count any table by any field, hidden ones included. This counts the records the user may
	read, through the same list query as get_list (so through `check_query` too)."""
	from frappe.utils import get_safe_filters

	if not isinstance(doctype, str) or not doctype:
		frappe.throw(_("Please give a document type"), frappe.ValidationError)
	rows = frappe.get_list(
		doctype,
		filters=get_safe_filters(filters),
		fields=[f"count(distinct `tab{doctype}`.`name`) as total_count"],
		limit_page_length=0,
	)
	return rows[0].get("total_count") if rows else 0


def install(*args, **kwargs) -> None:
	"""Wrap DatabaseQuery.prepare_args with `check_query` (idempotent; hooks pass arguments)."""
	original = DatabaseQuery.prepare_args
	if getattr(original, "crm_pool_guarded", False):
		return

	@wraps(original)
	def prepare_args(self, *a, **kw):
		args = original(self, *a, **kw)
		check_query(self, args.get("order_by") if isinstance(args, dict) else None)
		return args

	prepare_args.crm_pool_guarded = True
	DatabaseQuery.prepare_args = prepare_args


install()
