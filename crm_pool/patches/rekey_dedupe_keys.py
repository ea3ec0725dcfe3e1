"""Dedupe keys become keyed hashes (issue 8): re-key the stored ones in place, set-based.

Before, mobile_key and email_key were the plain SHA-256 hex of the normalized value and name_key the
normalized company name itself. Now each is HMAC-SHA256 under the site's secret of that SHA-256 hex
(`normalize.dedupe_key`), so one UPDATE computes the new keys from the stored ones (`normalize.dedupe_key_sql`).
Listed before adopt_existing_parties: on a site where neither ran, the old keys are re-keyed first
and adoption then writes keyed hashes itself.
"""

import frappe

from crm_pool.core import normalize


def execute():
	if not frappe.db.has_column("Pool Customer", "name_key"):
		return
	mobile, values = normalize.dedupe_key_sql("pc.mobile_key")
	email, _values = normalize.dedupe_key_sql("pc.email_key")
	name, _values = normalize.dedupe_key_sql("SHA2(pc.name_key, 256)")
	frappe.db.sql(
		f"""UPDATE `tabPool Customer` pc SET pc.mobile_key = {mobile}, pc.email_key = {email},
			pc.name_key = {name}
		WHERE pc.mobile_key IS NOT NULL OR pc.email_key IS NOT NULL OR pc.name_key IS NOT NULL""",
		values,
	)
