"""Free text (reasons, notes) made inert before it is stored: no imports from the app, so that any
module may use it (the argument checks of whitelisted methods are in crm_pool.pool.inputs)."""

from frappe.utils.html_utils import clean_html


def clean_text(value: str | None) -> str | None:
	"""Plain text kept as it is; text with HTML in it reduced to inert formatting (scripts, styles,
	attributes and other tags removed)."""
	if not value or not isinstance(value, str) or ("<" not in value and ">" not in value):
		return value
	return clean_html(value).strip()
