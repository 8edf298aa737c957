"""What the customer has paid and how they pay: the payments received, the methods on file with the ways to
pay, autopay's next charge and the alerts (expired or missing method, failed autopay)."""

from datetime import date
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.billing.ledger import ZERO
from backend.billing.models import Invoice
from backend.billing.service import Balance, get_balance
from backend.customers.models import Account, PaymentMethod
from backend.customers.service import get_account
from backend.enums import PaymentStatus
from backend.money import format_date, format_money
from backend.payments.models import Payment
from backend.payments.schemas import Alert, LastAutopay, PaymentMethodOnFile, PaymentMethodsOut, WayToPay
from backend.payments.service.methods import default_method, is_expired


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
