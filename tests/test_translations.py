"""Every text of the app a user reads has a zh translation (issue 12): DocType names, field labels,
Select options and descriptions; Report names, filters and columns; Number Card labels, Dashboard
Chart names; the Workspaces' labels, link cards, shortcuts and headers; the Workflows' states and
actions; and every `_("…")` / `__("…")` literal of the app's Python and JavaScript. A text counts as
translated when the site's zh translations have it: crm_pool/translations/zh.csv first, or Frappe's
and ERPNext's own (their words: Customer, From Date…). A text written in Chinese needs an English
entry instead (crm_pool/translations/en.csv), so an English user reads English.

The failure lists the missing texts with where they come from."""

from __future__ import annotations

import ast
import glob
import json
import os
import re
from collections import defaultdict

import frappe
import pytest
from frappe.desk.query_report import run
from frappe.translate import get_all_translations

APP = frappe.get_app_path("crm_pool")
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{2,}")  # an English word: the text is English (a Chinese gloss may follow)
# the same in every language: grades, codes, numbers, punctuation, placeholders only
NEUTRAL = re.compile(r"^[A-Z]{0,3}[\d\s%/.:,;+\-–—()<>=*#{}\[\]|]*$")
NAMING_SERIES = re.compile(r"^[A-Z]+[-.]\S*#+\S*$")  # PC-.YYYY.-.#####
JS_CALL = re.compile(r"""__\(\s*(["'`])((?:\\.|(?!\1).)*)\1""", re.S)


def _rel(path: str) -> str:
	return os.path.relpath(path, os.path.dirname(APP))


def _files(pattern: str) -> list[str]:
	return sorted(glob.glob(os.path.join(APP, pattern), recursive=True))


def _text(html: str) -> str:
	return re.sub(r"<[^>]+>", "", html or "").strip()


def collect() -> dict[str, set[str]]:
	"""{text: {where it comes from}} of every user-visible text of the app."""
	texts: dict[str, set[str]] = defaultdict(set)

	def add(text, where: str) -> None:
		if isinstance(text, str) and text.strip():
			texts[text.strip()].add(where)

	for path in _files("crm_pool/doctype/*/*.json"):
		doc = json.load(open(path, encoding="utf-8"))
		if doc.get("doctype") != "DocType":
			continue
		where = _rel(path)
		add(doc["name"], where)
		add(doc.get("description"), where)
		for df in doc.get("fields", []):
			add(df.get("label"), f"{where}:{df['fieldname']}")
			add(df.get("description"), f"{where}:{df['fieldname']}")
			if df.get("fieldtype") == "Select":
				for option in (df.get("options") or "").split("\n"):
					add(option, f"{where}:{df['fieldname']} option")
	for path in _files("crm_pool/report/*/*.json"):
		add(json.load(open(path, encoding="utf-8"))["name"], _rel(path))
	for path in _files("crm_pool/number_card/*/*.json"):
		add(json.load(open(path, encoding="utf-8"))["label"], _rel(path))
	for path in _files("crm_pool/dashboard_chart/*/*.json"):
		add(json.load(open(path, encoding="utf-8"))["chart_name"], _rel(path))
	for path in _files("crm_pool/workspace/*/*.json"):
		doc, where = json.load(open(path, encoding="utf-8")), _rel(path)
		for key in ("name", "label", "title"):
			add(doc.get(key), where)
		for link in doc.get("links", []):
			add(link.get("label"), f"{where} link")
		for row in doc.get("shortcuts", []):
			add(row.get("label"), f"{where} shortcut")
			add(row.get("format"), f"{where} shortcut format")
		for row in doc.get("number_cards", []) + doc.get("charts", []):
			add(row.get("label"), f"{where} card/chart")
		for block in json.loads(doc.get("content") or "[]"):
			if block["type"] == "header":
				add(_text(block["data"]["text"]), f"{where} header")
	for workflow in json.load(open(os.path.join(APP, "fixtures", "workflow.json"), encoding="utf-8")):
		where = f"fixtures/workflow.json {workflow['name']}"
		for row in workflow["states"]:
			add(row["state"], where)
		for row in workflow["transitions"]:
			add(row["action"], where)
	for path in _files("**/*.py"):
		for text in py_literals(path):
			add(text, _rel(path))
	for path in _files("**/*.js"):
		if "/public/dist/" in path or "/node_modules/" in path:
			continue
		for quote, text in JS_CALL.findall(open(path, encoding="utf-8").read()):
			if quote == "`" and "${" in text:
				continue
			add(text.replace("\\'", "'").replace('\\"', '"'), _rel(path))
	return texts


