"""Taking money: the processor's charge (the side effect), then the payment it makes recorded and audited, and
the payment as the API answers it."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from backend.audit import service as audit
from backend.auth import Actor
from backend.billing.service import get_balance
from backend.config import Settings
from backend.customers.models import Account, PaymentMethod
from backend.enums import PaymentStatus
from backend.payments.actors import payment_source
from backend.payments.models import Payment
from backend.payments.processor import ChargeResult, ChargeStatus, PaymentProcessor
from backend.payments.schemas import PaymentResultOut
from backend.payments.service.outcomes import after_money_moved, apply_deferred_events, decline_texts


@dataclass
class Charged:
    payment: Payment
    result: ChargeResult


def charge_and_record(
    session: Session,
    *,
    account: Account,
    method: PaymentMethod,
    amount: Decimal,
    actor: Actor,
    processor_key: str,
    payment_key: str,
    invoice_id: int | None,
    processor: PaymentProcessor,
    today: date,
    settings: Settings,
) -> Charged:
    """Charges through the processor and adds the payment (uncommitted). ProcessorUnavailable propagates."""
    assert method.token is not None
    result = processor.charge(
        token=method.token,
        amount=amount,
        currency=account.currency,
        idempotency_key=processor_key,
        description=f"Payment on account {account.number}",
    )
    payment = record_payment(
        session,
        account=account,
        method=method,
        amount=amount,
        actor=actor,
        payment_key=payment_key,
        invoice_id=invoice_id,
        result=result,
        today=today,
        settings=settings,
    )
    return Charged(payment=payment, result=result)


def record_payment(
    session: Session,
    *,
    account: Account,
    method: PaymentMethod,
    amount: Decimal,
    actor: Actor,
    payment_key: str,
    invoice_id: int | None,
    result: ChargeResult,
    today: date,
    settings: Settings,
) -> Payment:
    """The payment the processor's answer makes (uncommitted), audited; the events that came before it are
    applied, then what follows money moving."""
    status = {
        ChargeStatus.succeeded: PaymentStatus.posted,
        ChargeStatus.pending: PaymentStatus.pending,
        ChargeStatus.declined: PaymentStatus.failed,
    }[result.status]
    source = payment_source(actor)
    payment = Payment(
        account_id=account.id,
        invoice_id=invoice_id,
        amount=amount,
        received_date=today,
        status=status,
        method=f"{'autopay' if source == 'autopay' else 'online'}: {method.brand} ending {method.last4}"[:40],
        failure_reason=result.message,
        source=source,
        idempotency_key=payment_key,
        processor_reference=result.reference,
        payment_method_id=method.id,
        actor=actor.label,
        expected_post_date=today + timedelta(days=settings.payments_pending_days)
        if status == PaymentStatus.pending
        else None,
    )
    session.add(payment)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="write.payment",
        resource=f"payment:{payment.id}",
        customer_id=account.customer_id,
        details={
            "amount": f"{amount:.2f}",
            "status": str(status),
            "source": source,
            "processor_reference": result.reference,
            "decline_reason": str(result.decline_reason) if result.decline_reason else None,
        },
    )
    apply_deferred_events(session, payment=payment, today=today)
    after_money_moved(session, account=account, today=today)
    return payment


def payment_result(
    session: Session, *, payment: Payment, account: Account, quote_id: str | None, today: date
) -> PaymentResultOut:
    balance = get_balance(session, customer_id=account.customer_id, today=today)
    reason = None
    if payment.status == PaymentStatus.failed and payment.failure_reason:
        reason = next(
            (code for code, text in decline_texts().items() if text == payment.failure_reason), None
        )
    return PaymentResultOut(
        id=payment.id,
        customer_id=account.customer_id,
        amount=payment.amount,
        currency=account.currency,
        status=str(payment.status),
        method=payment.method,
        payment_method_id=payment.payment_method_id,
        received_date=payment.received_date,
        expected_post_date=payment.expected_post_date,
        failure_reason=reason,
        failure_message=payment.failure_reason if payment.status == PaymentStatus.failed else None,
        processor_reference=payment.processor_reference,
        quote_id=quote_id,
        source=payment.source,
        actor=payment.actor,
        total_due=balance.ledger.total_due,
        past_due=balance.past_due,
        pending_payments=balance.ledger.pending_payments_total,
    )
