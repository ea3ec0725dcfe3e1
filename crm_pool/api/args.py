"""Arguments from the client: the one decorator of every whitelisted method of crm_pool, and the one
parser of its arguments.

`api_method` replaces `frappe.whitelist`. It refuses, when the module is imported, a method whose
parameters or return value are not annotated (what `require_type_annotated_api_methods` asks of
Frappe v16). Before the method runs it checks the caller's roles (`roles`: the permission check
every method starts with), that the required arguments are there, and every argument against the
method's annotations with Frappe's own validator (`frappe.utils.typing_validations`); a bad
argument is a translated 4xx refusal (`InvalidArgument`), never a TypeError or a 500, and nothing is
written. The parsers below (`text`, `flag`, `limit`, `existing`, `user`, `names`, `pool_customer`)
check values further.
"""

import functools
import inspect
import json

import frappe
from frappe.exceptions import FrappeTypeError
from frappe.utils.html_utils import sanitize_html

from crm_pool.core.errors import InvalidArgument, PoolRuleError
from crm_pool.core.normalize import clean_text
from crm_pool.core.roles import MANAGER_ROLES, SELLING_ROLES
from crm_pool.core.translate import _
from crm_pool.pool.locking import read_pool_customer

MAX_NAME = 140  # a document name (VARCHAR(140))
MAX_REASON = 1000  # a reason or a note (Small Text)
MAX_NOTES = 20000  # hand-over notes (Text Editor)


