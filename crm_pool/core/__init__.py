"""The shared core of crm_pool: what every capability needs and no capability owns. Imports frappe
only, never a capability package (checked by the import-linter contracts in pyproject.toml)."""
