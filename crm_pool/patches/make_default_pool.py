"""Sites installed before the default pool existed get one (the same as a new install)."""

from crm_pool.setup.install import make_default_pool


def execute():
	make_default_pool()