def api_method(methods: list[str] | None = None, roles: tuple[str, ...] | None = None):
	"""`frappe.whitelist(methods=...)` with the checks described in the module docstring; `roles`: the
	caller must hold one of them."""

	def decorate(fn):
		signature = inspect.signature(fn)
		params = signature.parameters
		untyped = [n for n, p in params.items() if p.annotation is inspect.Parameter.empty]
		if untyped or signature.return_annotation is inspect.Signature.empty:
			raise TypeError(f"{fn.__qualname__}: annotate {', '.join(untyped) or 'the return value'}")
		required = [n for n, p in params.items() if p.default is inspect.Parameter.empty]

		# Frappe validates the annotations of the function it whitelists, with an untranslated
		# message: it gets a wrapper without annotations, and the wrapper validates them itself.
		@functools.wraps(fn, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
		def checked(*args, **kwargs):
			if roles and not set(frappe.get_roles()) & set(roles):
				if set(roles) <= set(MANAGER_ROLES):
					refusal = _("Only a manager may do this")
				elif set(roles) <= set(SELLING_ROLES):
					refusal = _("Only sales staff may do this")
				else:
					refusal = _("Your roles ({0}) do not allow this").format(
						", ".join(_(role) for role in roles)
					)
				frappe.throw(refusal, frappe.PermissionError)
			kwargs.update(zip(params, args, strict=False))
			for name in required:
				if _blank(kwargs.get(name)):
					frappe.throw(_("Missing argument: {0}").format(name), InvalidArgument)
			for name, value in list(kwargs.items()):
				if name not in params:
					continue  # frappe.call passes only the function's own parameters
				try:
					_args, one = frappe.utils.typing_validations.transform_parameter_types(
						fn, (), {name: value}
					)
				except FrappeTypeError:
					frappe.throw(
						_("Invalid argument {0}: expected {1}").format(name, _kind(fn, name)), InvalidArgument
					)
				kwargs[name] = one[name]
			try:
				return fn(**kwargs)
			except PoolRuleError as refusal:
				if not _answers_the_request(fn):  # called from Python: the caller decides
					raise
				return _refused(refusal)

		return frappe.whitelist(methods=methods)(checked)

	return decorate


def _answers_the_request(fn) -> bool:
	"""Is `fn` the method the request (REST API v1, `/api/method/…`) calls?"""
	from frappe.api import ApiVersion, get_api_version

	return (
		getattr(frappe.local, "request", None) is not None
		and frappe.local.form_dict.get("cmd") == f"{fn.__module__}.{fn.__name__}"
		and get_api_version() == ApiVersion.V1
	)


def _refused(refusal: PoolRuleError) -> None:
	"""The answer to a request a rule refused (a claim someone else won, a cap reached…), as Frappe
	gives it for the exception (REST API v1, error tracebacks off): what the request wrote (if it
	wrote anything) rolled back, HTTP 417, `exc_type`, and the refusal's message with its title in
	`_server_messages` (`frappe.throw` put it there). Without Frappe's exception path, which formats
	a traceback nobody reads (a twentieth of a refused claim). With tracebacks on (System
	Settings), the exception goes its way, traceback included."""
	if frappe.get_system_settings("allow_error_traceback"):
		raise refusal
	if frappe.db.transaction_writes:  # else nothing to undo, and the request's commit ends it
		frappe.db.rollback()
	frappe.local.response["exc_type"] = type(refusal).__name__
	frappe.local.response["http_status_code"] = refusal.http_status_code


def _blank(value) -> bool:
	return value is None or (isinstance(value, str) and not value.strip())


def _kind(fn, name: str) -> str:
	hint = fn.__annotations__.get(name)
	return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def text(value, label: str, *, required: bool = False, max_length: int = MAX_REASON) -> str | None:
	"""A reason or a note from the client: a string of at most `max_length` characters, with any
	HTML reduced to inert formatting (scripts, styles, attributes and other tags removed). Empty is
	None (or a refusal when `required`)."""
	if value is not None and not isinstance(value, str):
		frappe.throw(_("{0} must be text").format(_(label)), InvalidArgument)
	value = (value or "").strip()
	if not value:
		if required:
			frappe.throw(_("Please give {0}").format(_(label)), InvalidArgument)
		return None
	if len(value) > max_length:
		frappe.throw(
			_("{0} is too long: at most {1} characters").format(_(label), max_length), InvalidArgument
		)
	return clean_text(value)


def rich_text(value, label: str, *, max_length: int = MAX_NOTES) -> str | None:
	"""Text Editor content (hand-over notes): Frappe's sanitizer, always applied."""
	if value is not None and not isinstance(value, str):
		frappe.throw(_("{0} must be text").format(_(label)), InvalidArgument)
	if not (value or "").strip():
		return None
	if len(value) > max_length:
		frappe.throw(
			_("{0} is too long: at most {1} characters").format(_(label), max_length), InvalidArgument
		)
	return sanitize_html(value, always_sanitize=True)


def flag(value, label: str) -> int:
	"""0 or 1 (also from "0"/"1", true/false); anything else is refused."""
	if value in (None, ""):
		return 0
	if isinstance(value, bool):
		return int(value)
	if isinstance(value, int | str) and str(value).strip().lower() in ("0", "1", "true", "false"):
		return 1 if str(value).strip().lower() in ("1", "true") else 0
	frappe.throw(_("{0} must be 0 or 1").format(_(label)), InvalidArgument)


def limit(value, label: str, maximum: int, default: int | None = None) -> int:
	"""A whole number from 1 to `maximum` (`default` when not given)."""
	if value in (None, "") and default is not None:
		return default
	try:
		number = int(str(value).strip()) if not isinstance(value, bool) else None
	except ValueError:
		number = None
	if number is None or not 1 <= number <= maximum:
		frappe.throw(_("{0} must be a whole number from 1 to {1}").format(_(label), maximum), InvalidArgument)
	return number


def name_of(value, label: str) -> str:
	"""A document name: a non-empty string of at most MAX_NAME characters."""
	if not isinstance(value, str) or not value.strip():
		frappe.throw(_("Please choose {0}").format(_(label)), InvalidArgument)
	if len(value) > MAX_NAME:
		frappe.throw(_("{0} {1} does not exist").format(_(label), value[:40] + "…"), frappe.DoesNotExistError)
	return value.strip()


def existing(doctype: str, value, label: str | None = None) -> str:
	"""The name of an existing `doctype` record, else a clear refusal (404)."""
	label = label or doctype
	value = name_of(value, label)
	if not frappe.db.exists(doctype, value):
		frappe.throw(_("{0} {1} does not exist").format(_(label), value), frappe.DoesNotExistError)
	return value


def user(value, label: str = "User") -> str:
	"""An existing, enabled user."""
	value = existing("User", value, label)
	if not frappe.db.get_value("User", value, "enabled"):
		frappe.throw(_("User {0} is disabled").format(value), InvalidArgument)
	return value


def names(value, label: str, maximum: int, *, required: bool = True) -> list[str]:
	"""A list of at most `maximum` distinct names (a list, a JSON list or comma-separated text); empty
	is refused, or [] when not `required`."""
	if isinstance(value, str):
		value = value.strip()
		if value.startswith("["):
			try:
				value = json.loads(value)
			except ValueError:
				frappe.throw(_("Please choose one or more {0}").format(_(label)), InvalidArgument)
		else:
			value = [v.strip() for v in value.split(",") if v.strip()]
	if not value and not required:
		return []
	if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
		frappe.throw(_("Please choose one or more {0}").format(_(label)), InvalidArgument)
	value = list(dict.fromkeys(v.strip() for v in value))
	if len(value) > maximum:
		frappe.throw(_("Please choose at most {0} {1} at a time").format(maximum, _(label)), InvalidArgument)
	if any(len(v) > MAX_NAME for v in value):
		frappe.throw(_("Please choose one or more {0}").format(_(label)), InvalidArgument)
	return value


def mapping(value, label: str) -> dict:
	"""A dict (or a JSON object as text); empty is {}."""
	if value in (None, ""):
		return {}
	if isinstance(value, str):
		try:
			value = json.loads(value)
		except ValueError:
			value = None
	if not isinstance(value, dict):
		frappe.throw(_("Invalid {0}").format(_(label)), InvalidArgument)
	return value


def pool_customer(value, *, for_claim: bool = False) -> str:
	"""The name of a pool customer the caller may read, else a clear refusal (404 / 403). For a claim
	or a request, a customer of one of the caller's pools will do: if someone else took it meanwhile,
	the claim says so."""
	return pool_customer_row(value, for_claim=for_claim).name


def pool_customer_row(value, *, for_claim: bool = False) -> frappe._dict:
	"""`pool_customer`, returning the customer's columns a change of ownership reads, as read without
	locks (`locking.read_pool_customer`): the one read of a claim's argument."""
	if not value or not isinstance(value, str):
		frappe.throw(_("Please choose a pool customer"), InvalidArgument)
	member = frappe.session.user if for_claim else None
	row = read_pool_customer(value, member=member) if len(value) <= MAX_NAME else None
	if not row:
		frappe.throw(_("Pool customer {0} does not exist").format(value[:40]), frappe.DoesNotExistError)
	if for_claim and row.is_member:
		return row
	frappe.get_doc("Pool Customer", row.name).check_permission("read")
	return row
