"""Placeholder on the ownership branch; the recycle branch owns this module (recompute_due)."""


def recompute_due(names: list[str]) -> None:
	return None
