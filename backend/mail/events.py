"""Emails the backend sends on its own events (issue 19): a payment received (payment_receipt), a dispute
settled (dispute_outcome) and a credit issued outside a dispute (credit_issued). Every credit an email
announces carries its credit memo (PDF, backend/documents), e.g. the account check's fix (issue 18).

Run by the send loop before each round (`python -m backend.cli send-mail`): it reads the audit log's entries
of the last EVENT_LOOKBACK and queues one email per event, keyed `event:<template>:<id>` (unique), so a second
loop, a restart or a replica never queues it twice. Seeds and imports write no audit entries, so they send
nothing. Only what the customer's own account shows: amounts, dates, the masked method, the charge's
description, the balance; never a staff note or a credit's internal reason.
"""

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.audit.models import AuditLog
from backend.billing.ledger import account_ledger
from backend.billing.models import Invoice, LineItem
from backend.config import Settings
from backend.customers.models import Account, Customer
from backend.disputes.models import Credit, Dispute
from backend.enums import DisputeStatus, PaymentStatus
from backend.mail import templates
from backend.mail.models import MailMessage, MailStatus
from backend.mail.service import rendered_attachment
from backend.mail.threading import new_message_id
from backend.payments.models import Payment

logger = logging.getLogger("backend.mail")
EVENT_LOOKBACK = timedelta(hours=48)
ACTOR = "system:mail-events"


def _money(amount: Decimal, currency: str) -> str:
    return templates.money(amount) if currency == "USD" else f"{amount:,.2f} {currency}"


def _day(moment: datetime | Any) -> str:
    return str(moment.strftime("%B %-d, %Y"))


def _base_fields(session: Session, account: Account, today: Any) -> dict[str, Any]:
    ledger = account_ledger(session, account=account, today=today)
    return {
        "first_name": account.customer.first_name,
        "account_number": account.number,
        "total_due": _money(ledger.total_due, account.currency),
    }


def _payment_fields(session: Session, payment: Payment, today: Any) -> tuple[Account, dict[str, Any]]:
    account = payment.account
    method = payment.method.split(": ", 1)[-1]  # "online: Visa ending 4242" -> "Visa ending 4242"
    return account, {
        **_base_fields(session, account, today),
        "amount": _money(payment.amount, account.currency),
        "received_on": _day(payment.received_date),
        "method": method,
    }


def _dispute_fields(session: Session, dispute: Dispute, today: Any) -> tuple[Account, dict[str, Any]]:
    account = session.scalars(select(Account).where(Account.customer_id == dispute.customer_id)).one()
    line = session.get(LineItem, dispute.line_item_id)
    credited = session.scalar(select(func.sum(Credit.amount)).where(Credit.dispute_id == dispute.id))
    return account, {
        **_base_fields(session, account, today),
        "accepted": dispute.status == DisputeStatus.accepted,
        "charge": line.description if line else "the charge",
        "credit": _money(credited, account.currency) if credited else None,
    }


def _credit_fields(session: Session, credit: Credit, today: Any) -> tuple[Account, dict[str, Any]]:
    account = session.get(Account, credit.account_id)
    assert account is not None
    invoice = session.get(Invoice, credit.invoice_id) if credit.invoice_id else None
    return account, {
        **_base_fields(session, account, today),
        "amount": _money(credit.amount, account.currency),
        "issued_on": _day(credit.created_at),
        "invoice_number": invoice.number if invoice else None,
    }


EVENT_ACTIONS = (
    "write.payment",
    "write.payment.status",
    "write.credit",
    "write.dispute.accepted",
    "write.dispute.rejected",
)


