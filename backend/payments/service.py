"""Payments received (posted, pending, failed, reversed) and the ways a customer can pay."""
from datetime import date
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.billing.models import Invoice
from backend.customers.models import Account, PaymentMethod
from backend.customers.service import get_account
from backend.payments.models import Payment
from backend.payments.schemas import PaymentMethodOnFile, PaymentMethodsOut, WayToPay


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


def payment_methods(session: Session, *, customer_id: int, today: date) -> PaymentMethodsOut:
    account: Account = get_account(session, customer_id=customer_id)
    methods = list(session.scalars(select(PaymentMethod).where(PaymentMethod.account_id == account.id)))
    on_file = [
        PaymentMethodOnFile(
            kind=method.kind,
            masked=method.masked,
            is_default=method.is_default,
            expired=method.expires_on is not None and method.expires_on < today,
        )
        for method in methods
    ]
    reference = account.number
    ways = [
        WayToPay(kind="online", instructions=f"Sign in at the customer portal, open Billing > Pay now, and pay by card or bank account. Use account number {reference}."),
        WayToPay(kind="autopay", instructions="Turn on autopay in the portal under Billing > Autopay; the balance is charged on each due date." if not account.autopay else "Autopay is on: the balance is charged to your default payment method on each due date."),
        WayToPay(kind="phone", instructions=f"Call 1-800-555-0199 (automated, 24/7) and enter account number {reference}."),
        WayToPay(kind="bank_transfer", instructions=f"Transfer to routing 021000021, account 4417-0099-12, with reference {reference}; allow 2 business days."),
        WayToPay(kind="mail", instructions=f"Mail a check payable to Example Telecom, PO Box 1450, Springfield, with {reference} on the memo line."),
    ]
    return PaymentMethodsOut(autopay=account.autopay, on_file=on_file, ways_to_pay=ways)
