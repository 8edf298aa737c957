"""Payments: the record of payments received, the methods on file, and taking a payment through the processor.

Taking a payment is two steps: a quote (amount and method, for the customer to confirm) and its confirmation,
which charges once whatever the number of confirmations (the quote row is locked, the processor gets the quote
id as its idempotency key). Every write is idempotent (payments/idempotency.py) and audited with the actor.
"""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.arrangements.service import evaluate_arrangements
from backend.audit import service as audit
from backend.auth import Actor
from backend.billing.ledger import ZERO, refresh_invoice_statuses
from backend.billing.models import Invoice
from backend.billing.service import Balance, get_balance
from backend.config import Settings
from backend.customers.models import Account, PaymentMethod
from backend.customers.service import get_account
from backend.enums import PaymentStatus
from backend.errors import (
    AmountAboveBalance,
    BalanceChanged,
    InvalidAmount,
    MethodDeclined,
    MethodExpired,
    NoPaymentMethod,
    NotFound,
    NothingDue,
    PaymentProcessorUnavailable,
    QuoteExpired,
)
from backend.money import format_date, format_money
from backend.payments.actors import SYSTEM_PROCESSOR, payment_source
from backend.payments.idempotency import AlreadyAnswered, fingerprint, idempotent, stored_answer
from backend.payments.models import Payment, PaymentQuote, ProcessorEvent
from backend.payments.processor import (
    DECLINE_MESSAGES,
    ChargeResult,
    ChargeStatus,
    DeclineReason,
    PaymentProcessor,
    ProcessorDeclined,
    ProcessorUnavailable,
    WebhookEvent,
    WebhookEventType,
)
from backend.payments.schemas import (
    Alert,
    AutopayOut,
    LastAutopay,
    PaperlessOut,
    PaymentMethodOnFile,
    PaymentMethodOut,
    PaymentMethodsOut,
    PaymentResultOut,
    QuoteOut,
    WayToPay,
)


# --- reads ----------------------------------------------------------------------------------------
def list_payments(
    session: Session, *, customer_id: int, on_date: date | None, amount: Decimal | None, limit: int = 100
) -> list[tuple[Payment, str | None]]:
    account = get_account(session, customer_id=customer_id)
    query = (
        select(Payment, Invoice.number)
        .outerjoin(Invoice, Payment.invoice_id == Invoice.id)
        .where(Payment.account_id == account.id)
        .order_by(Payment.received_date.desc(), Payment.id.desc())
        .limit(limit)
    )
    if on_date is not None:
        query = query.where(Payment.received_date == on_date)
    if amount is not None:
        query = query.where(or_(Payment.amount == amount))
    return [(payment, number) for payment, number in session.execute(query)]


def is_expired(method: PaymentMethod, today: date) -> bool:
    return method.expires_on is not None and method.expires_on < today


def default_method(session: Session, *, account: Account) -> PaymentMethod | None:
    return session.scalar(
        select(PaymentMethod)
        .where(PaymentMethod.account_id == account.id)
        .order_by(PaymentMethod.is_default.desc(), PaymentMethod.id.desc())
    )


def method_out(method: PaymentMethod, today: date) -> PaymentMethodOut:
    return PaymentMethodOut(
        id=method.id,
        kind=method.kind,
        brand=method.brand,
        last4=method.last4,
        expires_on=method.expires_on,
        masked=method.masked,
        is_default=method.is_default,
        expired=is_expired(method, today),
    )


def last_autopay(session: Session, *, account: Account) -> Payment | None:
    return session.scalar(
        select(Payment)
        .where(Payment.account_id == account.id, Payment.source == "autopay")
        .order_by(Payment.received_date.desc(), Payment.id.desc())
    )


def next_autopay(balance: Balance, account: Account) -> tuple[date | None, Decimal | None]:
    """The next due date on which autopay charges, and what it would charge today (the total due)."""
    if not account.autopay or balance.next_due is None:
        return None, None
    return balance.next_due.invoice.due_date, max(balance.ledger.total_due, ZERO)


def payment_alerts(session: Session, *, account: Account, today: date) -> list[Alert]:
    method = default_method(session, account=account)
    alerts: list[Alert] = []
    if method is None:
        alerts.append(Alert(code="no_payment_method", message="There is no payment method on file."))
    elif is_expired(method, today):
        alerts.append(
            Alert(
                code="method_expired",
                message=f"The {method.brand} ending {method.last4} on file "
                f"expired on {format_date(method.expires_on or today)}.",
            )
        )
    autopay = last_autopay(session, account=account)
    if autopay is not None and autopay.status == PaymentStatus.failed:
        alerts.append(
            Alert(
                code="autopay_failed",
                message=(
                    f"The automatic payment of {format_money(autopay.amount, account.currency)} on "
                    f"{format_date(autopay.received_date)} failed: {autopay.failure_reason or 'declined'}."
                ),
            )
        )
    return alerts


