"""Before the grade agreements are imported as fixtures: ERPNext tracks Service Level Agreements and
the Issue priorities they list exist (the same as a new install)."""

from crm_pool.grading.service import prepare_support


def execute():
	prepare_support()
