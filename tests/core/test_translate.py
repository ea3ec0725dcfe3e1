"""crm_pool.core.translate: the claim path's `_` answers as Frappe's does, from a dictionary each
process holds for a minute (a translation edited in the desk reaches it within that time)."""

from __future__ import annotations

import frappe
import pytest

from crm_pool.core import translate

MESSAGES = [
	"Cap Reached",  # crm_pool's own
	"{0} ({1}) has already been claimed by {2}",  # with placeholders
	"Message",  # Frappe's
	"<b>Already Claimed</b>",  # HTML: looked up without its tags, as Frappe does
	"a message nobody translated 6f1d",  # unknown: itself
]


@pytest.fixture
def fresh():
	translate.forget()
	yield
	translate.forget()
	frappe.translate.clear_cache()  # Frappe's Redis copy may hold a rolled-back translation


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_answers_as_frappe(fresh, lang):
	for msg in MESSAGES:
		assert translate._(msg, lang=lang) == frappe._(msg, lang=lang), msg
	assert translate._("Message", lang=lang, context="Default title of the message dialog") == frappe._(
		"Message", lang=lang, context="Default title of the message dialog"
	)
	frappe.local.lang = lang
	assert translate._("Cap Reached") == frappe._("Cap Reached")


def test_zh_is_translated(fresh):
	assert translate._("Cap Reached", lang="zh") != "Cap Reached"


def test_an_edited_translation_is_seen_after_the_held_time(fresh, monkeypatch):
	source = "Cap Reached"
	before = translate._(source, lang="zh")
	frappe.get_doc(
		{"doctype": "Translation", "language": "zh", "source_text": source, "translated_text": "上限测试"}
	).insert(ignore_permissions=True)
	assert frappe._(source, lang="zh") == "上限测试"  # Frappe reads its cache again at once
	assert translate._(source, lang="zh") == before  # held
	later = translate.time.monotonic() + translate.HELD_SECONDS + 1
	monkeypatch.setattr(translate.time, "monotonic", lambda: later)
	assert translate._(source, lang="zh") == "上限测试"
