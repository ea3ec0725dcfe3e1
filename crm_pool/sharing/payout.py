"""The referral reward's approval and its payment (SPEC §5, seed 000 "奖励发放").

- Workflow "Referral Reward": Draft → Submitted → Approved → Paid, every state docstatus 0 (the
  DocType is not submittable, so a cancelled payment reopens a Paid reward). Managers submit a
  computed draft (the sharer does not: a Sales User has no write access to rewards); a Sales Manager
  or Pool Manager approves or rejects (back to Draft); Accounts Manager, Accounts User or Sales
  Manager pays. Nobody decides or pays their own reward (`check_decider` with the sharer as the
  requester: SelfApprovalError), even as a manager. Outside Draft the content is frozen
  (`core.workflow.check_workflow_change`, the evidence lines too); approved_by, journal_entry and
  paid_on are written here only.
- Pay = one Journal Entry, made and submitted in the same transaction as the state change: Dr the
  reward expense account / Cr the payout account (the employee as party of a Payable account), the
  reverse sides for a negative net amount (clawbacks), none for a zero one. A Journal Entry linked to
  a reward (custom field `referral_reward`) submitted by an accountant pays it too; cancelling it
  reopens the reward (Approved); a reward never has two submitted Journal Entries.
- Paid: the rewarded shares of the evidence lines become Rewarded; reopened: Converted again.
- Who reads a reward: its sharer (own rewards only), managers, Accounts Manager and Accounts User.
- Sharing Settings: the company and the accounts the payment books to (`validate_settings`).
"""

import frappe
from frappe import _
from frappe.utils import flt, fmt_money, get_link_to_form, getdate, today

from crm_pool.core import workflow
from crm_pool.core.errors import PoolRuleError, SelfApprovalError
from crm_pool.core.roles import MANAGER_ROLES, POOL_MANAGER, SALES_MANAGER, SYSTEM_MANAGER, is_manager
from crm_pool.sharing.model import (
	APPROVED,
	CLAWBACK,
	CONVERTED,
	CUSTOMER_SHARE,
	DRAFT,
	PAID,
	REWARD,
	REWARD_LINE,
	REWARDED,
	SETTINGS,
	SUBMITTED,
)

JOURNAL_ENTRY = "Journal Entry"
ACCOUNTS_MANAGER, ACCOUNTS_USER = "Accounts Manager", "Accounts User"
ACCOUNTS_ROLES = (ACCOUNTS_MANAGER, ACCOUNTS_USER, SYSTEM_MANAGER)
DECIDER_ROLES = (SALES_MANAGER, POOL_MANAGER, SYSTEM_MANAGER)  # approve / reject
PAYER_ROLES = (ACCOUNTS_MANAGER, ACCOUNTS_USER, SALES_MANAGER, SYSTEM_MANAGER)  # pay
READER_ROLES = (*MANAGER_ROLES, ACCOUNTS_MANAGER, ACCOUNTS_USER)  # read every reward

# What the computation decided: frozen outside Draft, and never changed by the sharer.
CONTENT_FIELDS = (
	"sharer",
	"employee",
	"company",
	"currency",
	"period_start",
	"period_end",
	"business_line",
	"rule",
	"tier",
	"contracts",
	"revenue",
	"reward_amount",
	"clawback_amount",
	"net_amount",
)
LINE_FIELDS = ("kind", "reference_doctype", "reference_name", "customer_share", "amount", "contract_key")
# Written by this module only (the Workflow's transitions and the Journal Entry's events).
PAYMENT_FIELDS = ("approved_by", "journal_entry", "paid_on")
PAYOUT_ACCOUNT_TYPES = ("Payable", "Cash", "Bank")
# Set (frappe.flags) by the monthly computation while it rewrites drafts: it may rewrite a draft of
# whoever runs it; a person never edits their own reward by hand.
COMPUTING = "computing_referral_rewards"


# --- Sharing Settings ----------------------------------------------------------------------------


def settings() -> frappe._dict:
	"""The payout settings: company, reward_expense_account, payout_account, cost_center."""
	fields = ("company", "reward_expense_account", "payout_account", "cost_center")
	return frappe._dict({f: frappe.db.get_single_value(SETTINGS, f) for f in fields})


