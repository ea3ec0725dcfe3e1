"""Adoption: bring the Leads and Customers that predate crm_pool into the pools (SPEC §1), so every
party has its Pool Customer and every form tells its pool status.

Runs after install, as a patch on existing sites, and on demand (`bench --site S crm-pool-adopt`).
Set-based: parties are read in chunks, their pool customer rows computed with intake's own rules
(the pool's masks, keyed dedupe keys, pool by territory) and written with one bulk INSERT per chunk, their INTAKE log
entries likewise, and the party's link back with one UPDATE … JOIN. No controller runs per row.

- A party with an owner (Lead.lead_owner / Customer.account_manager: an enabled user other than
  Administrator) is adopted as owned by them; others enter their pool directly (they are known to
  the company already: no review). ERPNext's owner field already shows the owner.
- A Customer made from a Lead (Customer.lead_name) is adopted once, as that Lead's Pool Customer.
- Existing duplicates are adopted as they are (reported by the dedupe keys later), never refused.
"""

from __future__ import annotations

import time

import frappe
from frappe import _
from frappe.utils import now_datetime

from crm_pool.core.log import insert_log_rows
from crm_pool.core.roles import NOT_A_PERSON
from crm_pool.core.setbased import insert_records
from crm_pool.core.settings import choose_pool, default_pool, mask_settings
from crm_pool.core.status import CONVERTED, IN_POOL, INTAKE, LOCKED, OWNED, REVIEW_APPROVED, owned_status
from crm_pool.pool.profile import CUSTOMER_FIELDS, LEAD_FIELDS, party_profile

SERIES = "PC-.YYYY.-.#####"
REASON = "Adopted from existing records"  # Pool Log reason of adopted parties (translated when written)
CHUNK = 2000


def reserve_names(count: int) -> list[str]:
	"""`count` consecutive names of the Pool Customer naming series, reserved in one UPDATE."""
	prefix = SERIES.replace(".YYYY.", now_datetime().strftime("%Y")).replace(".#####", "").replace(".", "")
	frappe.db.sql("INSERT IGNORE INTO `tabSeries` (name, current) VALUES (%s, 0)", prefix)
	current = frappe.db.sql("SELECT current FROM `tabSeries` WHERE name = %s FOR UPDATE", prefix)[0][0]
	frappe.db.sql("UPDATE `tabSeries` SET current = current + %s WHERE name = %s", (count, prefix))
	return [f"{prefix}{n:05d}" for n in range(current + 1, current + count + 1)]


def owners() -> dict[str, str]:
	"""Enabled users who may own customers, with their full names."""
	return {
		u.name: u.full_name or u.name
		for u in frappe.get_all(
			"User", filters={"enabled": 1, "user_type": "System User"}, fields=["name", "full_name"]
		)
		if u.name not in NOT_A_PERSON
	}


def pending(doctype: str, fields: tuple[str, ...], after: str, limit: int) -> list[frappe._dict]:
	"""The next parties of `doctype` (by name, after `after`) that have no Pool Customer yet."""
	link = "lead" if doctype == "Lead" else "customer"
	columns = ", ".join(f"p.`{f}`" for f in fields if frappe.db.has_column(doctype, f))
	extra = ""
	if doctype == "Lead":  # a converted lead is adopted through its Customer
		extra = "AND NOT EXISTS (SELECT 1 FROM `tabCustomer` c WHERE c.lead_name = p.name)"
	rows = frappe.db.sql(
		f"""SELECT {columns} FROM `tab{doctype}` p
		WHERE p.name > %(after)s {extra}
		AND NOT EXISTS (SELECT 1 FROM `tabPool Customer` pc WHERE pc.{link} = p.name)
		ORDER BY p.name LIMIT %(limit)s""",
		{"after": after, "limit": limit},
		as_dict=True,
	)
	for row in rows:
		row.doctype = doctype
	return rows


