"""crm_pool: customer resource pools (公海) for ERPNext v15."""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r'__version__ = "([^"]+)"', (HERE / "crm_pool" / "__init__.py").read_text()).group(1)

setup(
	name="crm_pool",
	version=VERSION,
	description="Customer resource pools (公海), allocation, ownership and grading for ERPNext",
	long_description=(HERE / "README.md").read_text(encoding="utf-8"),
	long_description_content_type="text/markdown",
	author="crm_pool developers",
	license="MIT",
	python_requires=">=3.10",
	packages=find_packages(include=["crm_pool", "crm_pool.*"]),
	include_package_data=True,
	zip_safe=False,
	# frappe and erpnext are installed by bench from their own repositories, not from PyPI.
	install_requires=[],
	extras_require={
		# the test command's lint gates (scripts/lint) run ruff and import-linter from the same env
		"test": ["pytest>=8,<9", "selenium>=4.20,<5", "ruff>=0.6,<1", "import-linter>=2.1,<3"],
	},
)
