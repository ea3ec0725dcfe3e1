"""Telling people what crm_pool did for or to them: a system notification (Notification Log, type
Alert: the bell in the desk) and an email queued through Frappe's Email Queue.

Mail never stops the work that triggered it: without an outgoing Email Account the email is skipped
(and noted in the log); a failure to queue it is logged, never raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import frappe
from frappe import _
from frappe.utils import escape_html

# How many rows a notification lists (the rest are counted).
LISTED = 20


def notify(
	users: str | Iterable[str],
	subject: str,
	message: str,
	*,
	link: str | None = None,
	document_type: str | None = None,
	document_name: str | None = None,
) -> None:
	"""A system notification and a queued email to each of `users` (one user or several)."""
	from frappe.desk.doctype.notification_log.notification_log import make_notification_logs

	if isinstance(users, str):
		users = [users]
	users = [user for user in dict.fromkeys(users) if user and user != "Guest"]
	if not users:
		return
	log = {"type": "Alert", "subject": subject, "email_content": message, "from_user": frappe.session.user}
	if document_type and document_name:
		log.update(document_type=document_type, document_name=document_name)
	if link:
		log["link"] = link
	make_notification_logs(frappe._dict(log), users)
	for user in users:
		send_email(user, subject, message, document_type=document_type, document_name=document_name)


def send_email(
	user: str,
	subject: str,
	message: str,
	*,
	document_type: str | None = None,
	document_name: str | None = None,
) -> bool:
	"""Queue an email to `user`; False when there is no outgoing Email Account (or only Frappe's
	muted-mail stand-in, which has no address), the user has no address, or queuing failed."""
	from frappe.email.doctype.email_account.email_account import EmailAccount

	email = frappe.db.get_value("User", {"name": user, "enabled": 1}, "email")
	if not email:
		return False
	account = EmailAccount.find_outgoing()
	if not account or not account.get("email_id"):
		frappe.logger("crm_pool").info(f"no outgoing Email Account: no mail to {user} ({subject})")
		return False
	try:
		frappe.sendmail(
			recipients=[email],
			subject=subject,
			message=message,
			reference_doctype=document_type,
			reference_name=document_name,
		)
	except Exception:
		frappe.log_error(title=f"crm_pool: mail to {user} not queued", reference_doctype=document_type)
		return False
	return True


def table(rows: Sequence[Sequence], lang: str, headers: Sequence[str] = (), total: int | None = None) -> str:
	"""The one listing of a notification: an HTML table of `rows` (plain values, escaped here) under
	`headers` (already in `lang`), the first LISTED rows only, with "and N more" when `total` (or the
	number of rows) is larger."""
	total = len(rows) if total is None else total
	cell = "<{0} style='text-align:left;padding:2px 8px'>{1}</{0}>"
	head = "".join(cell.format("th", escape_html(h)) for h in headers)
	body = "".join(
		"<tr>"
		+ "".join(cell.format("td", escape_html(str(v if v is not None else ""))) for v in row)
		+ "</tr>"
		for row in rows[:LISTED]
	)
	listed = min(len(rows), LISTED)
	more = f"<p>{escape_html(_('and {0} more', lang).format(total - listed))}</p>" if total > listed else ""
	thead = f"<thead><tr>{head}</tr></thead>" if headers else ""
	return f"<table>{thead}<tbody>{body}</tbody></table>{more}"
