"""Confirming a quote: charges once whatever the number of confirmations (the quote row is locked, the
processor gets the quote id as its idempotency key)."""

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.auth import Actor
from backend.billing.ledger import ZERO
from backend.billing.service import get_balance
from backend.config import Settings
from backend.customers.service import get_account
from backend.errors import BalanceChanged, NotFound, PaymentProcessorUnavailable, QuoteExpired
from backend.money import format_money
from backend.payments.actors import payment_source
from backend.payments.idempotency import AlreadyAnswered, fingerprint, idempotent, stored_answer
from backend.payments.models import Payment, PaymentQuote
from backend.payments.processor import PaymentProcessor, ProcessorUnavailable
from backend.payments.schemas import PaymentResultOut
from backend.payments.service.charges import charge_and_record, payment_result
from backend.payments.service.methods import usable_method


def confirm_quote(
    session: Session,
    *,
    customer_id: int,
    quote_id: str,
    actor: Actor,
    idempotency_key: str,
    processor: PaymentProcessor,
    now: datetime,
    today: date,
    settings: Settings,
) -> tuple[PaymentResultOut, bool]:
    """Charges the quote once; a repeated key, or another key for a confirmed quote, gets the same payment."""
    payment_source(actor)
    request = fingerprint(op="confirm", customer_id=customer_id, quote_id=quote_id, role=actor.role)
    confirmed_before = False

    def write() -> PaymentResultOut:
        nonlocal confirmed_before
        account = get_account(session, customer_id=customer_id)
        quote = session.scalar(
            select(PaymentQuote)
            .where(PaymentQuote.id == quote_id, PaymentQuote.account_id == account.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if quote is None:
            raise NotFound("No such payment quote for this customer.")
        twin = stored_answer(session, key=idempotency_key, request=request, answer_type=PaymentResultOut)
        if twin is not None:
            raise AlreadyAnswered(twin)
        if quote.payment_id is not None:
            confirmed_before = True
            payment = session.get(Payment, quote.payment_id)
            assert payment is not None
            return payment_result(session, payment=payment, account=account, quote_id=quote.id, today=today)
        if quote.expires_at <= now:
            raise QuoteExpired("This payment quote has expired; ask for a new one.")
        method = usable_method(
            session, account=account, payment_method_id=quote.payment_method_id, today=today
        )
        balance = get_balance(session, customer_id=customer_id, today=today)
        if quote.amount > balance.ledger.total_due:
            raise BalanceChanged(
                f"The balance is now {format_money(max(balance.ledger.total_due, ZERO), account.currency)}, "
                f"less than "
                f"the {format_money(quote.amount, account.currency)} quoted; ask for a new quote."
            )
        try:
            charged = charge_and_record(
                session,
                account=account,
                method=method,
                amount=quote.amount,
                actor=actor,
                processor_key=quote.id,
                payment_key=f"quote:{quote.id}",
                invoice_id=None,
                processor=processor,
                today=today,
                settings=settings,
            )
        except ProcessorUnavailable as exc:
            raise PaymentProcessorUnavailable(
                "The payment processor is not answering, so nothing was charged or recorded as paid. "
                "Try again in a few minutes, use the secure payment page later, or ask for a person."
            ) from exc
        quote.payment_id = charged.payment.id
        session.flush()
        return payment_result(
            session, payment=charged.payment, account=account, quote_id=quote.id, today=today
        )

    answer, created = idempotent(
        session,
        key=idempotency_key,
        request=request,
        customer_id=customer_id,
        answer_type=PaymentResultOut,
        write=write,
    )
    return answer, created and not confirmed_before
