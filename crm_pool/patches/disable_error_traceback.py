"""Existing sites stop sending the server's traceback with error responses (see crm_pool.setup.errors)."""

from crm_pool.setup.errors import disable_error_traceback


def execute():
	disable_error_traceback()
