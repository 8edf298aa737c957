"""The processor's webhooks: each event once (by its id), a card's new details, a pending payment's
outcome."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.audit import service as audit
from backend.customers.models import Account, PaymentMethod
from backend.payments.actors import SYSTEM_PROCESSOR
from backend.payments.models import Payment, ProcessorEvent
from backend.payments.processor import WebhookEvent, WebhookEventType
from backend.payments.service.outcomes import apply_payment_event


def _method_event(session: Session, *, event: WebhookEvent) -> tuple[str, dict[str, object]]:
    """method.updated: the new brand/last 4/expiry of a token on file (a token we do not know: ignored)."""
    assert event.method is not None
    card = event.method
    details: dict[str, object] = {
        "brand": card.brand,
        "last4": card.last4,
        "expires_on": card.expires_on.isoformat(),
    }
    method = session.scalar(select(PaymentMethod).where(PaymentMethod.token == card.token).with_for_update())
    if method is None:
        return "ignored", details
    method.brand, method.last4, method.expires_on = card.brand, card.last4, card.expires_on
    method.updated_at = event.occurred_at
    account = session.get(Account, method.account_id)
    audit.record(
        session,
        actor=SYSTEM_PROCESSOR,
        action="write.payment_method",
        resource=f"payment-method:{method.id}",
        customer_id=account.customer_id if account else None,
        details=details,
    )
    return "applied", details


def _payment_event(session: Session, *, event: WebhookEvent, today: date) -> tuple[str, dict[str, object]]:
    """payment.succeeded / payment.failed: moves a pending payment; one not recorded yet waits (deferred)."""
    event_reason = str(event.decline_reason) if event.decline_reason else None
    details: dict[str, object] = {"decline_reason": event_reason}
    payment = session.scalar(
        select(Payment).where(Payment.processor_reference == event.reference).with_for_update()
    )
    if payment is None:
        return "deferred", details
    outcome = apply_payment_event(
        session, payment=payment, event_type=event.type, reason=event_reason, today=today
    )
    return outcome, details


def handle_webhook(session: Session, *, event: WebhookEvent, today: date) -> str:
    if session.get(ProcessorEvent, event.id) is not None:
        return "duplicate"
    outcome: str
    details: dict[str, object]
    if event.type == WebhookEventType.unhandled:
        outcome, details = "ignored", {"processor_type": event.processor_type}
    elif event.type == WebhookEventType.method_updated:
        outcome, details = _method_event(session, event=event)
    else:
        outcome, details = _payment_event(session, event=event, today=today)
    session.add(
        ProcessorEvent(
            id=event.id,
            type=str(event.type),
            reference=event.reference,
            outcome=outcome,
            details=details,
            occurred_at=event.occurred_at,
        )
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return "duplicate"
    return outcome
