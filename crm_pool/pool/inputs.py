"""Arguments from the client: one checker for every whitelisted method, and free text (reasons,
notes) made inert before it is stored.

`api_method` replaces `frappe.whitelist` on crm_pool's methods. Before the method runs it checks
that the required arguments are there and validates every argument against the method's type
annotations with Frappe's own validator (`frappe.utils.typing_validations`); a bad argument is a
translated 4xx refusal (`InvalidArgument`), never a TypeError or a 500, and nothing is written.
The helpers below (`text`, `flag`, `limit`, `existing`, `names`) check values further.
"""

import functools
import inspect
import json

import frappe
from frappe import _
from frappe.exceptions import FrappeTypeError
from frappe.utils.html_utils import sanitize_html

from crm_pool.pool.ownership import PoolRuleError
from crm_pool.pool.text import clean_text

MAX_NAME = 140  # a document name (VARCHAR(140))
MAX_REASON = 1000  # a reason or a note (Small Text)
MAX_NOTES = 20000  # hand-over notes (Text Editor)


class InvalidArgument(PoolRuleError):
	"""An argument of a whitelisted method is missing, of the wrong type or out of range (HTTP 417,
	as every refusal of a pool rule)."""


def api_method(methods: list[str] | None = None):
	"""`frappe.whitelist(methods=...)` with the argument checks described in the module docstring."""

	def decorate(fn):
		params = inspect.signature(fn).parameters
		required = [n for n, p in params.items() if p.default is inspect.Parameter.empty]

		# Frappe validates the annotations of the function it whitelists, with an untranslated
		# message: it gets a wrapper without annotations, and the wrapper validates them itself.
		@functools.wraps(fn, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
		def checked(*args, **kwargs):
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
			return fn(**kwargs)

		return frappe.whitelist(methods=methods)(checked)

	return decorate


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


def names(value, label: str, maximum: int) -> list[str]:
	"""A non-empty list of at most `maximum` distinct names (a list, or a JSON list as text)."""
	if isinstance(value, str):
		try:
			value = json.loads(value)
		except ValueError:
			value = [value]
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
