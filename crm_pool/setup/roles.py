"""The roles crm_pool works with: one new role (Pool Manager) and ERPNext's sales roles."""

POOL_MANAGER = "Pool Manager"  # 公海管理员: runs pools, intake review, rules, allocation, recycling
SALES_MANAGER = "Sales Manager"  # 销售经理: approves, allocates, sees the team's data
SALES_USER = "Sales User"  # 销售: claims, follows up, releases, shares leads
SYSTEM_MANAGER = "System Manager"

MANAGER_ROLES = (POOL_MANAGER, SALES_MANAGER, SYSTEM_MANAGER)
