"""Supervisors review the credits the account check issued, reverse one, and change the bot's limits.

A reversal is a credit row of the negated amount on the same account, invoice, line and dispute, keyed
`reversal:<the credit's key>` (unique: one reversal per credit, whatever the request), so the ledger's
sum(invoices) - sum(payments) - sum(credits) restores the balance. Every write is audited in its transaction.
"""
import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.account_check.service import REVERSAL_PREFIX, SYSTEM_ACCOUNT_CHECK, reversal_key
from backend.audit import service as audit
from backend.auth import Actor
from backend.billing.ledger import refresh_invoice_statuses
from backend.billing.models import Invoice
from backend.config import Settings
from backend.customers.models import Account
from backend.disputes.models import Credit, Dispute
from backend.errors import Forbidden, IdempotencyKeyReused, InvalidInput, NotFound
from backend.system_credits.limits import LIMITS_ROW, current_override
from backend.system_credits.models import AccountCheckLimits
from backend.system_credits.schemas import LimitsOut, LimitValues

SUPERVISOR_ROLES = frozenset({"supervisor", "admin"})
MAX_LISTED = 500


@dataclass
class SystemCreditView:
    credit: Credit
    customer_id: int
    currency: str
    invoice_number: str | None
    reversal: Credit | None


def require_supervisor(actor: Actor | None, *, what: str) -> Actor:
    if actor is None:
        raise InvalidInput(f"{what} is for a supervisor: send the X-Actor header, e.g. 'supervisor:sam'.")
    if actor.role not in SUPERVISOR_ROLES:
        raise Forbidden(f"The role {actor.role!r} may not do this; a supervisor must.")
    return actor


def _views(session: Session, rows: list[tuple[Credit, Account, str | None]]) -> list[SystemCreditView]:
    keys = [reversal_key(credit.idempotency_key) for credit, _, _ in rows]
    found = list(session.scalars(select(Credit).where(Credit.idempotency_key.in_(keys)))) if keys else []
    reversals = {r.idempotency_key: r for r in found}
    return [
        SystemCreditView(
            credit=credit,
            customer_id=account.customer_id,
            currency=account.currency,
            invoice_number=number,
            reversal=reversals.get(reversal_key(credit.idempotency_key)),
        )
        for credit, account, number in rows
    ]


_SYSTEM_CREDITS = (
    select(Credit, Account, Invoice.number)
    .join(Account, Account.id == Credit.account_id)
    .outerjoin(Invoice, Invoice.id == Credit.invoice_id)
    .where(Credit.issued_by == SYSTEM_ACCOUNT_CHECK.label)
)


def list_system_credits(session: Session, *, start: datetime, end: datetime) -> list[SystemCreditView]:
    rows = session.execute(
        _SYSTEM_CREDITS.where(Credit.created_at >= start, Credit.created_at < end)
        .order_by(Credit.created_at.desc(), Credit.id.desc())
        .limit(MAX_LISTED)
    )
    return _views(session, [(c, a, n) for c, a, n in rows])


def _key_fingerprint(idempotency_key: str) -> str:
    return hashlib.sha256(f"reverse:{idempotency_key}".encode()).hexdigest()


def reverse_credit(
    session: Session, *, credit_id: int, reason: str, actor: Actor, idempotency_key: str, now: datetime,
    today: date,
) -> tuple[SystemCreditView, bool]:
    """Returns the credit with its reversal and whether the reversal was made now (False: it existed)."""
    fingerprint = _key_fingerprint(idempotency_key)
    row = session.execute(
        _SYSTEM_CREDITS.where(Credit.id == credit_id).with_for_update(of=Credit)
    ).first()
    if row is None:
        raise NotFound(f"No credit {credit_id} issued by the account check.")
    credit, account, number = row
    key = reversal_key(credit.idempotency_key)
    reused = session.scalar(
        select(Credit.idempotency_key).where(
            Credit.request_fingerprint == fingerprint, Credit.idempotency_key.startswith(REVERSAL_PREFIX)
        )
    )
    if reused is not None and reused != key:
        raise IdempotencyKeyReused("This Idempotency-Key was already used to reverse another credit.")
    existing = session.scalar(select(Credit).where(Credit.idempotency_key == key))
    if existing is not None:
        return _views(session, [(credit, account, number)])[0], False
    reversal = Credit(
        account_id=credit.account_id, invoice_id=credit.invoice_id, line_item_id=credit.line_item_id,
        dispute_id=credit.dispute_id, amount=-credit.amount,
        reason=f"Reversal of credit {credit.id}: {reason}", issued_by=actor.label, idempotency_key=key,
        request_fingerprint=fingerprint, created_at=now,
    )
    session.add(reversal)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()  # another request reversed it first: one reversal
        again = session.execute(_SYSTEM_CREDITS.where(Credit.id == credit_id)).first()
        assert again is not None
        return _views(session, [(again[0], again[1], again[2])])[0], False
    dispute = session.get(Dispute, credit.dispute_id) if credit.dispute_id else None
    if dispute is not None:
        dispute.reversed_by = actor.label
        dispute.reversed_at = now
        dispute.reversal_reason = reason
    audit.record(
        session, actor=actor, action="write.credit.reverse", resource=f"credit:{credit.id}",
        customer_id=account.customer_id, reason=reason,
        details={
            "credit_id": credit.id, "reversal_credit_id": reversal.id, "amount": f"{credit.amount:.2f}",
            "dispute_id": credit.dispute_id, "invoice_number": number, "idempotency_key": idempotency_key,
        },
    )
    refresh_invoice_statuses(session, account=account, today=today)
    session.commit()
    return SystemCreditView(
        credit=credit, customer_id=account.customer_id, currency=account.currency, invoice_number=number,
        reversal=reversal,
    ), True


def _defaults(settings: Settings) -> LimitValues:
    return LimitValues(
        max_credit=settings.account_check_max_credit,
        max_credit_12_months=settings.account_check_max_credit_12_months,
        min_confidence=settings.account_check_min_confidence,
    )


def get_limits(session: Session, *, settings: Settings) -> LimitsOut:
    override = current_override(session)
    defaults = _defaults(settings)
    if override is None:
        return LimitsOut(**defaults.model_dump(), source="settings", updated_by=None, updated_at=None,
                         defaults=defaults)
    return LimitsOut(
        max_credit=override.max_credit, max_credit_12_months=override.max_credit_12_months,
        min_confidence=override.min_confidence, source="override", updated_by=override.updated_by,
        updated_at=override.updated_at, defaults=defaults,
    )


def set_limits(
    session: Session, *, values: LimitValues, reason: str, actor: Actor, settings: Settings, now: datetime
) -> LimitsOut:
    before = get_limits(session, settings=settings)
    row = session.scalar(
        select(AccountCheckLimits).where(AccountCheckLimits.id == LIMITS_ROW).with_for_update()
    )
    if row is None:
        row = AccountCheckLimits(id=LIMITS_ROW)
        session.add(row)
    row.max_credit = values.max_credit
    row.max_credit_12_months = values.max_credit_12_months
    row.min_confidence = values.min_confidence
    row.updated_by = actor.label
    row.reason = reason
    row.updated_at = now
    audit.record(
        session, actor=actor, action="write.account_check.limits", resource="account_check_limits",
        customer_id=None, reason=reason,
        details={
            "before": LimitValues.model_validate(before.model_dump()).model_dump(mode="json"),
            "after": values.model_dump(mode="json"),
        },
    )
    session.commit()
    return get_limits(session, settings=settings)