def validate_settings(doc) -> None:
	"""Sharing Settings: the accounts and cost center, when given, belong to its company; the reward
	expense account is an Expense account, the payout account a Payable, Cash or Bank one."""
	if any(doc.get(f) for f in ("reward_expense_account", "payout_account", "cost_center")):
		check_settings(frappe._dict(doc.as_dict()), complete=False)


def check_settings(s: frappe._dict, *, complete: bool = True) -> None:
	"""Refuse (translated) settings the payment cannot book with; `complete`: every field is needed."""
	if not s.company:
		frappe.throw(_("Set the company of referral reward payments in Sharing Settings"), PoolRuleError)
	labels = {
		"reward_expense_account": _("Reward Expense Account"),
		"payout_account": _("Payout Account"),
		"cost_center": _("Cost Center"),
	}
	if complete:
		missing = [label for f, label in labels.items() if not s.get(f)]
		if missing:
			frappe.throw(
				_("Sharing Settings miss what a reward payment books to: {0}").format(", ".join(missing)),
				PoolRuleError,
			)
	for field in ("reward_expense_account", "payout_account"):
		if not s.get(field):
			continue
		account = frappe.db.get_value(
			"Account",
			s[field],
			["company", "root_type", "account_type", "is_group", "disabled"],
			as_dict=True,
		)
		if not account or account.company != s.company or account.is_group or account.disabled:
			frappe.throw(
				_("{0} {1} is not a ledger account of company {2}").format(
					labels[field], s[field], s.company
				),
				PoolRuleError,
			)
		if field == "reward_expense_account" and account.root_type != "Expense":
			frappe.throw(_("The reward expense account must be an Expense account"), PoolRuleError)
		if field == "payout_account" and account.account_type not in PAYOUT_ACCOUNT_TYPES:
			frappe.throw(_("The payout account must be a Payable, Cash or Bank account"), PoolRuleError)
	if s.get("cost_center"):
		center = frappe.db.get_value("Cost Center", s.cost_center, ["company", "is_group"], as_dict=True)
		if not center or center.company != s.company or center.is_group:
			frappe.throw(
				_("Cost center {0} is not a ledger cost center of company {1}").format(
					s.cost_center, s.company
				),
				PoolRuleError,
			)


# --- the Workflow ----------------------------------------------------------------------------------


def validate(doc) -> None:
	"""Referral Reward.validate: the Workflow's transitions only, content frozen outside Draft, the
	deciders and payers never the sharer; Approved → Paid books the Journal Entry."""
	before = doc.get_doc_before_save()
	old = before.workflow_state if before else None
	new = doc.workflow_state or DRAFT
	for field in PAYMENT_FIELDS:  # never written by hand
		doc.set(field, before.get(field) if before else None)
	workflow.check_workflow_change(doc, before, "workflow_state", CONTENT_FIELDS, None, DRAFT)
	check_lines(doc, before, old)
	if not before or new == old:
		return
	if old == SUBMITTED and new in (APPROVED, DRAFT):
		check_decider(doc, old)
		doc.approved_by = frappe.session.user if new == APPROVED else None
	elif new == PAID:
		check_payer(doc, old)
		pay(doc)


def check_lines(doc, before, old: str | None) -> None:
	"""A reward's content and evidence lines are what the computation found in the documents: nobody
	makes or edits them by hand (a manager included: a hand-made amount would have no evidence); a
	wrong draft is computed again (`compute_rewards`) after its documents or rules are put right.
	Outside Draft even the computation leaves them alone."""
	if not before:
		if not frappe.flags.get(COMPUTING):
			frappe.throw(
				_("Referral rewards are computed from the documents (compute_rewards), not made by hand"),
				PoolRuleError,
				title=_("Not Allowed"),
			)
		return
	changed = workflow.changed_fields(doc, before, CONTENT_FIELDS)
	if _lines(doc) != _lines(before):
		changed.append("lines")
	if not changed:
		return
	if (old or DRAFT) != DRAFT:
		frappe.throw(
			_("Referral Reward {0} is {1}: only a draft can be changed").format(doc.name, _(old)),
			PoolRuleError,
		)
	if frappe.flags.get(COMPUTING):
		return
	if frappe.session.user in (doc.sharer, before.sharer):
		frappe.throw(_("You cannot change your own referral reward"), SelfApprovalError)
	frappe.throw(
		_(
			"A referral reward's amounts and evidence are computed from the documents: put the orders,"
			" invoices or rules right and compute the month again"
		),
		PoolRuleError,
		title=_("Not Allowed"),
	)


