"""Pool customer statuses and Pool Log actions: the one spelling of each, used everywhere."""

PENDING_REVIEW = "Pending Review"  # 待审核
IN_POOL = "In Pool"  # 公海中
OWNED = "Owned"  # 已领取/已分配
LOCKED = "Locked"  # 已锁定 (owned, exempt from recycling)
CONVERTED = "Converted"  # 已转化
INVALID = "Invalid"  # 无效

HAS_OWNER = (OWNED, LOCKED, CONVERTED)

# Pool Log actions
INTAKE, REVIEW, CLAIM, RELEASE, RECYCLE = "Intake", "Review", "Claim", "Release", "Recycle"
ASSIGN, LOCK, UNLOCK, CONVERT, TRANSFER, MERGE = "Assign", "Lock", "Unlock", "Convert", "Transfer", "Merge"
COLLABORATE = "Collaborate"  # a collaborator (协作人) added, changed or removed; the owner stays
EXCLUSIVE_MANAGER = "Exclusive Manager"  # 专属经理 set, changed or cleared; the owner stays

# review_status, the state field of the Workflow "Pool Customer Review" (审核)
REVIEW_PENDING, REVIEW_APPROVED, REVIEW_REJECTED = "Pending", "Approved", "Rejected"

# Collaborator access (Pool Customer Collaborator.access)
READ, READ_WRITE = "Read", "Read/Write"


def owned_status(party_type: str) -> str:
	"""The status of an owned pool customer: a Customer is 已转化 converted, a Lead 已领取 owned."""
	return CONVERTED if party_type == "Customer" else OWNED


# `owned_status` in SQL, for a pool customer `pc` that gets an owner; a locked one stays locked.
OWNED_STATUS_SQL = (
	f"IF(pc.status = '{LOCKED}', '{LOCKED}', IF(pc.party_type = 'Customer', '{CONVERTED}', '{OWNED}'))"
)
