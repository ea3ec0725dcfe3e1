"""Ownership mirrored into ERPNext, so every existing screen tells the truth (SPEC §1):
Lead.lead_owner, Customer.account_manager, and a Frappe assignment (ToDo + `_assign`) on the party.
"""

from __future__ import annotations

import json

import frappe
from frappe.desk.form import assign_to
from frappe.utils import escape_html, now_datetime

from crm_pool.core.roles import full_name
from crm_pool.core.translate import _

OWNER_FIELD = {"Lead": "lead_owner", "Customer": "account_manager"}
ASSIGNMENT_NOTE = "负责人 (crm_pool)"


def party_rows(pc) -> list[tuple[str, str]]:
	"""(doctype, name) of the ERPNext records a pool customer stands for: its lead and its customer."""
	rows = []
	if pc.get("lead"):
		rows.append(("Lead", pc.lead))
	if pc.get("customer"):
		rows.append(("Customer", pc.customer))
	if pc.get("party_type") in OWNER_FIELD and (pc.party_type, pc.party) not in rows:
		rows.append((pc.party_type, pc.party))
	return rows


def mirror_owner(pc, previous_owner: str | None) -> None:
	"""Write pc.owned_by to the party's owner field and move the Frappe assignment to it.

	A party whose owner field changes gets a new `modified` stamp: a form opened before the change
	(holding the previous owner) cannot be saved over it (Frappe's TimestampMismatchError)."""
	for doctype, name in party_rows(pc):
		field = OWNER_FIELD[doctype]
		if (frappe.db.get_value(doctype, name, field) or None) != (pc.owned_by or None):
			frappe.db.set_value(doctype, name, field, pc.owned_by or None)
	if not pc.get("party_type") or not pc.get("party"):
		return
	if previous_owner and previous_owner != pc.owned_by:
		assign_to.remove(pc.party_type, pc.party, previous_owner, ignore_permissions=True)
	if pc.owned_by and pc.owned_by != previous_owner:
		if not frappe.db.exists(
			"ToDo",
			{
				"reference_type": pc.party_type,
				"reference_name": pc.party,
				"allocated_to": pc.owned_by,
				"status": "Open",
			},
		):
			assign_to.add(
				{
					"assign_to": [pc.owned_by],
					"doctype": pc.party_type,
					"name": pc.party,
					"description": ASSIGNMENT_NOTE,
				},
				ignore_permissions=True,
			)