def _events(session: Session, since: datetime) -> Iterable[tuple[str, int, Any]]:
    """The audit log names what happened (seeds and imports write none, so they send nothing); the record
    says whether it deserves an email: a posted payment, a settled dispute, a credit outside a dispute."""
    entries = session.execute(
        select(AuditLog.resource)
        .where(AuditLog.action.in_(EVENT_ACTIONS), AuditLog.at >= since)
        .order_by(AuditLog.id)
    ).scalars()
    seen: set[str] = set()
    for resource in entries:
        kind, _, number = resource.partition(":")
        if resource in seen or not number.isdigit():
            continue
        seen.add(resource)
        if kind == "payment":
            payment = session.get(Payment, int(number))
            if payment is not None and payment.status == PaymentStatus.posted:
                yield "payment_receipt", payment.id, payment
        elif kind == "dispute":
            dispute = session.get(Dispute, int(number))
            if dispute is not None and dispute.status in (DisputeStatus.accepted, DisputeStatus.rejected):
                yield "dispute_outcome", dispute.id, dispute
        elif kind == "credit":
            credit = session.get(Credit, int(number))
            if credit is not None and credit.dispute_id is None:
                yield "credit_issued", credit.id, credit


def _credit_memos(session: Session, *, template: str, record: Any, customer_id: int,
                  today: date) -> list[dict[str, str]] | None:
    """The credit memo of each credit the email announces: a settled dispute's credits, or the credit."""
    if template == "credit_issued":
        credit_ids = [record.id]
    elif template == "dispute_outcome":
        credit_ids = list(session.scalars(select(Credit.id).where(Credit.dispute_id == record.id)
                                          .order_by(Credit.id)))
    else:
        return None
    memos = [rendered_attachment(session, customer_id=customer_id,
                                 spec={"kind": "credit_memo_pdf", "credit_id": credit_id}, today=today)
             for credit_id in credit_ids]
    return memos or None


def queue_event_mail(session: Session, *, settings: Settings, now: datetime) -> dict[str, int]:
    """Queues the emails of the events since now - EVENT_LOOKBACK that have none yet; commits. Returns counts
    per template."""
    since = now - EVENT_LOOKBACK
    counts: dict[str, int] = {}
    events = list(_events(session, since))
    keys = [f"event:{template}:{record_id}" for template, record_id, _ in events]
    existing = (
        set(session.scalars(select(MailMessage.idempotency_key).where(MailMessage.idempotency_key.in_(keys))))
        if keys
        else set()
    )
    loaders: dict[str, Callable[[Session, Any, Any], tuple[Account, dict[str, Any]]]] = {
        "payment_receipt": _payment_fields,
        "dispute_outcome": _dispute_fields,
        "credit_issued": _credit_fields,
    }
    for (template, _record_id, record), key in zip(events, keys, strict=True):
        if key in existing:
            continue
        account, fields = loaders[template](session, record, now.date())
        customer: Customer = account.customer
        fields["reply_enabled"] = False
        rendered = templates.render(template, fields)
        session.add(
            MailMessage(
                id=f"mail_{secrets.token_hex(12)}",
                idempotency_key=key,
                fingerprint=hashlib.sha256(key.encode()).hexdigest(),
                template=template,
                to_address=customer.email,
                customer_id=customer.id,
                conversation_id=None,
                subject=rendered.subject,
                body_text=rendered.text,
                body_html=rendered.html,
                attachments=_credit_memos(session, template=template, record=record, customer_id=customer.id,
                                          today=now.date()),
                headers={"Auto-Submitted": "auto-generated"},
                message_id=new_message_id(domain=settings.mail_reply_domain, conversation_id=None),
                status=MailStatus.queued,
                attempts=0,
                next_attempt_at=now,
                requested_by=ACTOR,
                created_at=now,
            )
        )
        counts[template] = counts.get(template, 0) + 1
    if not counts:
        session.rollback()
        return counts
    try:
        session.commit()
    except IntegrityError:  # another loop queued the same events first: theirs stand
        session.rollback()
        logger.info("event mail: queued by another worker")
        return {}
    logger.info(
        "event mail queued: %s", ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
    )
    return counts
