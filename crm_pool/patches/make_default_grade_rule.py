"""Grading (客户分级): the default Customer Grade Rule and the regrade's indexes on sites installed
before them."""

from crm_pool.grading.rules import ensure_default_rule
from crm_pool.grading.scores import add_indexes


def execute() -> None:
	ensure_default_rule()
	add_indexes()