def assign_owner(
	pc,
	assigned: bool | None = None,
	*,
	owner_fields_written: bool = False,
	assign_written: bool = False,
	now=None,
) -> None:
	"""`mirror_owner` for a customer just claimed from the pool (pc.owned_by is the new owner, there
	was none before; `revoke_access_select` has run, or had nothing to end), with what Frappe's
	`assign_to.add` leaves but without its cost per call (a ToDo document and its hooks, the party
	loaded twice, a Comment document): the party's owner field (a new `modified` stamp, as
	`mirror_owner`), then unless the owner already has it (`assigned`: as read under the claim's locks
	with `assigned_sql`; None: asked here), an open ToDo as `assign_to.add` writes it, the party's
	`_assign` (the owner alone: nobody else's assignment is open after `revoke_access_select`), the
	"Assigned" comment in the timeline (with its realtime update of open forms), the owner's
	notification when someone else did it (Frappe's own `notify_assignment`), and the follow when
	the owner follows assigned documents. A few statements by primary key, whatever the party.
	`owner_fields_written` (and `assign_written`): the claim's own UPDATE wrote the parties' owner
	fields (and the party's `_assign`) already (`claimed_parties_sql`). `now`: the claim's time
	(default: now)."""
	owner, by = pc.owned_by, frappe.session.user
	now = now or now_datetime()
	doctype, name = pc.get("party_type"), pc.get("party")
	to_assign = bool(owner) and doctype in OWNER_FIELD and bool(name)
	if to_assign and assigned is None:
		assigned = bool(
			frappe.db.sql(  # plain SQL: frappe.qb builds a query anew, ~0.1 ms
				"""SELECT name FROM `tabToDo` WHERE reference_type = %s AND reference_name = %s
				AND status = 'Open' AND allocated_to = %s LIMIT 1""",
				(doctype, name, owner),
			)
		)
	to_assign = to_assign and not assigned
	if owner_fields_written and to_assign and not assign_written:
		frappe.db.sql(f"UPDATE `tab{doctype}` SET _assign = %s WHERE name = %s", (json.dumps([owner]), name))
	for party_type, party in [] if owner_fields_written else party_rows(pc):
		field = OWNER_FIELD[party_type]
		values = {"owner": owner, "now": now, "by": by, "name": party}
		if to_assign and (party_type, party) == (doctype, name):
			# the stamp first: MariaDB assigns left to right, each seeing the ones before
			frappe.db.sql(
				f"""UPDATE `tab{party_type}` SET modified = IF(`{field}` <=> %(owner)s, modified, %(now)s),
					modified_by = IF(`{field}` <=> %(owner)s, modified_by, %(by)s),
					`{field}` = %(owner)s, _assign = %(assign)s
				WHERE name = %(name)s""",
				dict(values, assign=json.dumps([owner])),
			)
			continue
		frappe.db.sql(
			f"""UPDATE `tab{party_type}` SET `{field}` = %(owner)s, modified = %(now)s, modified_by = %(by)s
			WHERE name = %(name)s AND NOT (`{field}` <=> %(owner)s)""",
			values,
		)
	if not to_assign:
		return
	description = escape_html(ASSIGNMENT_NOTE)
	by_name = full_name(by)
	frappe.db.sql(
		"""INSERT INTO `tabToDo` (name, creation, modified, owner, modified_by, docstatus, idx, status,
			priority, date, allocated_to, description, reference_type, reference_name, assigned_by,
			assigned_by_full_name)
		VALUES (%(todo)s, %(now)s, %(now)s, %(by)s, %(by)s, 0, 0, 'Open', 'Medium', %(today)s, %(owner)s,
			%(description)s, %(doctype)s, %(name)s, %(by)s,
			(SELECT full_name FROM `tabUser` WHERE name = %(by)s))""",
		{
			"todo": frappe.generate_hash(length=10),
			"now": now,
			"today": now.date(),
			"by": by,
			"owner": owner,
			"description": description,
			"doctype": doctype,
			"name": name,
		},
	)
	if by == owner:  # the words of Frappe's ToDo, in the language of the one who did it
		text = _("{0} self assigned this task: {1}").format(by_name, description)
	else:
		text = _("{0} assigned {1}: {2}").format(by_name, full_name(owner), description)
	comment = frappe._dict(
		doctype="Comment",
		name=frappe.generate_hash(length=10),
		creation=now,
		modified=now,
		owner=by,
		modified_by=by,
		docstatus=0,
		idx=0,
		comment_type="Assigned",
		comment_email=by,
		reference_doctype=doctype,
		reference_name=name,
		content=text,
		published=0,
		seen=0,
	)
	frappe.db.sql(
		"""INSERT INTO `tabComment` (name, creation, modified, owner, modified_by, docstatus, idx,
			comment_type, comment_email, reference_doctype, reference_name, content, published, seen)
		VALUES (%(name)s, %(creation)s, %(modified)s, %(owner)s, %(modified_by)s, 0, 0, %(comment_type)s,
			%(comment_email)s, %(reference_doctype)s, %(reference_name)s, %(content)s, 0, 0)""",
		comment,
	)
	frappe.publish_realtime(  # as Comment.notify_change: open forms show the assignment
		"docinfo_update",
		{"doc": comment, "key": "assignment_logs", "action": "add"},
		doctype=doctype,
		docname=name,
		after_commit=True,
	)
	if by != owner:  # Frappe tells no one of a self-assignment
		assign_to.notify_assignment(by, owner, doctype, name, action="ASSIGN", description=description)
	if frappe.get_cached_value("User", owner, "follow_assigned_documents"):
		from frappe.desk.form.document_follow import follow_document

		follow_document(doctype, name, owner)


PARTY_LINKS = (("Lead", "lead"), ("Customer", "customer"))


