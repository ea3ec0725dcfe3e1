"""The pool: Employee's user_id index, by which a claim finds the claimant's department (its pool's
members may be departments), on sites installed before it (a new site gets it from Customer Pool
Member's on_doctype_update)."""

from crm_pool.core.settings import add_indexes


def execute() -> None:
	add_indexes()
