"""Grading (客户分级): the default Customer Grade Rule on sites installed before it existed."""

from crm_pool.grading.rules import ensure_default_rule


def execute() -> None:
	ensure_default_rule()
