"""Disputes on line items and the credits that settle them. Every write is audited in its own transaction."""
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.audit import service as audit
from backend.auth import Actor
from backend.billing.ledger import ZERO, refresh_invoice_statuses
from backend.billing.models import Invoice, LineItem
from backend.customers.models import Account
from backend.customers.service import get_account
from backend.disputes.models import Credit, Dispute
from backend.enums import OPEN_DISPUTE_STATUSES, DisputeStatus
from backend.errors import Conflict, InvalidInput, NotFound
from backend.money import format_money


@dataclass
class DisputeView:
    dispute: Dispute
    line: LineItem
    invoice: Invoice
    credit: Credit | None = None


@dataclass
class CreditView:
    credit: Credit
    customer_id: int
    invoice_number: str | None


def _customer_line_item(
    session: Session, *, customer_id: int, line_item_id: int, lock: bool = False
) -> tuple[LineItem, Invoice, Account]:
    query = (
        select(LineItem, Invoice, Account)
        .join(Invoice, LineItem.invoice_id == Invoice.id)
        .join(Account, Invoice.account_id == Account.id)
        .where(LineItem.id == line_item_id, Account.customer_id == customer_id)
    )
    if lock:
        query = query.with_for_update(of=LineItem)
    row = session.execute(query).first()
    if row is None:
        raise NotFound(f"No line item {line_item_id} on this customer's invoices.")
    return row[0], row[1], row[2]


def _credited(session: Session, *conditions: ColumnElement[bool]) -> Decimal:
    return session.scalar(select(func.sum(Credit.amount)).where(*conditions)) or ZERO


def open_dispute(
    session: Session, *, customer_id: int, line_item_id: int, reason: str, amount: Decimal | None,
    conversation_id: str | None, actor: Actor | None,
) -> DisputeView:
    line, invoice, _account = _customer_line_item(
        session, customer_id=customer_id, line_item_id=line_item_id, lock=True
    )
    if line.amount <= ZERO:
        raise InvalidInput("Only charges can be disputed; this line is already a credit or discount.")
    disputed = amount if amount is not None else line.amount
    if disputed > line.amount:
        raise InvalidInput(
            f"The disputed amount {disputed:.2f} is more than the charge of {line.amount:.2f}."
        )
    existing = session.scalar(
        select(Dispute).where(Dispute.line_item_id == line.id, Dispute.status.in_(OPEN_DISPUTE_STATUSES))
    )
    if existing is not None:
        raise Conflict(
            f"Line item {line.id} already has an open dispute ({existing.id}).", dispute_id=existing.id
        )
    dispute = Dispute(
        customer_id=customer_id, line_item_id=line.id, amount=disputed, reason=reason,
        status=DisputeStatus.open, conversation_id=conversation_id,
        opened_by=actor.label if actor else audit.SERVICE_ACTOR,
    )
    session.add(dispute)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"Line item {line_item_id} already has an open dispute.") from exc
    audit.record(
        session, actor=actor, action="write.dispute.open", resource=f"dispute:{dispute.id}",
        customer_id=customer_id, reason=reason,
        details={"line_item_id": line.id, "amount": f"{disputed:.2f}", "conversation_id": conversation_id},
    )
    session.commit()
    return DisputeView(dispute=dispute, line=line, invoice=invoice)


def list_disputes(session: Session, *, customer_id: int) -> list[DisputeView]:
    get_account(session, customer_id=customer_id)
    rows = session.execute(
        select(Dispute, LineItem, Invoice)
        .join(LineItem, Dispute.line_item_id == LineItem.id)
        .join(Invoice, LineItem.invoice_id == Invoice.id)
        .where(Dispute.customer_id == customer_id)
        .order_by(Dispute.created_at.desc(), Dispute.id.desc())
    )
    views = [DisputeView(dispute=d, line=li, invoice=inv) for d, li, inv in rows]
    credits = {
        credit.dispute_id: credit
        for credit in session.scalars(
            select(Credit).where(Credit.dispute_id.in_([v.dispute.id for v in views])).order_by(Credit.id)
        )
    } if views else {}
    for view in views:
        view.credit = credits.get(view.dispute.id)
    return views


def _fingerprint(**fields: object) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


