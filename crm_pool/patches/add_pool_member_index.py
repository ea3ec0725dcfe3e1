"""The pool: Customer Pool Member's (parent, user) index, by which a claim finds the claimant's
member row of its pool, on sites installed before it (a new site gets it from the doctype's
on_doctype_update)."""

from crm_pool.core.settings import add_indexes


def execute() -> None:
	add_indexes()