def payment_methods(session: Session, *, customer_id: int, today: date) -> PaymentMethodsOut:
    account: Account = get_account(session, customer_id=customer_id)
    methods = list(session.scalars(select(PaymentMethod).where(PaymentMethod.account_id == account.id)))
    on_file = [
        PaymentMethodOnFile(
            kind=method.kind,
            masked=method.masked,
            is_default=method.is_default,
            expired=is_expired(method, today),
            id=method.id,
            brand=method.brand,
            last4=method.last4,
            expires_on=method.expires_on,
        )
        for method in methods
    ]
    reference = account.number
    ways = [
        WayToPay(
            kind="online",
            instructions="Sign in at the customer portal, open Billing > Pay now, and pay by card or bank "
            f"account. Use account number {reference}.",
        ),
        WayToPay(
            kind="autopay",
            instructions="Turn on autopay in the portal under Billing > Autopay; "
            "the balance is charged on each due date."
            if not account.autopay
            else "Autopay is on: the balance is charged to your default payment method on each due date.",
        ),
        WayToPay(
            kind="phone",
            instructions=f"Call 1-800-555-0199 (automated, 24/7) and enter account number {reference}.",
        ),
        WayToPay(
            kind="bank_transfer",
            instructions=f"Transfer to routing 021000021, account 4417-0099-12, with reference {reference}; "
            "allow 2 business days.",
        ),
        WayToPay(
            kind="mail",
            instructions="Mail a check payable to Example Telecom, PO Box 1450, Springfield, "
            f"with {reference} on the memo line.",
        ),
    ]
    autopay = last_autopay(session, account=account)
    next_date, _amount = next_autopay(get_balance(session, customer_id=customer_id, today=today), account)
    return PaymentMethodsOut(
        autopay=account.autopay,
        on_file=on_file,
        ways_to_pay=ways,
        paperless=account.paperless,
        next_autopay_date=next_date,
        last_autopay=LastAutopay(
            amount=autopay.amount,
            received_date=autopay.received_date,
            status=str(autopay.status),
            failure_reason=autopay.failure_reason,
        )
        if autopay
        else None,
        alerts=payment_alerts(session, account=account, today=today),
    )


# --- payment methods ------------------------------------------------------------------------------
def save_payment_method(
    session: Session,
    *,
    customer_id: int,
    token: str,
    make_default: bool,
    actor: Actor,
    idempotency_key: str,
    processor: PaymentProcessor,
    today: date,
) -> tuple[PaymentMethodOut, bool]:
    payment_source(actor)
    request = fingerprint(
        op="save-method", customer_id=customer_id, token=token, make_default=make_default, role=actor.role
    )

    def write() -> PaymentMethodOut:
        account = get_account(session, customer_id=customer_id)
        try:
            card = processor.retrieve_method(token=token)
        except ProcessorDeclined as exc:
            raise MethodDeclined(str(exc), reason=str(exc.reason)) from exc
        except ProcessorUnavailable as exc:
            raise PaymentProcessorUnavailable(
                "The payment processor is not answering; try again later."
            ) from exc
        method = session.scalar(select(PaymentMethod).where(PaymentMethod.token == card.token))
        if method is not None and method.account_id != account.id:
            raise MethodDeclined(
                "This payment method cannot be used for this account.", reason="card_declined"
            )
        if method is None:
            method = PaymentMethod(
                account_id=account.id,
                kind=card.kind,
                brand=card.brand,
                last4=card.last4,
                expires_on=card.expires_on,
                processor=processor.name,
                token=card.token,
                is_default=False,
            )
            session.add(method)
            session.flush()
        if make_default:
            for other in session.scalars(select(PaymentMethod).where(PaymentMethod.account_id == account.id)):
                other.is_default = other.id == method.id
        audit.record(
            session,
            actor=actor,
            action="write.payment_method",
            resource=f"payment-method:{method.id}",
            customer_id=customer_id,
            details={
                "brand": card.brand,
                "last4": card.last4,
                "expires_on": card.expires_on.isoformat(),
                "make_default": make_default,
            },
        )
        session.flush()
        return method_out(method, today)

    return idempotent(
        session,
        key=idempotency_key,
        request=request,
        customer_id=customer_id,
        answer_type=PaymentMethodOut,
        write=write,
    )


