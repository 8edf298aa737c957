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


def _sums_by_invoice(session: Session, column: object, amount: object, *conditions: object) -> dict[int | None, Decimal]:
    rows = session.execute(select(column, func.sum(amount)).where(*conditions).group_by(column))
    return {invoice_id: total or ZERO for invoice_id, total in rows}


def account_ledger(session: Session, *, account: Account, today: date) -> Ledger:
    invoices = list(
        session.scalars(
            select(Invoice).where(Invoice.account_id == account.id).order_by(Invoice.issue_date, Invoice.id)
        )
    )
    payments = _sums_by_invoice(
        session, Payment.invoice_id, Payment.amount,
        Payment.account_id == account.id, Payment.status == PaymentStatus.posted,
    )
    pending = session.scalar(
        select(func.sum(Payment.amount)).where(
            Payment.account_id == account.id, Payment.status == PaymentStatus.pending
        )
    )
    credits = _sums_by_invoice(session, Credit.invoice_id, Credit.amount, Credit.account_id == account.id)

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
        pending_payments_total=pending or ZERO,
    )


def refresh_invoice_statuses(session: Session, *, account: Account, today: date) -> None:
    """Stores the computed status after money moved, so the stored column stays truthful."""
    for standing in account_ledger(session, account=account, today=today).standings:
        if standing.invoice.status != standing.status:
            standing.invoice.status = standing.status