def claimed_parties_sql(row: dict, *, assign: bool) -> tuple[str, str]:
	"""What `assign_owner` writes to the parties of a locked Pool Customer (`row`: its `lead`,
	`customer` and `party_type`, which its lock holds still), as the JOIN and the
	SET of the claim's own UPDATE of it (`pc`, over the parameters %(_user)s: the new owner,
	%(_now)s, %(_by)s, and %(_assign)s: the party's `_assign`, the owner alone): the owner field of
	each party it links (its Lead, its Customer), a new `modified` stamp (a form opened before the
	claim cannot be saved over it), and with `assign` the `_assign` of its party (`party_type`).
	Only the parties the row links are joined: each joined table costs the UPDATE a temporary table
	(on disk: a party has TEXT columns). Each assignment a value: a multi-table UPDATE promises no
	order."""
	joins, sets = [], []
	for doctype, link in PARTY_LINKS:
		if not row.get(link):
			continue
		alias = f"party_{link}"
		joins.append(f"LEFT JOIN `tab{doctype}` {alias} ON {alias}.name = pc.{link}")
		sets.append(
			f"{alias}.`{OWNER_FIELD[doctype]}` = %(_user)s, {alias}.modified = %(_now)s, "
			f"{alias}.modified_by = %(_by)s"
		)
		if assign and row.get("party_type") == doctype:
			sets.append(f"{alias}._assign = %(_assign)s")
	return " ".join(joins), "".join(f", {s}" for s in sets)


def set_owner_fields_select(
	where_sql: str, values: dict, owner_sql: str, *, clear_assign: bool = False
) -> None:
	"""Set-based: Lead.lead_owner / Customer.account_manager of every Pool Customer `pc` matching
	`where_sql` become `owner_sql` (an SQL expression over `pc`: a parameter, NULL, a work table's
	column), and the party's `modified` stamp moves on (forms opened before cannot be saved over the
	change). With `clear_assign`, the party's `_assign` is emptied in the same pass (at a million
	customers the cost is reading the party rows, so they are read once)."""
	assign = ", party._assign = IF(pc.party_type = %(_dt)s AND pc.party = party.name, NULL, party._assign)"
	for doctype, link in PARTY_LINKS:
		frappe.db.sql(
			f"""UPDATE `tab{doctype}` party JOIN `tabPool Customer` pc ON pc.{link} = party.name
			SET party.{OWNER_FIELD[doctype]} = {owner_sql}, party.modified = %(_stamp)s,
				party.modified_by = %(_stamp_by)s{assign if clear_assign else ""}
			WHERE {where_sql}""",
			dict(values, _dt=doctype, **stamp()),
		)


def clear_owners_select(where_sql: str, values: dict) -> None:
	"""Set-based: for every Pool Customer `pc` matching `where_sql` (before its owner is cleared), empty
	the party's owner field, cancel the owner's open assignment and drop it from `_assign`."""
	frappe.db.sql(
		f"""
		UPDATE `tabToDo` todo JOIN `tabPool Customer` pc
			ON todo.reference_type = pc.party_type AND todo.reference_name = pc.party
			AND todo.allocated_to = pc.owned_by
		SET todo.status = 'Cancelled'
		WHERE todo.status = 'Open' AND {where_sql}
		""",
		values,
	)
	set_owner_fields_select(where_sql, values, "NULL", clear_assign=True)


def stamp() -> dict:
	"""Query values for a new `modified` stamp of the parties whose owner a set-based change moves."""
	return {"_stamp": now_datetime(), "_stamp_by": frappe.session.user}


def assigned_users(doctype: str, name: str) -> list[str]:
	return json.loads(frappe.db.get_value(doctype, name, "_assign") or "[]")


