"""Hand-over (交接): moving customers from one owner to another (or back to the pool) with their open
documents, under row locks and the receiver's caps, set-based; the hand-over notes as comments; the
receiver told. Used by approved transfers, conflict resolutions and merges."""

from __future__ import annotations

from collections import defaultdict

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.translate import get_user_lang
from frappe.utils import escape_html, get_fullname

from crm_pool.core import mirror, notify
from crm_pool.core.setbased import insert_records
from crm_pool.core.status import HAS_OWNER, RELEASE, TRANSFER
from crm_pool.pool.followup import OPEN_OPPORTUNITY_STATUSES
from crm_pool.pool.locking import cap_room, counts_toward_cap, lock_pool_customers
from crm_pool.pool.ownership import set_owner_many

DOCTYPE = "Ownership Transfer"
# Line results
MOVED, RELEASED, NOT_MOVED = "Moved", "Released", "Not Moved"
OPEN_QUOTATION_STATUSES = ("Draft", "Open", "Replied", "Partially Ordered")


def move_customers(
	names: list[str],
	from_user: str,
	to_user: str | None,
	*,
	reason: str,
	rule: str | None = None,
	override_cap: bool = False,
) -> dict[str, frappe._dict]:
	"""Move the pool customers `names` from `from_user` to `to_user` (None: back to the pool) with
	their open documents, under row locks, set-based. A customer that cannot move stays as it is.
	Returns per name: {moved, result, message, row, documents}."""
	results: dict[str, frappe._dict] = {}
	rows = lock_pool_customers(names)
	movable: list[frappe._dict] = []
	for name in dict.fromkeys(names):
		row = rows.get(name)
		problem = line_problem(name, row, from_user, to_user)
		results[name] = frappe._dict(moved=False, result=NOT_MOVED, message=problem, row=row, documents=0)
		if not problem:
			movable.append(row)
	if to_user:
		movable = within_caps(movable, to_user, override_cap, results)
	if not movable:
		return results
	documents = open_documents(movable, from_user)
	set_owner_many(movable, to_user, TRANSFER if to_user else RELEASE, reason=reason, rule=rule)
	move_open_documents(documents, from_user, to_user)
	for row in movable:
		result = results[row.name]
		result.moved, result.documents = True, documents.count_of(row.name)
		if to_user:
			result.result = MOVED
			result.message = _("Moved to {0}").format(get_fullname(to_user))
		else:
			result.result = RELEASED
			result.message = _("Back in the pool")
		if result.documents:
			result.message += "; " + _("{0} open documents moved with it").format(result.documents)
	return results


def line_problem(name: str, row: frappe._dict | None, from_user: str, to_user: str | None) -> str | None:
	"""Why this customer cannot move from `from_user`, or None."""
	if not row:
		if frappe.db.exists("Pool Customer", name):
			return _("{0} was just moved to another pool; please try again").format(name)
		return _("Pool customer {0} does not exist").format(name)
	if row.status not in HAS_OWNER or not row.owned_by:
		return _("{0} has no owner any more (status: {1})").format(row.customer_name, _(row.status))
	if row.owned_by != from_user:
		if row.owned_by == to_user:
			return _("{0} already owns it").format(get_fullname(to_user))
		return _("No longer owned by {0}: {1} owns it now").format(
			get_fullname(from_user), get_fullname(row.owned_by)
		)
	return None


def within_caps(
	rows: list[frappe._dict], to_user: str, override_cap: bool, results: dict[str, frappe._dict]
) -> list[frappe._dict]:
	"""The rows the receiver may take under each pool's cap (保有量上限), in line order; the others
	get the reason. With `override_cap` (a manager's decision) every row may move."""
	if override_cap:
		return rows
	by_pool: dict[str, list[frappe._dict]] = defaultdict(list)
	for row in rows:
		by_pool[row.pool].append(row)
	refused = set()
	for pool, pool_rows in by_pool.items():
		room, settings = cap_room(pool, to_user)
		if room is None:
			continue
		for row in pool_rows:
			if not counts_toward_cap(row.status, settings):
				continue
			if room > 0:
				room -= 1
				continue
			refused.add(row.name)
			results[row.name].message = _(
				"{0} would own more than {1} customers of pool {2}, the most allowed; a manager may "
				"override the cap"
			).format(get_fullname(to_user), settings.max_owned, settings.pool_name)
	return [row for row in rows if row.name not in refused]


# --- open documents (商机 · 报价 · 待办) ------------------------------------------------------------


class OpenDocuments(frappe._dict):
	"""The open Opportunities and Quotations of some pool customers, and the from-owner's open ToDos
	on them, each known by the pool customer it belongs to."""

	def count_of(self, pool_customer: str) -> int:
		return self.per_customer.get(pool_customer, 0)