def _existing_credit(session: Session, *, idempotency_key: str) -> Credit | None:
    return session.scalar(select(Credit).where(Credit.idempotency_key == idempotency_key))


def _create_credit(
    session: Session, *, account: Account, amount: Decimal, reason: str, line: LineItem | None,
    invoice: Invoice | None, dispute: Dispute | None, actor: Actor, idempotency_key: str, fingerprint: str,
) -> Credit:
    """Checks the limits (never more than disputed or charged) and adds the credit, uncommitted."""
    m = partial(format_money, currency=account.currency)
    limits: list[tuple[Decimal, str]] = []
    if dispute is not None:
        if dispute.status == DisputeStatus.rejected:
            raise Conflict(f"Dispute {dispute.id} was rejected; it cannot be credited.")
        limits.append(
            (dispute.amount - _credited(session, Credit.dispute_id == dispute.id), f"dispute {dispute.id}")
        )
    if line is not None:
        if line.amount <= ZERO:
            raise InvalidInput("This line is already a credit or discount; it cannot be credited.")
        limits.append(
            (line.amount - _credited(session, Credit.line_item_id == line.id), f"line item {line.id}")
        )
    if invoice is not None:
        limits.append(
            (invoice.total - _credited(session, Credit.invoice_id == invoice.id), f"invoice {invoice.number}")
        )
    if not limits:
        raise InvalidInput("A credit must name the line item, invoice or dispute it is for.")
    remaining, what = min(limits, key=lambda limit: limit[0])
    if amount > remaining:
        raise InvalidInput(
            f"A credit of {m(amount)} is more than the {m(max(remaining, ZERO))} that can still be credited "
            f"on {what}."
        )
    credit = Credit(
        account_id=account.id, invoice_id=invoice.id if invoice else None,
        line_item_id=line.id if line else None, dispute_id=dispute.id if dispute else None, amount=amount,
        reason=reason, issued_by=actor.label, idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
    )
    session.add(credit)
    session.flush()
    return credit


def issue_credit(
    session: Session, *, customer_id: int, amount: Decimal, reason: str, line_item_id: int | None,
    invoice_number: str | None, dispute_id: int | None, actor: Actor, idempotency_key: str, today: date,
) -> tuple[CreditView, bool]:
    """Returns the credit and whether it was created now (False: the same request was made before)."""
    fingerprint = _fingerprint(
        customer_id=customer_id, amount=f"{amount:.2f}", reason=reason, line_item_id=line_item_id,
        invoice_number=invoice_number, dispute_id=dispute_id,
    )
    existing = _existing_credit(session, idempotency_key=idempotency_key)
    if existing is not None:
        return _replay(session, existing=existing, fingerprint=fingerprint, customer_id=customer_id), False

    account = get_account(session, customer_id=customer_id)
    dispute = line = invoice = None
    if dispute_id is not None:
        dispute = session.scalar(
            select(Dispute).where(Dispute.id == dispute_id, Dispute.customer_id == customer_id)
        )
        if dispute is None:
            raise NotFound(f"No dispute {dispute_id} for this customer.")
        if line_item_id is not None and line_item_id != dispute.line_item_id:
            raise InvalidInput(
                f"Dispute {dispute_id} is about line item {dispute.line_item_id}, not {line_item_id}."
            )
        line_item_id = dispute.line_item_id
    if line_item_id is not None:
        line, invoice, _ = _customer_line_item(
            session, customer_id=customer_id, line_item_id=line_item_id, lock=True
        )
        if invoice_number is not None and invoice.number != invoice_number:
            raise InvalidInput(
                f"Line item {line_item_id} is on invoice {invoice.number}, not {invoice_number}."
            )
    elif invoice_number is not None:
        invoice = session.scalar(
            select(Invoice)
            .where(Invoice.number == invoice_number, Invoice.account_id == account.id)
            .with_for_update()
        )
        if invoice is None:
            raise NotFound(f"No invoice {invoice_number} on this account.")
    try:
        credit = _create_credit(
            session, account=account, amount=amount, reason=reason, line=line, invoice=invoice,
            dispute=dispute, actor=actor, idempotency_key=idempotency_key, fingerprint=fingerprint,
        )
    except IntegrityError:
        session.rollback()
        existing = _existing_credit(session, idempotency_key=idempotency_key)
        if existing is None:
            raise
        return _replay(session, existing=existing, fingerprint=fingerprint, customer_id=customer_id), False
    audit.record(
        session, actor=actor, action="write.credit", resource=f"credit:{credit.id}", customer_id=customer_id,
        reason=reason,
        details={
            "amount": f"{amount:.2f}", "line_item_id": line_item_id,
            "invoice_number": invoice.number if invoice else None, "dispute_id": dispute_id,
        },
    )
    refresh_invoice_statuses(session, account=account, today=today)
    session.commit()
    return CreditView(
        credit=credit, customer_id=customer_id, invoice_number=invoice.number if invoice else None
    ), True


