"""Counts and sums of credits, disputes and payments in [start, end): Decimal sums, grouped in Python."""
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.account_check.service import REVERSAL_PREFIX, SYSTEM_ACCOUNT_CHECK
from backend.arrangements.models import Arrangement
from backend.customers.models import Account
from backend.disputes.models import Credit, Dispute
from backend.enums import OPEN_DISPUTE_STATUSES
from backend.payments.models import Payment

# Payments the customer made in a chat: with the bot, with a specialist, or on the page the bot sent.
CHAT_SOURCES = ("bot", "specialist", "secure_page")
STAFF_ROLES = ("specialist", "supervisor", "admin")
_REASON_CODE = re.compile(r"^([a-z][a-z_]{1,39}):")


@dataclass(frozen=True)
class Group:
    """One row of a report table: the key's fields, how many, and the Decimal sum."""

    key: tuple[str, ...]
    count: int
    amount: Decimal


@dataclass(frozen=True)
class CreditSummary:
    count: int
    by_reason: list[Group]
    by_issuer: list[Group]


@dataclass(frozen=True)
class DisputeSummary:
    opened: int
    by_outcome: list[Group]
    by_resolver: list[Group]


@dataclass(frozen=True)
class PaymentSummary:
    by_source: list[Group]
    by_actor: list[Group]


def _grouped(rows: Iterable[tuple[tuple[str, ...], Decimal]]) -> list[Group]:
    counts: dict[tuple[str, ...], int] = defaultdict(int)
    sums: dict[tuple[str, ...], Decimal] = defaultdict(Decimal)
    for key, amount in rows:
        counts[key] += 1
        sums[key] += amount
    return [Group(key=key, count=counts[key], amount=sums[key])
            for key in sorted(counts, key=lambda k: (-counts[k], k))]


def credit_reason(credit: Credit, *, waiver_credit_ids: set[int]) -> str:
    """The category a supervisor reads (docs/contracts.md, "Supervisor reports")."""
    if credit.issued_by == SYSTEM_ACCOUNT_CHECK.label:
        return "account_check"
    if credit.idempotency_key.startswith(REVERSAL_PREFIX):
        return "account_check_reversal"
    if credit.dispute_id is not None:
        return "dispute"
    if credit.id in waiver_credit_ids:
        return "late_fee_waiver"
    match = _REASON_CODE.match(credit.reason.strip())
    return match.group(1) if match else "other"


def _is_staff(actor: str | None) -> bool:
    return bool(actor) and str(actor).split(":", 1)[0] in STAFF_ROLES


def credits_between(session: Session, *, start: datetime, end: datetime) -> CreditSummary:
    rows = list(session.execute(
        select(Credit, Account.currency).join(Account, Account.id == Credit.account_id)
        .where(Credit.created_at >= start, Credit.created_at < end)))
    ids = [credit.id for credit, _ in rows]
    waivers = set(session.scalars(select(Arrangement.credit_id).where(
        Arrangement.kind == "late_fee_waiver", Arrangement.credit_id.in_(ids)))) if ids else set()
    waiver_ids = {credit_id for credit_id in waivers if credit_id is not None}
    return CreditSummary(
        count=len(rows),
        by_reason=_grouped(((credit_reason(c, waiver_credit_ids=waiver_ids), currency), c.amount)
                           for c, currency in rows),
        by_issuer=_grouped(((c.issued_by, currency), c.amount) for c, currency in rows),
    )


def disputes_between(session: Session, *, start: datetime, end: datetime) -> DisputeSummary:
    in_range_created = (Dispute.created_at >= start) & (Dispute.created_at < end)
    in_range_resolved = (Dispute.resolved_at >= start) & (Dispute.resolved_at < end)
    opened = list(session.execute(select(Dispute, Account.currency)
                                  .join(Account, Account.customer_id == Dispute.customer_id)
                                  .where(in_range_created)))
    decided = list(session.execute(select(Dispute, Account.currency)
                                   .join(Account, Account.customer_id == Dispute.customer_id)
                                   .where(in_range_resolved, Dispute.resolved_at.is_not(None))))
    undecided = [(d, currency) for d, currency in opened if d.status in OPEN_DISPUTE_STATUSES]
    outcomes = [((str(d.status), currency), d.amount) for d, currency in [*decided, *undecided]]
    return DisputeSummary(
        opened=len(opened),
        by_outcome=_grouped(outcomes),
        by_resolver=_grouped(((d.resolved_by or "unknown", str(d.status)), Decimal(0)) for d, _ in decided),
    )


def payments_between(session: Session, *, start: datetime, end: datetime) -> PaymentSummary:
    rows = list(session.execute(
        select(Payment, Account.currency).join(Account, Account.id == Payment.account_id)
        .where(Payment.created_at >= start, Payment.created_at < end,
               Payment.source.in_(CHAT_SOURCES))))
    return PaymentSummary(
        by_source=_grouped(((p.source, str(p.status), currency), p.amount) for p, currency in rows),
        by_actor=_grouped(((str(p.actor), currency), p.amount) for p, currency in rows if _is_staff(p.actor)),
    )
