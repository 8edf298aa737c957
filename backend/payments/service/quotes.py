"""A payment quote: the amount (past due, full balance or a customer amount) and the method, for the customer
to confirm; nothing is charged."""

import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Literal

from sqlalchemy.orm import Session

from backend.audit import service as audit
from backend.auth import Actor
from backend.billing.ledger import ZERO
from backend.billing.service import Balance, get_balance
from backend.config import Settings
from backend.customers.models import Account, PaymentMethod
from backend.customers.service import get_account
from backend.errors import AmountAboveBalance, InvalidAmount, NothingDue
from backend.money import format_money
from backend.payments.actors import payment_source
from backend.payments.models import PaymentQuote
from backend.payments.schemas import QuoteOut
from backend.payments.service.methods import method_out, usable_method


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
    method = usable_method(session, account=account, payment_method_id=payment_method_id, today=today)
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
