"""Sharing customers across business lines (客户资源共享) and referral rewards (SPEC §5, seed 000).

- `model`: the names every module of the package uses (statuses, states, evidence kinds).
- `shares`: Customer Share (共享): intake through the pool's dedupe, the share following its customer,
  who reads a share, the sharer never quoting for a line they are not on.
- `rules`: Referral Reward Rule and its tiers (按最高奖金), the default rules of seed 000.
- `rewards`: the monthly set-based computation from submitted Sales Orders and Invoices, one contract
  rewarded once, clawbacks.
- `payout`: the reward's approval Workflow and its payment by Journal Entry.
- `summary`: the reports Referral Reward Summary and My Shares and Rewards.
"""