def move_owners_select(where_sql: str, values: dict, owner_sql: str) -> None:
	"""Set-based `mirror_owner` for a change of owner: for every Pool Customer `pc` matching
	`where_sql` (read before its owner changes: `pc.owned_by` is the old owner), the party's owner
	field becomes `owner_sql` (an SQL expression over `pc`), the old owner's assignments (open ToDos)
	on its Lead and Customer move to the new owner, the new owner is assigned the party if they were
	not already (an open ToDo, as Frappe's assignment makes), and `_assign` is rebuilt."""
	set_owner_fields_select(where_sql, values, owner_sql)
	moves: dict[str, list[str]] = {}
	for todo, owner in frappe.db.sql(
		f"""
		SELECT todo.name, {owner_sql} FROM `tabToDo` todo JOIN `tabPool Customer` pc
			ON todo.allocated_to = pc.owned_by AND (
				(todo.reference_type = 'Lead' AND todo.reference_name = pc.lead)
				OR (todo.reference_type = 'Customer' AND todo.reference_name = pc.customer))
		WHERE todo.status = 'Open' AND {where_sql}
		""",
		values,
	):
		moves.setdefault(owner, []).append(todo)
	for owner, todos in moves.items():
		move_assignments(todos, owner, refresh=False)
	now, by = now_datetime(), frappe.session.user
	frappe.db.sql(
		f"""
		INSERT INTO `tabToDo` (name, creation, modified, owner, modified_by, docstatus, idx, status,
			priority, date, allocated_to, description, reference_type, reference_name, assigned_by,
			assigned_by_full_name)
		SELECT LEFT(MD5(CONCAT(pc.name, UUID())), 10), %(_now)s, %(_now)s, %(_by)s, %(_by)s, 0, 0, 'Open',
			'Medium', %(_today)s, {owner_sql}, %(_note)s, pc.party_type, pc.party, %(_by)s, %(_by_name)s
		FROM `tabPool Customer` pc
		WHERE pc.party_type IN ('Lead', 'Customer') AND {where_sql} AND NOT EXISTS (
			SELECT 1 FROM `tabToDo` t WHERE t.reference_type = pc.party_type
			AND t.reference_name = pc.party AND t.allocated_to = {owner_sql} AND t.status = 'Open')
		""",
		dict(values, _now=now, _today=now.date(), _by=by, _by_name=full_name(by), _note=ASSIGNMENT_NOTE),
	)
	for doctype, link in PARTY_LINKS:
		refresh_assign_select(
			doctype, f"SELECT pc.{link} FROM `tabPool Customer` pc WHERE {where_sql}", values
		)


def move_assignments(todos: list[str], to_user: str | None, *, refresh: bool = True) -> int:
	"""Frappe assignments (open ToDos) `todos` go to `to_user`, set-based; with no `to_user` they are
	cancelled. A ToDo whose document already has an open one for `to_user` is cancelled rather than
	duplicated. `_assign` of their documents is recomputed (unless `refresh` is False). Returns how
	many ToDos were moved or cancelled."""
	todos = list(dict.fromkeys(todos))
	if not todos:
		return 0
	refs = frappe.get_all(
		"ToDo",
		filters={"name": ("in", todos)},
		fields=["reference_type", "reference_name"],
		distinct=True,
		as_list=True,
	)
	values = {"todos": tuple(todos), "to": to_user, "now": now_datetime(), "by": frappe.session.user}
	if to_user:
		frappe.db.sql(
			"""UPDATE `tabToDo` todo SET todo.status = 'Cancelled', todo.modified = %(now)s,
				todo.modified_by = %(by)s
			WHERE todo.name IN %(todos)s AND EXISTS (
				SELECT 1 FROM (SELECT reference_type, reference_name FROM `tabToDo`
					WHERE allocated_to = %(to)s AND status = 'Open') mine
				WHERE mine.reference_type = todo.reference_type
				AND mine.reference_name = todo.reference_name)""",
			values,
		)
		frappe.db.sql(
			"""UPDATE `tabToDo` SET allocated_to = %(to)s, modified = %(now)s, modified_by = %(by)s
			WHERE name IN %(todos)s AND status = 'Open'""",
			values,
		)
	else:
		frappe.db.sql(
			"""UPDATE `tabToDo` SET status = 'Cancelled', modified = %(now)s, modified_by = %(by)s
			WHERE name IN %(todos)s""",
			values,
		)
	if refresh:
		by_doctype: dict[str, list[str]] = {}
		for doctype, name in refs:
			if doctype and name:
				by_doctype.setdefault(doctype, []).append(name)
		for doctype, names in by_doctype.items():
			refresh_assign_select(doctype, "%(names)s", {"names": tuple(names)}, literal=True)
	return len(todos)


