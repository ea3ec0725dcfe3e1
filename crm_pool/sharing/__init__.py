"""Sharing customers across business lines (客户资源共享) and referral rewards (SPEC §5). Empty until
that issue lands."""
