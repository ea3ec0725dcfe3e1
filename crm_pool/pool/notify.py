"""Telling people: a system notification (Notification Log, type Alert) and a queued email.

Mail never stops the work that triggered it: without an outgoing Email Account the email is skipped
(and noted in the log); a failure to queue it is logged, never raised.
"""

from __future__ import annotations

from collections.abc import Iterable

import frappe


def notify(
	users: Iterable[str],
	subject: str,
	message: str,
	*,
	link: str | None = None,
	document_type: str | None = None,
	document_name: str | None = None,
) -> None:
	"""A system notification and a queued email to each of `users` (enabled ones only)."""
	from frappe.desk.doctype.notification_log.notification_log import make_notification_logs

	users = [user for user in dict.fromkeys(users) if user]
	if not users:
		return
	make_notification_logs(
		{
			"type": "Alert",
			"subject": subject,
			"email_content": message,
			"document_type": document_type,
			"document_name": document_name,
			"link": link,
		},
		users,
	)
	for user in users:
		send_email(user, subject, message)


def send_email(user: str, subject: str, message: str) -> None:
	"""Queue an email to `user`. Without an outgoing Email Account (or with only Frappe's muted-mail
	stand-in, which has no address) it is skipped; a failure is logged, never raised."""
	from frappe.email.doctype.email_account.email_account import EmailAccount

	email = frappe.db.get_value("User", {"name": user, "enabled": 1}, "email")
	if not email:
		return
	account = EmailAccount.find_outgoing()
	if not account or not account.get("email_id"):
		frappe.logger("crm_pool").warning(f"no outgoing Email Account: no mail to {user} ({subject})")
		return
	try:
		frappe.sendmail(recipients=[email], subject=subject, message=message)
	except Exception:
		frappe.log_error(title=f"crm_pool: mail to {user} not queued")