def _lines(doc) -> list[tuple]:
	return [tuple(flt(r.get(f)) if f == "amount" else r.get(f) for f in LINE_FIELDS) for r in doc.lines]


def check_decider(doc, old: str | None) -> None:
	"""Approve or Reject: a submitted reward, by a Sales Manager or Pool Manager who is not its sharer."""
	_check_actor(
		doc,
		old,
		SUBMITTED,
		DECIDER_ROLES,
		not_pending=_("Only a submitted referral reward can be approved or rejected"),
		own=_("You cannot approve or reject your own referral reward"),
		not_allowed=_("Only a Sales Manager or Pool Manager may approve referral rewards"),
	)


def check_payer(doc, old: str | None) -> None:
	"""Pay: an approved reward, by accounts staff or a Sales Manager who is not its sharer."""
	_check_actor(
		doc,
		old,
		APPROVED,
		PAYER_ROLES,
		not_pending=_("Only an approved referral reward can be paid"),
		own=_("You cannot pay your own referral reward"),
		not_allowed=_("Only accounts staff or a Sales Manager may pay referral rewards"),
	)


def _check_actor(doc, old: str | None, pending: str, roles: tuple[str, ...], **messages: str) -> None:
	"""The Workflow's decider check (core.workflow.check_decider) with the sharer as the requester."""
	user = frappe.session.user
	workflow.check_decider(
		frappe._dict(requester=doc.sharer, owner=doc.sharer),
		old,
		pending,
		user == "Administrator" or bool(set(frappe.get_roles(user)) & set(roles)),
		**messages,
	)


def on_update(doc) -> None:
	"""Referral Reward.on_update: Paid → its shares are Rewarded."""
	before = doc.get_doc_before_save()
	if doc.workflow_state == PAID and before and before.workflow_state != PAID:
		set_shares(doc.name, REWARDED)


# --- paying: one Journal Entry ---------------------------------------------------------------------


def pay(doc) -> None:
	"""Book the reward's net amount in one submitted Journal Entry (none for zero) and write it on the
	reward. Any refusal (settings, party, closed period) leaves no Journal Entry behind and the
	reward Approved: the exception undoes the savepoint and stops the save."""
	if not flt(doc.net_amount):
		doc.journal_entry, doc.paid_on = None, getdate(today())
		return
	je = journal_entry_for(doc)
	je.flags.ignore_permissions = True  # the payer needn't have Journal Entry rights
	je.flags.paying_reward = doc.name
	frappe.db.savepoint("referral_reward_payout")
	try:
		je.insert()
		je.submit()
	except Exception:
		frappe.db.rollback(save_point="referral_reward_payout")
		raise
	doc.journal_entry, doc.paid_on = je.name, getdate(je.posting_date)


def journal_entry_for(doc):
	"""The unsaved Journal Entry paying the reward: Dr expense (cost center) / Cr payout account (the
	employee as party of a Payable account); a negative net amount books the reverse sides."""
	s = settings()
	check_settings(s)
	if doc.company != s.company:
		frappe.throw(
			_("Referral Reward {0} is of company {1}; Sharing Settings pay rewards of {2}").format(
				doc.name, doc.company, s.company
			),
			PoolRuleError,
		)
	net = flt(doc.net_amount, doc.precision("net_amount"))
	amount = abs(net)
	expense = {"account": s.reward_expense_account, "cost_center": s.cost_center}
	payout = {"account": s.payout_account, "cost_center": s.cost_center}
	if frappe.db.get_value("Account", s.payout_account, "account_type") == "Payable":
		payout.update(party_type="Employee", party=employee_of(doc))
	debit, credit = (expense, payout) if net > 0 else (payout, expense)
	debit.update(debit_in_account_currency=amount, credit_in_account_currency=0)
	credit.update(debit_in_account_currency=0, credit_in_account_currency=amount)
	return frappe.get_doc(
		{
			"doctype": JOURNAL_ENTRY,
			"voucher_type": "Journal Entry",
			"company": s.company,
			"posting_date": today(),
			"referral_reward": doc.name,
			"user_remark": _("Referral reward {0} of {1} for {2} to {3}").format(
				doc.name, doc.sharer_name or doc.sharer, doc.period_start, doc.period_end
			),
			"accounts": [debit, credit],
		}
	)