def _replay(session: Session, *, existing: Credit, fingerprint: str, customer_id: int | None) -> CreditView:
    account = session.get(Account, existing.account_id)
    assert account is not None
    if existing.request_fingerprint != fingerprint or (
        customer_id is not None and account.customer_id != customer_id
    ):
        raise Conflict("This Idempotency-Key was already used for a different request.")
    invoice = session.get(Invoice, existing.invoice_id) if existing.invoice_id else None
    return CreditView(
        credit=existing, customer_id=account.customer_id, invoice_number=invoice.number if invoice else None
    )


def credit_view(session: Session, credit: Credit) -> CreditView:
    account = session.get(Account, credit.account_id)
    invoice = session.get(Invoice, credit.invoice_id) if credit.invoice_id else None
    assert account is not None
    return CreditView(
        credit=credit, customer_id=account.customer_id, invoice_number=invoice.number if invoice else None
    )


def settle_dispute(
    session: Session, *, dispute_id: int, decision: str, note: str, credit_amount: Decimal | None,
    idempotency_key: str | None, actor: Actor, now: datetime,
) -> DisputeView:
    dispute = session.scalar(select(Dispute).where(Dispute.id == dispute_id).with_for_update())
    if dispute is None:
        raise NotFound(f"No dispute {dispute_id}.")
    line, invoice, account = _customer_line_item(
        session, customer_id=dispute.customer_id, line_item_id=dispute.line_item_id
    )

    if decision == DisputeStatus.accepted:
        if not idempotency_key:
            raise InvalidInput("Accepting a dispute issues a credit: send an Idempotency-Key header.")
        amount = credit_amount if credit_amount is not None else dispute.amount
        fingerprint = _fingerprint(settle_dispute=dispute.id, amount=f"{amount:.2f}")
        existing = _existing_credit(session, idempotency_key=idempotency_key)
        if existing is not None:
            if existing.dispute_id != dispute.id or existing.request_fingerprint != fingerprint:
                raise Conflict("This Idempotency-Key was already used for a different request.")
            return DisputeView(dispute=dispute, line=line, invoice=invoice, credit=existing)
    if dispute.status not in OPEN_DISPUTE_STATUSES:
        raise Conflict(f"Dispute {dispute.id} is already {dispute.status}.")

    credit = None
    if decision == DisputeStatus.accepted:
        if amount > dispute.amount:
            raise InvalidInput(
                f"A credit of {format_money(amount, account.currency)} is more than the disputed "
                f"{format_money(dispute.amount, account.currency)}."
            )
        credit = _create_credit(
            session, account=account, amount=amount, reason=f"Dispute {dispute.id} accepted: {note}",
            line=line, invoice=invoice, dispute=dispute, actor=actor, idempotency_key=idempotency_key or "",
            fingerprint=fingerprint,
        )
        dispute.status = DisputeStatus.accepted
    else:
        if credit_amount is not None:
            raise InvalidInput("A rejected dispute issues no credit; leave credit_amount out.")
        dispute.status = DisputeStatus.rejected
    dispute.resolution_note = note
    dispute.resolved_by = actor.label
    dispute.resolved_at = now
    audit.record(
        session, actor=actor, action=f"write.dispute.{decision}", resource=f"dispute:{dispute.id}",
        customer_id=dispute.customer_id, reason=note,
        details={
            "credit_id": credit.id if credit else None,
            "credit_amount": f"{credit.amount:.2f}" if credit else None,
        },
    )
    refresh_invoice_statuses(session, account=account, today=now.date())
    session.commit()
    return DisputeView(dispute=dispute, line=line, invoice=invoice, credit=credit)
