"""Translations held by each process, for the messages of requests that must be cheap (SPEC §8).

Frappe's `_` reads the language's whole merged dictionary from Redis and unpickles it on the first
message of every request: about 5 ms for zh, a fifth of a claim's request and more of a refused
one (measured with py-spy under `benchmarks/claims_http.py`). `_` here answers exactly as Frappe's
does, from a copy of that dictionary each worker process keeps for `HELD_SECONDS`: a translation
edited in the desk (a Translation record, which clears Frappe's cache) reaches these messages within
that time. Import it as `_` where a hot path translates (the claim's modules): the message
extractor and `tests/test_translations.py` see the same `_("…")` calls.
"""

from __future__ import annotations

import time

import frappe
from frappe.translate import get_all_translations
from frappe.utils import is_html, strip_html_tags

HELD_SECONDS = 60.0

# (site, language) -> (when loaded, Frappe's merged dictionary of that language)
_held: dict[tuple[str, str], tuple[float, dict[str, str]]] = {}


def translations(lang: str) -> dict[str, str]:
	"""The merged dictionary of `lang` (Frappe's `get_all_translations`), as held by this process."""
	key = (getattr(frappe.local, "site", None) or "", lang)
	now = time.monotonic()
	held = _held.get(key)
	if held is None or now - held[0] > HELD_SECONDS:
		held = _held[key] = (now, get_all_translations(lang))
	return held[1]


def forget() -> None:
	"""Drop what this process holds (the next message reads Frappe's dictionary again)."""
	_held.clear()


def _(msg: str, lang: str | None = None, context: str | None = None) -> str:
	"""`frappe._`: `msg` in `lang` (the request's language by default), with the held dictionary."""
	if not hasattr(frappe.local, "lang"):
		frappe.local.lang = lang or "en"
	lang = lang or frappe.local.lang
	original = msg
	if is_html(msg):
		msg = strip_html_tags(msg)
	msg = frappe.as_unicode(msg).strip()
	found = translations(lang)
	translated = found.get(f"{msg}:{context}") if context else None
	return translated or found.get(msg) or original