def employee_of(doc) -> str:
	"""The reward's employee, else the sharer's Employee record; none: a translated refusal."""
	employee = doc.employee or frappe.db.get_value("Employee", {"user_id": doc.sharer, "status": "Active"})
	if not employee:
		frappe.throw(
			_(
				"{0} has no Employee record: the payout account is Payable and needs the employee as party"
			).format(doc.sharer_name or doc.sharer),
			PoolRuleError,
		)
	return employee


def set_shares(reward: str, status: str) -> None:
	"""The shares of the reward's evidence lines: Rewarded when it is paid; Converted again when it is
	reopened, unless another paid reward rewards them too. One UPDATE (a reward has many lines)."""
	if status == REWARDED:
		frm, other = CONVERTED, ""
	else:
		frm, other = (
			REWARDED,
			(
				f" AND NOT EXISTS (SELECT 1 FROM `tab{REWARD_LINE}` o JOIN `tab{REWARD}` r ON r.name = o.parent"
				" WHERE o.customer_share = s.name AND o.parent != %(reward)s AND r.workflow_state = %(paid)s)"
			),
		)
	frappe.db.sql(
		f"""UPDATE `tab{CUSTOMER_SHARE}` s SET s.status = %(status)s
		WHERE s.status = %(frm)s AND s.name IN (
			SELECT l.customer_share FROM `tab{REWARD_LINE}` l
			WHERE l.parent = %(reward)s AND l.parenttype = %(doctype)s AND l.kind != %(clawback)s
		){other}""",
		{
			"status": status,
			"frm": frm,
			"reward": reward,
			"doctype": REWARD,
			"clawback": CLAWBACK,
			"paid": PAID,
		},
	)


def make_journal_entry(reward: str) -> str:
	"""A draft Journal Entry paying an approved reward, prefilled as the Workflow's payment books it,
	for an accountant to check and submit (its submission pays the reward). An existing draft of the
	reward is returned rather than a second one."""
	doc = frappe.get_doc(REWARD, reward)
	doc.check_permission("read")
	if doc.workflow_state != APPROVED:
		frappe.throw(_("Only an approved referral reward can be paid"), PoolRuleError)
	if frappe.session.user == doc.sharer:
		frappe.throw(
			_("You cannot pay your own referral reward"), SelfApprovalError, title=_("Self Approval")
		)
	if not flt(doc.net_amount):
		frappe.throw(_("The net amount is zero: pay the reward with its Workflow action"), PoolRuleError)
	draft = frappe.db.get_value(JOURNAL_ENTRY, {"referral_reward": reward, "docstatus": 0})
	if draft:
		return draft
	je = journal_entry_for(doc)
	je.insert()  # with the accountant's own Journal Entry rights
	return je.name


# --- Journal Entry events (hooks.py) -------------------------------------------------------------