def py_literals(path: str) -> list[str]:
	"""The literal first arguments of `_()`, `frappe._()` and `_lt()` calls in a Python file."""
	found = []
	for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
		if not isinstance(node, ast.Call) or not node.args:
			continue
		func = node.func
		name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
		if (
			name in ("_", "_lt")
			and isinstance(node.args[0], ast.Constant)
			and isinstance(node.args[0].value, str)
		):
			found.append(node.args[0].value)
	return found


def report_columns() -> dict[str, set[str]]:
	"""The column labels of each Script Report of the app, as it runs (as Administrator, no filters;
	a report that needs filters is covered by its literals)."""
	texts: dict[str, set[str]] = defaultdict(set)
	for name in frappe.get_all(
		"Report", filters={"module": "CRM Pool", "report_type": "Script Report"}, pluck="name"
	):
		try:
			result = run(name, filters="{}", ignore_prepared_report=True)
		except Exception:
			frappe.db.rollback()
			frappe.clear_messages()
			continue
		for column in result.get("columns") or []:
			label = column.get("label") if isinstance(column, dict) else str(column).split(":")[0]
			if label:
				texts[label].add(f"report {name} column")
	return texts


def missing(texts: dict[str, set[str]]) -> list[str]:
	zh = get_all_translations("zh")
	en = get_all_translations("en")
	lines = []
	for text, where in sorted(texts.items()):
		if NEUTRAL.match(text) or NAMING_SERIES.match(text):
			continue
		if CJK.search(text) and not LATIN.search(text):
			if text not in en:
				lines.append(f"en  {text!r}  ({', '.join(sorted(where)[:2])})")
		elif text not in zh:
			lines.append(f"zh  {text!r}  ({', '.join(sorted(where)[:2])})")
	return lines


@pytest.fixture
def fresh_translations():
	frappe.translate.clear_cache()
	yield
	frappe.translate.clear_cache()


def test_every_text_of_the_app_has_a_translation(fresh_translations):
	texts = collect()
	columns = report_columns()
	assert columns, "no report of the app ran without filters: its columns were not checked"
	for text, where in columns.items():
		texts[text] |= where
	assert len(texts) > 500, "the collector found too little: is it reading the app?"
	lines = missing(texts)
	assert not lines, f"{len(lines)} texts without a translation:\n" + "\n".join(lines)


def test_the_check_fails_on_an_untranslated_text(fresh_translations):
	assert missing({"A text nobody translated, 12": {"here"}}) == [
		"zh  'A text nobody translated, 12'  (here)"
	]
	assert missing({"客户公海": {"x"}, "Customer Pool": {"x"}, "B": {"x"}}) == []
	assert missing({"没有英文的中文": {"y"}, "{} 待办": {"y"}}) == [
		"en  '{} 待办'  (y)",
		"en  '没有英文的中文'  (y)",
	]
	assert missing({"PC-.YYYY.-.#####": {"z"}, "Wait for review (待审核)": {"z"}}) == [
		"zh  'Wait for review (待审核)'  (z)"
	]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_row_of_the_translation_files_is_one_text(language):
	"""Each row is a text, its translation and an optional context, as Frappe reads the file (a text
	with a comma needs quotes): otherwise Frappe drops the row and writes an Error Log ("Bad
	translation") in every process that loads the translations, a claim's request included."""
	from frappe.translate import read_csv_file

	path = os.path.join(APP, "translations", f"{language}.csv")
	bad = [(i, row) for i, row in enumerate(read_csv_file(path), 1) if len(row) not in (2, 3)]
	assert not bad, f"{path}: rows that are not 'text,translation[,context]': {bad}"
