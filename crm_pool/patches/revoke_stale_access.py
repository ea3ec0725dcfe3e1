"""Access ends with ownership, for what predates that rule: Frappe shares and other users' open
assignments on the Lead/Customer of a pool customer nobody owns (in the pool, pending review,
invalid) are removed, as a release or recycle now does. Set-based; runs once."""

from __future__ import annotations

from crm_pool.core.mirror import revoke_access_select


def execute() -> None:
	revoke_access_select("pc.owned_by IS NULL", {})