def journal_entry_validate(je, method=None) -> None:
	"""A Journal Entry linked to a reward: the reward is approved (unpaid), of the same company, has
	no other submitted Journal Entry; submitted, it books exactly the net amount, not by the sharer."""
	if not je.get("referral_reward"):
		return
	reward = frappe.db.get_value(
		REWARD,
		je.referral_reward,
		["name", "workflow_state", "company", "net_amount", "sharer"],
		as_dict=True,
	)
	if not reward:
		frappe.throw(_("Referral Reward {0} not found").format(je.referral_reward), PoolRuleError)
	other = frappe.db.get_value(
		JOURNAL_ENTRY, {"referral_reward": reward.name, "docstatus": 1, "name": ("!=", je.name or "")}
	)
	if other:
		frappe.throw(
			_("Referral Reward {0} is paid already by Journal Entry {1}").format(reward.name, other),
			PoolRuleError,
		)
	if reward.workflow_state != APPROVED:
		frappe.throw(
			_("Referral Reward {0} is {1}: only an approved reward is paid").format(
				reward.name, _(reward.workflow_state)
			),
			PoolRuleError,
		)
	if reward.company != je.company:
		frappe.throw(_("The Journal Entry must be of the reward's company {0}").format(reward.company))
	if je.docstatus == 1:
		if frappe.session.user == reward.sharer:
			frappe.throw(_("You cannot pay your own referral reward"), SelfApprovalError)
		if flt(je.total_debit, 2) != abs(flt(reward.net_amount, 2)):
			frappe.throw(
				_("The Journal Entry books {0}; Referral Reward {1} pays {2}").format(
					fmt_money(je.total_debit), reward.name, fmt_money(abs(flt(reward.net_amount)))
				),
				PoolRuleError,
			)


def journal_entry_on_submit(je, method=None) -> None:
	"""A submitted Journal Entry of a reward (an accountant's, not the Workflow's own) pays it."""
	if not je.get("referral_reward") or je.flags.get("paying_reward") == je.referral_reward:
		return
	frappe.db.set_value(
		REWARD,
		je.referral_reward,
		{"workflow_state": PAID, "journal_entry": je.name, "paid_on": je.posting_date},
	)
	set_shares(je.referral_reward, REWARDED)
	moved(je.referral_reward, _("Paid by Journal Entry {0}").format(get_link_to_form(JOURNAL_ENTRY, je.name)))


def journal_entry_on_cancel(je, method=None) -> None:
	"""Cancelling the Journal Entry that paid a reward reopens it: Approved, no Journal Entry, its
	shares Converted again, and a comment saying which entry was cancelled by whom."""
	if not je.get("referral_reward"):
		return
	if frappe.db.get_value(REWARD, je.referral_reward, "journal_entry") != je.name:
		return
	frappe.db.set_value(
		REWARD, je.referral_reward, {"workflow_state": APPROVED, "journal_entry": None, "paid_on": None}
	)
	set_shares(je.referral_reward, CONVERTED)
	moved(
		je.referral_reward,
		_("Journal Entry {0} was cancelled by {1}: the reward is Approved again").format(
			je.name, frappe.utils.get_fullname(frappe.session.user)
		),
	)


def moved(reward: str, comment: str) -> None:
	"""A reward's state changed by its Journal Entry (not by a Workflow action): say so on the reward,
	and bring the Workflow's open actions up to date as a Workflow action would (done for the old
	state, open for the new one's transitions)."""
	from frappe.workflow.doctype.workflow_action.workflow_action import process_workflow_actions

	doc = frappe.get_doc(REWARD, reward)
	doc.add_comment("Info", comment)
	process_workflow_actions(doc, "on_update")


# --- who reads a reward ----------------------------------------------------------------------------


def reads_every_reward(user: str) -> bool:
	"""Managers and accounts staff read every reward."""
	return is_manager(user) or bool(set(frappe.get_roles(user)) & set(READER_ROLES))


def reward_query(user: str | None = None) -> str:
	"""List condition: the sharer sees their own rewards; managers and accounts staff all."""
	user = user or frappe.session.user
	if reads_every_reward(user):
		return ""
	return f"`tab{REWARD}`.`sharer` = {frappe.db.escape(user)}"


def reward_line_query(user: str | None = None) -> str:
	"""List condition of the evidence lines read on their own (frappe.client.get_list with a parent
	doctype checks only that the user may read some reward): the lines of the rewards they may read."""
	user = user or frappe.session.user
	if reads_every_reward(user):
		return ""
	return (
		f"`tab{REWARD_LINE}`.`parent` IN (SELECT r.name FROM `tab{REWARD}` r"
		f" WHERE r.sharer = {frappe.db.escape(user)})"
	)


def has_reward_permission(doc, ptype: str | None = None, user: str | None = None, debug=False):
	"""A reward is read by its sharer, managers and accounts staff; nobody else."""
	user = user or frappe.session.user
	if reads_every_reward(user) or doc.is_new():
		return None
	return None if doc.get("sharer") == user else False