def open_documents(rows: list[frappe._dict], from_user: str) -> OpenDocuments:
	"""Find (in a few queries) the open Opportunities and Quotations of these customers' Lead and
	Customer, and `from_user`'s open ToDos on them."""
	party_pc: dict[tuple[str, str], str] = {}
	for row in rows:
		for doctype, name in (("Lead", row.lead), ("Customer", row.customer)):
			if name:
				party_pc[(doctype, name)] = row.name
	docs = OpenDocuments(opportunities={}, quotations={}, todos={}, per_customer=defaultdict(int))
	leads = tuple(name for (doctype, name) in party_pc if doctype == "Lead") or ("",)
	customers = tuple(name for (doctype, name) in party_pc if doctype == "Customer") or ("",)
	for name, party_type, party in frappe.db.sql(  # set-based: every customer's documents at once
		"""SELECT name, opportunity_from, party_name FROM `tabOpportunity`
		WHERE docstatus < 2 AND status IN %(open)s AND (
			(opportunity_from = 'Lead' AND party_name IN %(leads)s)
			OR (opportunity_from = 'Customer' AND party_name IN %(customers)s))""",
		{"open": OPEN_OPPORTUNITY_STATUSES, "leads": leads, "customers": customers},
	):
		docs.opportunities[name] = party_pc[(party_type, party)]
	opportunities = tuple(docs.opportunities) or ("",)
	for name, party_type, party, opportunity in frappe.db.sql(  # likewise
		"""SELECT name, quotation_to, party_name, opportunity FROM `tabQuotation`
		WHERE docstatus < 2 AND status IN %(open)s AND (
			(quotation_to = 'Lead' AND party_name IN %(leads)s)
			OR (quotation_to = 'Customer' AND party_name IN %(customers)s)
			OR opportunity IN %(opportunities)s)""",
		{
			"open": OPEN_QUOTATION_STATUSES,
			"leads": leads,
			"customers": customers,
			"opportunities": opportunities,
		},
	):
		pc = party_pc.get((party_type, party)) or docs.opportunities.get(opportunity)
		if pc:
			docs.quotations[name] = pc
	refs = {"Opportunity": docs.opportunities, "Quotation": docs.quotations}
	for todo, doctype, name in frappe.db.sql(  # likewise
		"""SELECT name, reference_type, reference_name FROM `tabToDo`
		WHERE status = 'Open' AND allocated_to = %(user)s AND (
			(reference_type = 'Opportunity' AND reference_name IN %(opportunities)s)
			OR (reference_type = 'Quotation' AND reference_name IN %(quotations)s))""",
		{"user": from_user, "opportunities": opportunities, "quotations": tuple(docs.quotations) or ("",)},
	):
		docs.todos[todo] = refs[doctype][name]
	for kind in ("opportunities", "quotations", "todos"):
		for pc in docs[kind].values():
			docs.per_customer[pc] += 1
	return docs


def move_open_documents(docs: OpenDocuments, from_user: str, to_user: str | None) -> None:
	"""The open Opportunities owned by `from_user` get `to_user` as their owner (none back in the
	pool); `from_user`'s open ToDos on the Opportunities and Quotations move to `to_user` (back in the
	pool: cancelled). Set-based."""
	if docs.opportunities:
		frappe.db.sql(
			"""UPDATE `tabOpportunity` SET opportunity_owner = %(to)s
			WHERE name IN %(names)s AND opportunity_owner = %(from)s""",
			{"to": to_user, "from": from_user, "names": tuple(docs.opportunities)},
		)
	mirror.move_assignments(list(docs.todos), to_user)


def handover_text(doc: Document, to_user: str | None) -> str:
	"""The Info comment a party gets: who from, who to (or the pool), the trigger, the notes."""
	target = get_fullname(to_user) if to_user else _("the pool")
	text = _("Ownership transferred from {0} to {1} ({2}, {3}).").format(
		escape_html(get_fullname(doc.from_owner)),
		escape_html(target),
		_(doc.trigger),
		f'<a href="/app/ownership-transfer/{doc.name}">{doc.name}</a>',
	)
	if doc.handover_notes:
		text += "<br>" + _("Hand-over notes:") + " " + doc.handover_notes
	return text


def add_handover_comments(doc: Document, moved: list[frappe._dict], to_user: str | None) -> None:
	"""交接: the hand-over notes as a comment on the transfer, and an Info comment on each moved
	customer's party, inserted in one statement (so they do not count as follow-ups)."""
	if doc.handover_notes:
		doc.add_comment("Comment", _("Hand-over notes:") + " " + doc.handover_notes)
	if not moved:
		return
	user = frappe.session.user
	text = handover_text(doc, to_user)
	comment = {
		"comment_type": "Info",
		"content": text,
		"comment_email": user,
		"comment_by": get_fullname(user),
	}
	insert_records(
		"Comment",
		[
			dict(comment, reference_doctype=row.party_type, reference_name=row.party)
			for row in moved
			if row.party_type and row.party
		],
	)


def notify_receiver(doc: Document, to_user: str, moved: list[frappe._dict]) -> None:
	"""The new owner learns what they received, in their language: a system notification and a
	queued email listing the first customers and the hand-over notes."""
	lang = get_user_lang(to_user)
	subject = _("{0} customers were transferred to you from {1} ({2})", lang=lang).format(
		len(moved), get_fullname(doc.from_owner), _(doc.trigger, lang=lang)
	)
	listing = notify.table(
		[(row.customer_name, row.name) for row in moved],
		lang,
		(_("Customer", lang), _("Customer Code", lang)),
	)
	message = f"<p>{escape_html(subject)}</p>{listing}"
	if doc.handover_notes:
		message += f"<p><b>{_('Hand-over Notes', lang=lang)}</b></p>{doc.handover_notes}"
	notify.notify(
		[to_user],
		subject,
		message,
		link=f"/app/ownership-transfer/{doc.name}",
		document_type=DOCTYPE,
		document_name=doc.name,
	)
