"""Free text (reasons, notes) made inert before it is stored: no imports from the app, so that any
module may use it (the argument checks of whitelisted methods are in crm_pool.pool.inputs)."""

import re

from frappe.utils.html_utils import clean_html

# What a browser would read as markup: a tag, a closing tag, a comment or a declaration.
MARKUP = re.compile(r"<[A-Za-z!/?]")


def clean_text(value: str | None) -> str | None:
	"""Plain text kept as it is (a bare "<" or "->" included); text with markup in it reduced to inert
	formatting (scripts, styles, attributes and other tags removed)."""
	if not value or not isinstance(value, str) or not MARKUP.search(value):
		return value
	return clean_html(value).strip()
