"""What follows money moving: a processor outcome applied to a recorded payment (also one that arrived before
the payment), then the invoices' statuses and the arrangements brought up to date."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.arrangements.service import evaluate_arrangements
from backend.audit import service as audit
from backend.billing.ledger import refresh_invoice_statuses
from backend.customers.models import Account
from backend.enums import PaymentStatus
from backend.payments.actors import SYSTEM_PROCESSOR
from backend.payments.models import Payment, ProcessorEvent
from backend.payments.processor import DECLINE_MESSAGES, DeclineReason, WebhookEventType


def after_money_moved(session: Session, *, account: Account, today: date) -> None:
    session.flush()
    refresh_invoice_statuses(session, account=account, today=today)
    evaluate_arrangements(session, account=account, today=today)


def decline_texts() -> dict[str, str]:
    return {str(code): text for code, text in DECLINE_MESSAGES.items()}


def apply_payment_event(
    session: Session, *, payment: Payment, event_type: str, reason: str | None, today: date
) -> str:
    """Moves a pending payment to posted or failed; anything else is out of order and changes nothing."""
    if payment.status != PaymentStatus.pending:
        return "ignored"
    if event_type == WebhookEventType.payment_succeeded:
        payment.status = PaymentStatus.posted
        payment.expected_post_date = None
    elif event_type == WebhookEventType.payment_failed:
        payment.status = PaymentStatus.failed
        payment.failure_reason = decline_texts().get(
            reason or "", decline_texts()[DeclineReason.card_declined]
        )
    else:
        return "ignored"
    account = session.get(Account, payment.account_id)
    assert account is not None
    audit.record(
        session,
        actor=SYSTEM_PROCESSOR,
        action="write.payment.status",
        resource=f"payment:{payment.id}",
        customer_id=account.customer_id,
        details={"status": str(payment.status), "event": event_type},
    )
    after_money_moved(session, account=account, today=today)
    return "applied"


def apply_deferred_events(session: Session, *, payment: Payment, today: date) -> list[str]:
    """Events that arrived before their payment was recorded (a webhook faster than the API answer);
    their new outcomes. Called when the payment is recorded, and by the billing job for an event that came in
    the instant between the charge and the payment's commit (it could not see the payment yet)."""
    if not payment.processor_reference:
        return []
    waiting = session.scalars(
        select(ProcessorEvent)
        .where(ProcessorEvent.reference == payment.processor_reference, ProcessorEvent.outcome == "deferred")
        .order_by(ProcessorEvent.occurred_at, ProcessorEvent.received_at)
    )
    outcomes = []
    for event in waiting:
        event.outcome = apply_payment_event(
            session,
            payment=payment,
            event_type=event.type,
            reason=event.details.get("decline_reason"),
            today=today,
        )
        outcomes.append(event.outcome)
    return outcomes