# --- quotes and payments --------------------------------------------------------------------------
def parse_amount(value: object) -> Decimal:
    """A customer amount: a string with at most two decimals, more than zero."""
    if not isinstance(value, str):
        raise InvalidAmount(
            'Send the amount as a string of digits with up to two decimals, for example "50.00".'
        )
    text = value.strip().removeprefix("$").replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise InvalidAmount(f'{value!r} is not an amount of money; use digits, for example "50.00".') from exc
    if not amount.is_finite():
        raise InvalidAmount("The amount must be a number of dollars and cents.")
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidAmount("An amount can have at most two decimals (cents).")
    if amount <= ZERO:
        raise InvalidAmount("The amount must be more than zero.")
    if amount >= Decimal("10000000000"):
        raise InvalidAmount("The amount is too large.")
    return amount.quantize(Decimal("0.01"))


def _usable_method(
    session: Session, *, account: Account, payment_method_id: int | None, today: date
) -> PaymentMethod:
    if payment_method_id is None:
        method = default_method(session, account=account)
    else:
        method = session.scalar(
            select(PaymentMethod).where(
                PaymentMethod.id == payment_method_id, PaymentMethod.account_id == account.id
            )
        )
        if method is None:
            raise NotFound(f"No payment method {payment_method_id} on this account.")
    if method is None or not method.token:
        raise NoPaymentMethod(
            "There is no payment method on file that can be charged; add one on the secure page."
        )
    if is_expired(method, today):
        raise MethodExpired(
            f"The {method.brand} ending {method.last4} expired on "
            f"{format_date(method.expires_on or today)}; update it on the secure page."
        )
    return method


def _quote_out(
    quote: PaymentQuote,
    *,
    account: Account,
    method: PaymentMethod,
    balance: Balance,
    now: datetime,
    today: date,
) -> QuoteOut:
    m = partial(format_money, currency=account.currency)
    status: Literal["open", "confirmed", "expired"] = "open"
    if quote.payment_id:
        status = "confirmed"
    elif quote.expires_at <= now:
        status = "expired"
    return QuoteOut(
        quote_id=quote.id,
        customer_id=account.customer_id,
        amount_choice=quote.amount_choice,
        amount=quote.amount,
        currency=account.currency,
        method=method_out(method, today),
        total_due=balance.ledger.total_due,
        past_due=balance.past_due,
        total_due_after=balance.ledger.total_due - quote.amount,
        expires_at=quote.expires_at,
        status=status,
        payment_id=quote.payment_id,
        summary=f"Pay {m(quote.amount)} now with {method.brand} ending {method.last4}?",
    )


def create_quote(
    session: Session,
    *,
    customer_id: int,
    amount_choice: str,
    amount: object,
    payment_method_id: int | None,
    actor: Actor,
    now: datetime,
    today: date,
    settings: Settings,
) -> QuoteOut:
    payment_source(actor)
    account = get_account(session, customer_id=customer_id)
    balance = get_balance(session, customer_id=customer_id, today=today)
    total_due = balance.ledger.total_due
    m = partial(format_money, currency=account.currency)
    if amount_choice == "amount":
        if amount is None:
            raise InvalidAmount("Say how much to pay: the amount is missing.")
        chosen = parse_amount(amount)
        if chosen > total_due:
            raise AmountAboveBalance(
                f"{m(chosen)} is more than the balance of {m(max(total_due, ZERO))}.",
                total_due=f"{max(total_due, ZERO):.2f}",
            )
    else:
        if amount is not None:
            raise InvalidAmount(
                f"An amount is only given with amount_choice 'amount', not {amount_choice!r}."
            )
        chosen = balance.past_due if amount_choice == "past_due" else total_due
        if chosen <= ZERO:
            what = "past due" if amount_choice == "past_due" else "due"
            raise NothingDue(f"Nothing is {what} on this account right now.")
    method = _usable_method(session, account=account, payment_method_id=payment_method_id, today=today)
    quote = PaymentQuote(
        id="pq_" + secrets.token_urlsafe(24),
        account_id=account.id,
        payment_method_id=method.id,
        amount_choice=amount_choice,
        amount=chosen,
        created_by=actor.label,
        created_at=now,
        expires_at=now + timedelta(minutes=settings.payments_quote_minutes),
    )
    session.add(quote)
    audit.record(
        session,
        actor=actor,
        action="write.payment_quote",
        resource=f"payment-quote:{quote.id}",
        customer_id=customer_id,
        details={"amount": f"{chosen:.2f}", "amount_choice": amount_choice, "payment_method_id": method.id},
    )
    session.commit()
    return _quote_out(quote, account=account, method=method, balance=balance, now=now, today=today)


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
    return Charged(payment=payment, result=result)


