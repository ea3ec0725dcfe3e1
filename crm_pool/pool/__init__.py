"""The domain of crm_pool: pools (公海), pool customers, ownership, and their rules.

Controllers and whitelisted methods stay thin and call into these modules.
"""
