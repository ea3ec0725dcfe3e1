"""Ownership conflicts show the claimant the owner masked (issue 8): fill current_owner_masked of
the existing conflicts (张伟 -> 张*, as `normalize.mask_person_name`), set-based. The owner, their name
and the details are now for managers only (permlevel 1)."""

import frappe


def execute():
	if not frappe.db.has_column("Ownership Conflict", "current_owner_masked"):
		return
	name = "COALESCE(NULLIF(u.full_name, ''), oc.current_owner)"
	frappe.db.sql(
		f"""UPDATE `tabOwnership Conflict` oc LEFT JOIN `tabUser` u ON u.name = oc.current_owner
		SET oc.current_owner_masked = CONCAT(LEFT({name}, 1), REPEAT('*', GREATEST(1, CHAR_LENGTH({name}) - 1)))
		WHERE oc.current_owner IS NOT NULL AND oc.current_owner_masked IS NULL"""
	)