def after_money_moved(session: Session, *, account: Account, today: date) -> None:
    session.flush()
    refresh_invoice_statuses(session, account=account, today=today)
    evaluate_arrangements(session, account=account, today=today)


def payment_result(
    session: Session, *, payment: Payment, account: Account, quote_id: str | None, today: date
) -> PaymentResultOut:
    balance = get_balance(session, customer_id=account.customer_id, today=today)
    reason = None
    if payment.status == PaymentStatus.failed and payment.failure_reason:
        reason = next(
            (code for code, text in _decline_texts().items() if text == payment.failure_reason), None
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


def _decline_texts() -> dict[str, str]:
    return {str(code): text for code, text in DECLINE_MESSAGES.items()}


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
        method = _usable_method(
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


# --- autopay and paperless ------------------------------------------------------------------------
def set_autopay(
    session: Session,
    *,
    customer_id: int,
    enabled: bool,
    actor: Actor,
    idempotency_key: str,
    today: date,
) -> tuple[AutopayOut, bool]:
    payment_source(actor)
    request = fingerprint(op="autopay", customer_id=customer_id, enabled=enabled, role=actor.role)

    def write() -> AutopayOut:
        account = get_account(session, customer_id=customer_id)
        method = (
            _usable_method(session, account=account, payment_method_id=None, today=today) if enabled else None
        )
        account.autopay = enabled
        audit.record(
            session,
            actor=actor,
            action="write.autopay",
            resource=f"account:{account.number}",
            customer_id=customer_id,
            details={"enabled": enabled},
        )
        session.flush()
        balance = get_balance(session, customer_id=customer_id, today=today)
        next_date, next_amount = next_autopay(balance, account)
        if not enabled:
            message = "Autopay is off. Nothing will be charged automatically; pay each bill by its due date."
        elif next_date is not None and method is not None:
            message = (
                f"Autopay is on: {method.brand} ending {method.last4} will be charged the balance on "
                f"{format_date(next_date)}."
            )
        else:
            message = "Autopay is on: the balance will be charged on your next bill's due date."
        return AutopayOut(
            autopay=enabled,
            next_autopay_date=next_date,
            next_autopay_amount=next_amount,
            method=f"{method.brand} ending {method.last4}" if method else None,
            message=message,
        )

    return idempotent(
        session,
        key=idempotency_key,
        request=request,
        customer_id=customer_id,
        answer_type=AutopayOut,
        write=write,
    )


def set_paperless(
    session: Session,
    *,
    customer_id: int,
    enabled: bool,
    actor: Actor,
    idempotency_key: str,
) -> tuple[PaperlessOut, bool]:
    payment_source(actor)
    request = fingerprint(op="paperless", customer_id=customer_id, enabled=enabled, role=actor.role)

    def write() -> PaperlessOut:
        account = get_account(session, customer_id=customer_id)
        account.paperless = enabled
        audit.record(
            session,
            actor=actor,
            action="write.paperless",
            resource=f"account:{account.number}",
            customer_id=customer_id,
            details={"enabled": enabled},
        )
        email = account.customer.email
        message = (
            f"Paperless billing is on: bills go to {email} and no paper bill is mailed."
            if enabled
            else "Paperless billing is off: paper bills are mailed again."
        )
        return PaperlessOut(paperless=enabled, email=email, message=message)

    return idempotent(
        session,
        key=idempotency_key,
        request=request,
        customer_id=customer_id,
        answer_type=PaperlessOut,
        write=write,
    )


# --- processor webhooks ---------------------------------------------------------------------------
def _apply_payment_event(
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
        payment.failure_reason = _decline_texts().get(
            reason or "", _decline_texts()[DeclineReason.card_declined]
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
        event.outcome = _apply_payment_event(
            session,
            payment=payment,
            event_type=event.type,
            reason=event.details.get("decline_reason"),
            today=today,
        )
        outcomes.append(event.outcome)
    return outcomes


def _method_event(session: Session, *, event: WebhookEvent) -> tuple[str, dict[str, object]]:
    """method.updated: the new brand/last 4/expiry of a token on file (a token we do not know: ignored)."""
    assert event.method is not None
    card = event.method
    details: dict[str, object] = {
        "brand": card.brand, "last4": card.last4, "expires_on": card.expires_on.isoformat()
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
    outcome = _apply_payment_event(
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