def refresh_assign_select(doctype: str, names_sql: str, values: dict, *, literal: bool = False) -> None:
	"""Recompute `_assign` of the `doctype` records whose names `names_sql` selects (a sub-SELECT, or
	with `literal` a parameter holding a tuple of names) from their open ToDos, as Frappe's ToDo does,
	in one UPDATE."""
	target = names_sql if literal else f"({names_sql})"
	frappe.db.sql(
		f"""
		UPDATE `tab{doctype}` d SET d._assign = COALESCE((
			SELECT CONCAT('[', GROUP_CONCAT(CONCAT('"', t.allocated_to, '"') ORDER BY t.creation SEPARATOR ', '), ']')
			FROM `tabToDo` t
			WHERE t.reference_type = %(_refresh_dt)s AND t.reference_name = d.name
				AND t.status NOT IN ('Cancelled', 'Closed') AND IFNULL(t.allocated_to, '') != ''), '')
		WHERE d.name IN {target}
		""",
		dict(values, _refresh_dt=doctype),
	)


def revoke_access_select(where_sql: str, values: dict) -> None:
	"""Access ends with ownership, set-based: for every Pool Customer `pc` matching `where_sql`, read
	after its owner changed (`pc.owned_by` is the new owner, NULL back in the pool), the Frappe shares
	(DocShare) of its Lead and Customer are removed and the open assignments (ToDo) on them of anyone
	but the new owner are cancelled, `_assign` following. Called by every change of owner (claim,
	assign, release, transfer, recycle): whoever worked on the party through a share or an assignment
	asks the new owner for a collaboration. (A claim leaves it out when its read under its locks found
	nothing to end: `access_to_revoke_sql`.)"""
	params = dict(values, _rv_now=now_datetime(), _rv_by=frappe.session.user)
	for doctype, link in PARTY_LINKS:
		params["_rv_dt"] = doctype
		frappe.db.sql(
			f"""DELETE share FROM `tabDocShare` share JOIN `tabPool Customer` pc
				ON share.share_doctype = %(_rv_dt)s AND share.share_name = pc.{link}
			WHERE {where_sql}""",
			params,
		)
		frappe.db.sql(
			f"""UPDATE `tabToDo` todo JOIN `tabPool Customer` pc
				ON todo.reference_type = %(_rv_dt)s AND todo.reference_name = pc.{link}
			SET todo.status = 'Cancelled', todo.modified = %(_rv_now)s, todo.modified_by = %(_rv_by)s
			WHERE todo.status = 'Open' AND NOT (todo.allocated_to <=> pc.owned_by) AND {where_sql}""",
			params,
		)
		refresh_assign_select(
			doctype, f"SELECT pc.{link} FROM `tabPool Customer` pc WHERE {where_sql}", values
		)


def access_to_revoke_sql(owner_sql: str) -> str:
	"""Whether `revoke_access_select` has anything to end for the Pool Customer `pc` once `owner_sql`
	(a parameter, or a column) owns it: a share of its Lead or Customer, or an open ToDo on them of
	anyone else. An SQL expression that stops at the first it finds (a claim from the pool usually
	finds none)."""
	exists = []
	for doctype, link in PARTY_LINKS:
		exists.append(
			f"""EXISTS (SELECT 1 FROM `tabDocShare` share
			WHERE share.share_doctype = '{doctype}' AND share.share_name = pc.{link})"""
		)
		exists.append(
			f"""EXISTS (SELECT 1 FROM `tabToDo` todo
			WHERE todo.reference_type = '{doctype}' AND todo.reference_name = pc.{link}
				AND todo.status = 'Open' AND NOT (todo.allocated_to <=> {owner_sql}))"""
		)
	return f"({' OR '.join(exists)})"


def assigned_sql(owner_sql: str) -> str:
	"""Whether `owner_sql` (a parameter, or a column) has an open assignment (ToDo) on the party of
	the Pool Customer `pc`: `assign_owner` then leaves the assignment as it is. An SQL expression."""
	return f"""EXISTS (SELECT 1 FROM `tabToDo` mine WHERE mine.reference_type = pc.party_type
		AND mine.reference_name = pc.party AND mine.status = 'Open' AND mine.allocated_to = {owner_sql})"""
