"""The daily billing job (`python -m backend.cli run-billing-jobs --date YYYY-MM-DD`).

Webhooks that waited for their payment, autopay on due dates, one retry of a failed autopay after the method
was updated, arrangements kept or broken, late fees by policy LATE-FEE-1. Every step is keyed by what it did
(payment keys `autopay:<invoice>` and `autopay-retry:<invoice>`, one late fee per related invoice, an event's
outcome), so running it again for a day changes nothing.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.arrangements.models import Arrangement
from backend.arrangements.service import covered_by_arrangement, evaluate_arrangements
from backend.audit import service as audit
from backend.billing.ledger import ZERO, account_ledger
from backend.billing.models import Invoice, LineItem, PolicyRule
from backend.config import Settings
from backend.customers.models import Account
from backend.disputes.models import Credit
from backend.enums import ChargeType, InvoiceStatus, PaymentStatus
from backend.payments.actors import SYSTEM_JOBS
from backend.payments.models import Payment, ProcessorEvent
from backend.payments.processor import PaymentProcessor, ProcessorUnavailable
from backend.payments.service import (
    after_money_moved,
    apply_deferred_events,
    charge_and_record,
    default_method,
    is_expired,
)
from backend.reminders.service import send_reminders

LATE_FEE_RULE = "LATE-FEE-1"
CATCH_UP_DAYS = 45  # late fees: next invoices issued this many days back are still checked (a missed run)


@dataclass
class JobReport:
    day: date
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1


def _has_payment(session: Session, key: str) -> bool:
    count = session.scalar(select(func.count()).select_from(Payment).where(Payment.idempotency_key == key))
    return bool(count)


def _autopay_charge(
    session: Session,
    *,
    account: Account,
    invoice: Invoice,
    amount: Decimal,
    key: str,
    processor: PaymentProcessor,
    day: date,
    settings: Settings,
    report: JobReport,
    what: str,
) -> None:
    method = default_method(session, account=account)
    if method is None or not method.token or is_expired(method, day):
        reason = (
            "No payment method on file"
            if method is None or not method.token
            else (f"Card expired: {method.brand} ending {method.last4}")
        )
        payment = Payment(
            account_id=account.id,
            invoice_id=invoice.id,
            amount=amount,
            received_date=day,
            status=PaymentStatus.failed,
            failure_reason=reason,
            source="autopay",
            idempotency_key=key,
            payment_method_id=method.id if method else None,
            actor=SYSTEM_JOBS.label,
            method=f"autopay: {method.brand} ending {method.last4}"[:40] if method else "autopay",
        )
        session.add(payment)
        session.flush()
        audit.record(
            session,
            actor=SYSTEM_JOBS,
            action="write.payment",
            resource=f"payment:{payment.id}",
            customer_id=account.customer_id,
            details={"amount": f"{amount:.2f}", "status": "failed", "source": "autopay", "reason": reason},
        )
        after_money_moved(session, account=account, today=day)
        session.commit()
        report.add(f"{what}_failed")
        return
    try:
        charged = charge_and_record(
            session,
            account=account,
            method=method,
            amount=amount,
            actor=SYSTEM_JOBS,
            processor_key=key,
            payment_key=key,
            invoice_id=invoice.id,
            processor=processor,
            today=day,
            settings=settings,
        )
    except ProcessorUnavailable:
        session.rollback()
        report.add(f"{what}_processor_unavailable")  # nothing recorded: the next run tries again
        return
    session.commit()
    report.add(f"{what}_{charged.payment.status}")


def apply_waiting_webhooks(session: Session, *, day: date, report: JobReport) -> None:
    """Webhooks kept as `deferred` whose payment is now recorded: one that came in the instant between the
    charge and the payment's commit could not see the payment, and the payment's own check ran before it."""
    payment_ids = session.scalars(
        select(Payment.id)
        .join(ProcessorEvent, ProcessorEvent.reference == Payment.processor_reference)
        .where(ProcessorEvent.outcome == "deferred")
        .distinct()
        .order_by(Payment.id)
    )
    for payment_id in list(payment_ids):
        payment = session.scalar(
            select(Payment)
            .where(Payment.id == payment_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert payment is not None
        for outcome in apply_deferred_events(session, payment=payment, today=day):
            report.add(f"deferred_webhook_{outcome}")
        session.commit()


def run_autopay(
    session: Session, *, day: date, processor: PaymentProcessor, settings: Settings, report: JobReport
) -> None:
    due_today = session.execute(
        select(Invoice, Account)
        .join(Account, Invoice.account_id == Account.id)
        .where(Account.autopay.is_(True), Invoice.due_date == day, Invoice.status != InvoiceStatus.void)
        .order_by(Invoice.id)
    ).all()
    for invoice, account in due_today:
        key = f"autopay:{invoice.number}"
        if _has_payment(session, key):
            continue
        total_due = account_ledger(session, account=account, today=day).total_due
        if total_due <= ZERO:
            continue
        _autopay_charge(
            session,
            account=account,
            invoice=invoice,
            amount=total_due,
            key=key,
            processor=processor,
            day=day,
            settings=settings,
            report=report,
            what="autopay",
        )


def retry_failed_autopay(
    session: Session, *, day: date, processor: PaymentProcessor, settings: Settings, report: JobReport
) -> None:
    for account in session.scalars(select(Account).where(Account.autopay.is_(True)).order_by(Account.id)):
        failed = session.scalar(
            select(Payment)
            .where(Payment.account_id == account.id, Payment.source == "autopay")
            .order_by(Payment.received_date.desc(), Payment.id.desc())
        )
        if failed is None or failed.status != PaymentStatus.failed or failed.invoice_id is None:
            continue
        invoice = session.get(Invoice, failed.invoice_id)
        method = default_method(session, account=account)
        if (
            invoice is None
            or method is None
            or method.updated_at is None
            or method.updated_at <= failed.created_at
        ):
            continue
        key = f"autopay-retry:{invoice.number}"
        if _has_payment(session, key):
            continue
        amount = min(failed.amount, account_ledger(session, account=account, today=day).total_due)
        if amount <= ZERO:
            continue
        _autopay_charge(
            session,
            account=account,
            invoice=invoice,
            amount=amount,
            key=key,
            processor=processor,
            day=day,
            settings=settings,
            report=report,
            what="autopay_retry",
        )


def track_arrangements(session: Session, *, day: date, report: JobReport) -> None:
    account_ids = session.scalars(
        select(Arrangement.account_id).where(Arrangement.status == "active").distinct()
    )
    for account_id in list(account_ids):
        account = session.get(Account, account_id)
        assert account is not None
        for arrangement in evaluate_arrangements(session, account=account, today=day):
            report.add(f"{arrangement.kind}_{arrangement.status}")
        session.commit()


def _paid_on(session: Session, *, account: Account, invoice: Invoice, by: date) -> date | None:
    """The day the money received covered every invoice due up to this one (oldest first), if by `by`."""
    owed = (
        session.scalar(
            select(func.sum(Invoice.total)).where(
                Invoice.account_id == account.id,
                Invoice.status != InvoiceStatus.void,
                Invoice.due_date <= invoice.due_date,
            )
        )
        or ZERO
    )
    credits = session.execute(select(Credit.created_at, Credit.amount).where(Credit.account_id == account.id))
    payments = session.execute(
        select(Payment.received_date, Payment.amount).where(
            Payment.account_id == account.id, Payment.status == PaymentStatus.posted
        )
    )
    money = sorted([(created.date(), amount) for created, amount in credits] + [(d, a) for d, a in payments])
    received = ZERO
    for day, amount in money:
        if day > by:
            break
        received += amount
        if received >= owed:
            return day
    return None


def apply_late_fees(session: Session, *, day: date, report: JobReport) -> None:
    rule = session.get(PolicyRule, LATE_FEE_RULE)
    if rule is None:
        return
    fee, grace = Decimal(str(rule.parameters["fee"])), int(rule.parameters["grace_days"])
    recent = session.scalars(
        select(Invoice.account_id)
        .where(Invoice.issue_date <= day, Invoice.issue_date > day - timedelta(days=CATCH_UP_DAYS))
        .distinct()
    )
    for account_id in list(recent):
        account = session.get(Account, account_id)
        assert account is not None
        invoices = list(
            session.scalars(
                select(Invoice)
                .where(Invoice.account_id == account.id, Invoice.status != InvoiceStatus.void)
                .order_by(Invoice.issue_date)
            )
        )
        charged_for = {
            (line.facts or {}).get("related_invoice_number")
            for line in session.scalars(
                select(LineItem)
                .join(Invoice)
                .where(Invoice.account_id == account.id, LineItem.charge_type == ChargeType.late_fee)
            )
        }
        for previous, following in pairwise(invoices):
            if not day - timedelta(days=CATCH_UP_DAYS) < following.issue_date <= day:
                continue
            if previous.number in charged_for or previous.total <= ZERO:
                continue
            paid_on = _paid_on(session, account=account, invoice=previous, by=following.issue_date)
            if paid_on is not None and paid_on <= previous.due_date + timedelta(days=grace):
                continue
            if covered_by_arrangement(session, account=account, due_date=previous.due_date):
                continue
            line = LineItem(
                invoice_id=following.id,
                position=len(following.line_items),
                charge_type=ChargeType.late_fee,
                description="Late payment fee",
                amount=fee,
                quantity=Decimal(1),
                unit="item",
                unit_rate=fee,
                policy_rule=LATE_FEE_RULE,
                facts={
                    "related_invoice_number": previous.number,
                    "related_due_date": previous.due_date.isoformat(),
                    "payment_date": paid_on.isoformat() if paid_on else None,
                    "assessed_on": following.issue_date.isoformat(),
                    "grace_days": grace,
                    "fee": f"{fee:.2f}",
                },
            )
            session.add(line)
            following.total += fee
            session.flush()
            audit.record(
                session,
                actor=SYSTEM_JOBS,
                action="write.late_fee",
                resource=f"line-item:{line.id}",
                customer_id=account.customer_id,
                details={
                    "invoice_number": following.number,
                    "related_invoice_number": previous.number,
                    "amount": f"{fee:.2f}",
                },
            )
            after_money_moved(session, account=account, today=day)
            session.commit()
            report.add("late_fee_added")


def run_billing_jobs(
    session: Session, *, day: date, processor: PaymentProcessor, settings: Settings
) -> JobReport:
    report = JobReport(day=day)
    apply_waiting_webhooks(session, day=day, report=report)  # first: a payment that posts lowers what is due
    run_autopay(session, day=day, processor=processor, settings=settings, report=report)
    retry_failed_autopay(session, day=day, processor=processor, settings=settings, report=report)
    track_arrangements(session, day=day, report=report)
    apply_late_fees(session, day=day, report=report)
    # last: reminders see the day's autopay outcomes and arrangements (backend/reminders, issue 19)
    for what, count in send_reminders(session, day=day, settings=settings).items():
        report.counts[what] = report.counts.get(what, 0) + count
    return report
