"""What each invoice still owes: invoice totals minus posted payments minus credits, per account.

Payments and credits linked to an invoice pay that invoice first; anything unlinked (or beyond an
invoice's total) pays the oldest invoices first. So the account total always equals
sum(invoice totals) - sum(posted payments) - sum(credits), and a negative total is money in credit.
"""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.billing.models import Invoice
from backend.customers.models import Account
from backend.disputes.models import Credit
from backend.enums import InvoiceStatus, PaymentStatus
from backend.payments.models import Payment

ZERO = Decimal("0.00")


@dataclass
class InvoiceStanding:
    invoice: Invoice
    amount_due: Decimal
    status: InvoiceStatus


@dataclass
class Ledger:
    account: Account
    standings: list[InvoiceStanding]  # newest first
    invoiced_total: Decimal
    posted_payments_total: Decimal
    credits_total: Decimal
    pending_payments_total: Decimal
    last_payment: "PaymentRow | None"

    @property
    def total_due(self) -> Decimal:
        return self.invoiced_total - self.posted_payments_total - self.credits_total

    def standing_of(self, invoice_number: str) -> InvoiceStanding | None:
        return next((s for s in self.standings if s.invoice.number == invoice_number), None)


def effective_status(invoice: Invoice, amount_due: Decimal, today: date) -> InvoiceStatus:
    if invoice.status == InvoiceStatus.void:
        return InvoiceStatus.void
    if amount_due <= ZERO:
        return InvoiceStatus.paid
    if invoice.due_date < today:
        return InvoiceStatus.overdue
    return InvoiceStatus.open


@dataclass(frozen=True)
class PaymentRow:
    id: int
    invoice_id: int | None
    amount: Decimal
    status: PaymentStatus
    received_date: date
    method: str


def account_ledger(session: Session, *, account: Account, today: date) -> Ledger:
    invoices = list(
        session.scalars(
            select(Invoice).where(Invoice.account_id == account.id).order_by(Invoice.issue_date, Invoice.id)
        )
    )
    # One query for all of the account's payments (a few per month): sums and the latest one come from it.
    payment_rows = [
        PaymentRow(*row)
        for row in session.execute(
            select(
                Payment.id, Payment.invoice_id, Payment.amount, Payment.status, Payment.received_date,
                Payment.method,
            ).where(Payment.account_id == account.id)
        )
    ]
    payments: dict[int | None, Decimal] = {}
    pending = ZERO
    for row in payment_rows:
        if row.status == PaymentStatus.posted:
            payments[row.invoice_id] = payments.get(row.invoice_id, ZERO) + row.amount
        elif row.status == PaymentStatus.pending:
            pending += row.amount
    credits: dict[int | None, Decimal] = {
        invoice_id: total or ZERO
        for invoice_id, total in session.execute(
            select(Credit.invoice_id, func.sum(Credit.amount))
            .where(Credit.account_id == account.id)
            .group_by(Credit.invoice_id)
        )
    }

    billable = [invoice for invoice in invoices if invoice.status != InvoiceStatus.void]
    billable_ids = {invoice.id for invoice in billable}
    # Money not tied to a billable invoice goes into the pool that pays the oldest invoices first.
    pool = sum((v for k, v in payments.items() if k not in billable_ids), ZERO)
    pool += sum((v for k, v in credits.items() if k not in billable_ids), ZERO)

    due_by_id: dict[int, Decimal] = {}
    for invoice in billable:
        due = invoice.total - payments.get(invoice.id, ZERO) - credits.get(invoice.id, ZERO)
        if due < ZERO:
            pool += -due
            due = ZERO
        due_by_id[invoice.id] = due
    for invoice in billable:
        if pool <= ZERO:
            break
        applied = min(pool, due_by_id[invoice.id])
        due_by_id[invoice.id] -= applied
        pool -= applied

    standings = [
        InvoiceStanding(
            invoice=invoice,
            amount_due=due_by_id.get(invoice.id, ZERO),
            status=effective_status(invoice, due_by_id.get(invoice.id, ZERO), today),
        )
        for invoice in reversed(invoices)
    ]
    return Ledger(
        account=account,
        standings=standings,
        invoiced_total=sum((invoice.total for invoice in billable), ZERO),
        posted_payments_total=sum(payments.values(), ZERO),
        credits_total=sum(credits.values(), ZERO),
        pending_payments_total=pending,
        last_payment=max(payment_rows, key=lambda row: (row.received_date, row.id), default=None),
    )


def refresh_invoice_statuses(session: Session, *, account: Account, today: date) -> None:
    """Stores the computed status after money moved, so the stored column stays truthful."""
    for standing in account_ledger(session, account=account, today=today).standings:
        if standing.invoice.status != standing.status:
            standing.invoice.status = standing.status