def adopt(doctype: str, chunk: int = CHUNK, commit: bool = True) -> int:
	"""Adopt every party of `doctype` without a Pool Customer; returns how many were adopted."""
	fields = LEAD_FIELDS if doctype == "Lead" else CUSTOMER_FIELDS
	owner_field = "lead_owner" if doctype == "Lead" else "account_manager"
	users, pools, masks, adopted, after = owners(), {}, {}, 0, ""
	while rows := pending(doctype, fields, after, chunk):
		after = rows[-1].name
		now = now_datetime()
		names = reserve_names(len(rows))
		pc_rows, log_rows = [], []
		for name, row in zip(names, rows, strict=True):
			territory = row.get("territory")
			if territory not in pools:
				pools[territory] = choose_pool(territory)
			pool = pools[territory]
			if not pool:
				continue
			if pool not in masks:
				masks[pool] = mask_settings(pool)
			profile = party_profile(row, masks[pool])
			owner = row.get(owner_field) if row.get(owner_field) in users else None
			pc = {
				"name": name, "owner": "Administrator", "modified_by": "Administrator", "naming_series": SERIES,
				"party_type": doctype, "party": row.name,
				"lead": row.name if doctype == "Lead" else row.get("lead_name"),
				"customer": row.name if doctype == "Customer" else None,
				"pool": pool, "status": owned_status(doctype) if owner else IN_POOL,
				"review_status": REVIEW_APPROVED, "owned_by": owner,
				"owner_name": users.get(owner) if owner else None,
				"claimed_at": now if owner else None, "pool_entered_at": None if owner else now,
				**profile,
			}  # fmt: skip
			pc_rows.append(pc)
			log_rows.append(
				{"name": frappe.generate_hash(length=12), "owner": "Administrator", "modified_by": "Administrator",
				 "pool_customer": name, "customer_name": pc["customer_name"], "action": INTAKE, "to_user": owner,
				 "pool": pool, "by_user": frappe.session.user, "at": now, "reason": _(REASON)}
			)  # fmt: skip
		insert_records("Pool Customer", pc_rows)
		insert_log_rows(log_rows)
		adopted += len(pc_rows)
		if commit:
			frappe.db.commit()
	link_back(doctype)
	if commit:
		frappe.db.commit()
	return adopted


def link_back(doctype: str) -> None:
	"""Fill the party's read-only pool_customer link, one UPDATE … JOIN."""
	link = "lead" if doctype == "Lead" else "customer"
	if not frappe.db.has_column(doctype, "pool_customer"):
		return  # the Custom Field arrives with the fixtures (after install hooks and patches)
	frappe.db.sql(
		f"""UPDATE `tab{doctype}` p JOIN `tabPool Customer` pc ON pc.{link} = p.name
		SET p.pool_customer = pc.name WHERE COALESCE(p.pool_customer, '') != pc.name"""
	)


def link_converted() -> None:
	"""Customers made from an adopted Lead outside crm_pool's hooks take over its Pool Customer."""
	frappe.db.sql(
		f"""UPDATE `tabPool Customer` pc JOIN `tabCustomer` c ON c.lead_name = pc.lead
		SET pc.customer = c.name, pc.party_type = 'Customer', pc.party = c.name,
			pc.status = IF(pc.status IN ('{OWNED}', '{LOCKED}'), '{CONVERTED}', pc.status)
		WHERE pc.customer IS NULL"""
	)


def adopt_existing(commit: bool = True, chunk: int = CHUNK) -> dict:
	"""Adopt the Customers (with their Leads), then the remaining Leads. Idempotent."""
	started = time.monotonic()
	if not default_pool() and not frappe.db.exists("Customer Pool", {"enabled": 1}):
		return {"customers": 0, "leads": 0, "seconds": 0.0}
	link_converted()
	customers = adopt("Customer", chunk, commit)
	leads = adopt("Lead", chunk, commit)
	return {"customers": customers, "leads": leads, "seconds": round(time.monotonic() - started, 1)}
