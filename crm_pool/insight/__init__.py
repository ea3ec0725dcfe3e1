"""Insight for managers (数据分析, SPEC §6): workspace, number cards, charts, reports. Empty until that
issue lands."""
