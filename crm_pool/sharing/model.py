"""The names of sharing (SPEC §5): DocTypes, the statuses of a Customer Share, the Workflow states of a
Referral Reward and the kinds of its evidence lines. One name per concept; every module of the
package uses these."""

CUSTOMER_SHARE = "Customer Share"
REWARD_RULE = "Referral Reward Rule"
REWARD = "Referral Reward"
REWARD_LINE = "Referral Reward Line"
SETTINGS = "Sharing Settings"

# A Customer Share follows its customer: shared → accepted (claimed or allocated) → converted →
# rewarded; or it is not rewardable (the customer already existed) or rejected, each with a reason.
SHARED = "Shared"
ACCEPTED = "Accepted"
CONVERTED = "Converted"
REWARDED = "Rewarded"
NOT_REWARDABLE = "Not Rewardable"
REJECTED = "Rejected"
SHARE_STATUSES = (SHARED, ACCEPTED, CONVERTED, REWARDED, NOT_REWARDABLE, REJECTED)

# A Referral Reward moves through its Workflow: Draft → Submitted → Approved → Paid. Only a draft is
# computed again; from Submitted on it is frozen and later changes of its contracts are clawbacks.
DRAFT = "Draft"
SUBMITTED = "Submitted"
APPROVED = "Approved"
PAID = "Paid"
FROZEN_STATES = (SUBMITTED, APPROVED, PAID)

# Evidence lines of a reward; each carries a unique `contract_key` (one contract counted once, ever).
CONTRACT = "Contract"  # a submitted Sales Order of the shared customer for the line
REVENUE = "Revenue"  # a submitted Sales Invoice of the shared customer for the line (actual revenue)
ESTIMATE = "Estimate"  # the share's estimated revenue (rules on estimated revenue)
CLAWBACK = "Clawback"  # taken back from an earlier, frozen reward whose contract was cancelled/credited

REVENUE_UNIT = 10_000  # the rules' revenue is in 万元


def contract_key(kind: str, doctype: str, name: str) -> str:
	"""The unique key of one counted document: a Sales Order as a contract, a Sales Invoice as revenue,
	a share's estimate, or the clawback of one of those."""
	return f"{kind}:{doctype}:{name}"


def clawback_key(key: str) -> str:
	"""The unique key of the clawback of a counted document (taken back once, ever)."""
	return f"{CLAWBACK}:{key}"
