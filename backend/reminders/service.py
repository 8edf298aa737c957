"""Payment reminders (issue 19, "Outreach on time"; docs/contracts.md, "Payment reminders").

`send_reminders` is the billing job's last step for a day D. It finds what deserves a reminder (a bill due
in REMINDER_DAYS_BEFORE_DUE days with autopay off, a missed due date, a failed autopay, a card that expires
before the next due date, a promised payment due tomorrow), and for each one not sent yet queues the
`payment_reminder` email through backend/mail (outbox key `reminder:<customer>:<subject>:<kind>`) and records
the reminder (unique per customer, subject and kind) with an audit entry. A second run, a restart or a
concurrent run finds the row or loses the insert race and sends nothing more. Only the customer's own account
figures go into the email.
"""

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.arrangements.models import Arrangement, Instalment
from backend.arrangements.service import covered_by_arrangement
from backend.audit import service as audit
from backend.base import utcnow
from backend.billing.ledger import ZERO, Ledger, account_ledger
from backend.billing.models import Invoice
from backend.config import Settings
from backend.customers.models import Account, PaymentMethod
from backend.enums import AccountStatus, InvoiceStatus, PaymentStatus
from backend.errors import IdempotencyKeyReused, NotFound
from backend.mail import service as mail
from backend.mail.models import MailMessage
from backend.mail.schemas import MailMessageOut, MailRequest
from backend.money import format_money
from backend.payments.actors import SYSTEM_JOBS
from backend.payments.models import Payment
from backend.payments.service import default_method
from backend.reminders import pay_links
from backend.reminders.models import Reminder, ReminderKind
from backend.reminders.schemas import ReminderOut

logger = logging.getLogger("backend.reminders")
PAST_DUE_CATCH_UP_DAYS = 31  # a missed run still sends the past-due notice of a due date this recent
AUTOPAY_LOOKBACK_DAYS = 62  # failed autopay payments older than this are not looked at any more
CARD_LOOKAHEAD_DAYS = 62  # cards expiring later than this cannot expire before the next due date
URGENCY = (ReminderKind.past_due, ReminderKind.autopay_failed, ReminderKind.promise_due,
           ReminderKind.card_expiring, ReminderKind.due_soon)


@dataclass(frozen=True)
class Candidate:
    customer_id: int
    kind: ReminderKind
    subject: str
    invoice_number: str | None
    amount: Decimal | None
    due_date: date | None


class _Ledgers:
    """One ledger per account per run (several kinds look at the same account)."""

    def __init__(self, session: Session, day: date) -> None:
        self._session, self._day, self._cache = session, day, dict[int, Ledger]()

    def __call__(self, account: Account) -> Ledger:
        if account.id not in self._cache:
            self._cache[account.id] = account_ledger(self._session, account=account, today=self._day)
        return self._cache[account.id]


def _owed(ledger: Ledger, invoice: Invoice) -> Decimal:
    standing = ledger.standing_of(invoice.number)
    return standing.amount_due if standing is not None else ZERO


def _open_invoices(session: Session, *, first: date, last: date) -> list[tuple[Invoice, Account]]:
    """Invoices due in first..last (inclusive) that may still owe, on accounts that are not closed."""
    return list(
        session.execute(
            select(Invoice, Account)
            .join(Account, Invoice.account_id == Account.id)
            .where(
                Invoice.due_date >= first,
                Invoice.due_date <= last,
                Invoice.status.notin_((InvoiceStatus.void, InvoiceStatus.paid)),
                Account.status != AccountStatus.closed,
            )
            .order_by(Invoice.id)
        )
    )


def _due_soon(session: Session, day: date, settings: Settings, ledgers: _Ledgers) -> Iterator[Candidate]:
    last = day + timedelta(days=settings.reminder_days_before_due)
    for invoice, account in _open_invoices(session, first=day + timedelta(days=1), last=last):
        if account.autopay:
            continue
        ledger = ledgers(account)
        owed = _owed(ledger, invoice)
        if owed <= ZERO or ledger.pending_payments_total >= owed:
            continue
        yield Candidate(account.customer_id, ReminderKind.due_soon, f"invoice:{invoice.number}",
                        invoice.number, owed, invoice.due_date)


def _past_due(session: Session, day: date, ledgers: _Ledgers) -> Iterator[Candidate]:
    first = day - timedelta(days=PAST_DUE_CATCH_UP_DAYS)
    for invoice, account in _open_invoices(session, first=first, last=day - timedelta(days=1)):
        owed = _owed(ledgers(account), invoice)
        if owed <= ZERO or covered_by_arrangement(session, account=account, due_date=invoice.due_date):
            continue
        yield Candidate(account.customer_id, ReminderKind.past_due, f"invoice:{invoice.number}",
                        invoice.number, owed, invoice.due_date)


def _autopay_failed(session: Session, day: date, ledgers: _Ledgers) -> Iterator[Candidate]:
    latest = (
        select(Payment.account_id, func.max(Payment.id).label("payment_id"))
        .where(
            Payment.source == "autopay", Payment.received_date >= day - timedelta(days=AUTOPAY_LOOKBACK_DAYS)
        )
        .group_by(Payment.account_id)
        .subquery()
    )
    rows = session.execute(
        select(Payment, Account)
        .join(latest, Payment.id == latest.c.payment_id)
        .join(Account, Payment.account_id == Account.id)
        .where(
            Payment.status == PaymentStatus.failed, Account.autopay.is_(True), Payment.received_date <= day
        )
        .order_by(Payment.id)
    )
    for payment, account in rows:
        invoice = session.get(Invoice, payment.invoice_id) if payment.invoice_id else None
        if invoice is None or _owed(ledgers(account), invoice) <= ZERO:
            continue
        yield Candidate(account.customer_id, ReminderKind.autopay_failed, f"payment:{payment.id}",
                        invoice.number, payment.amount, invoice.due_date)


def _next_due(ledger: Ledger, day: date) -> Invoice | None:
    upcoming = [
        standing.invoice
        for standing in ledger.standings
        if standing.invoice.due_date >= day and standing.amount_due > ZERO
        and standing.invoice.status != InvoiceStatus.void
    ]
    return min(upcoming, key=lambda invoice: invoice.due_date, default=None)


def _card_expiring(session: Session, day: date, ledgers: _Ledgers) -> Iterator[Candidate]:
    accounts = session.scalars(
        select(Account)
        .join(PaymentMethod, PaymentMethod.account_id == Account.id)
        .where(
            Account.autopay.is_(True),
            Account.status != AccountStatus.closed,
            PaymentMethod.kind == "card",
            PaymentMethod.expires_on.is_not(None),
            PaymentMethod.expires_on < day + timedelta(days=CARD_LOOKAHEAD_DAYS),
        )
        .distinct()
        .order_by(Account.id)
    )
    for account in list(accounts):
        method = default_method(session, account=account)
        if method is None or method.kind != "card" or method.expires_on is None:
            continue
        invoice = _next_due(ledgers(account), day)
        if invoice is None or method.expires_on >= invoice.due_date:
            continue
        yield Candidate(account.customer_id, ReminderKind.card_expiring,
                        f"card:{method.id}:{method.expires_on:%Y-%m}", invoice.number, None, invoice.due_date)


def _promise_due(session: Session, day: date) -> Iterator[Candidate]:
    tomorrow = day + timedelta(days=1)
    promises = session.execute(
        select(Arrangement, Account)
        .join(Account, Arrangement.account_id == Account.id)
        .where(
            Arrangement.kind == "promise_to_pay",
            Arrangement.status == "active",
            Arrangement.pay_by >= day,
            Arrangement.pay_by <= tomorrow,
        )
        .order_by(Arrangement.id)
    )
    for arrangement, account in promises:
        yield Candidate(account.customer_id, ReminderKind.promise_due, f"arrangement:{arrangement.id}",
                        None, arrangement.amount, arrangement.pay_by)
    instalments = session.execute(
        select(Instalment, Account)
        .join(Arrangement, Instalment.arrangement_id == Arrangement.id)
        .join(Account, Arrangement.account_id == Account.id)
        .where(
            Arrangement.status == "active",
            Instalment.status == "due",
            Instalment.due_date >= day,
            Instalment.due_date <= tomorrow,
        )
        .order_by(Instalment.id)
    )
    for instalment, account in instalments:
        yield Candidate(account.customer_id, ReminderKind.promise_due, f"instalment:{instalment.id}",
                        None, instalment.amount, instalment.due_date)


def find_candidates(session: Session, *, day: date, settings: Settings) -> list[Candidate]:
    """Everything that deserves a reminder on `day`, sent or not (one per customer, subject and kind)."""
    ledgers = _Ledgers(session, day)
    found: dict[tuple[int, str, ReminderKind], Candidate] = {}
    sources: Iterable[Iterator[Candidate]] = (
        _due_soon(session, day, settings, ledgers),
        _past_due(session, day, ledgers),
        _autopay_failed(session, day, ledgers),
        _card_expiring(session, day, ledgers),
        _promise_due(session, day),
    )
    for source in sources:
        for candidate in source:
            found.setdefault((candidate.customer_id, candidate.subject, candidate.kind), candidate)
    return list(found.values())


def _mail_key(candidate: Candidate) -> str:
    return f"reminder:{candidate.customer_id}:{candidate.subject}:{candidate.kind}"


def _queue_mail(
    session: Session, *, candidate: Candidate, settings: Settings, now: datetime, day: date
) -> MailMessageOut:
    key = _mail_key(candidate)
    context: dict[str, object] = {"kind": str(candidate.kind), "pay_url": pay_links.pay_url(
        settings, customer_id=candidate.customer_id, subject=candidate.subject, kind=candidate.kind, day=day)}
    if candidate.invoice_number:
        context["invoice_number"] = candidate.invoice_number
    if candidate.amount is not None:
        context["amount"] = candidate.amount
    if candidate.due_date is not None:
        context["due_date"] = candidate.due_date
    request = MailRequest(template="payment_reminder", customer_id=candidate.customer_id, context=context)
    try:
        message, _ = mail.enqueue(
            session, key=key, request=request, actor=SYSTEM_JOBS, settings=settings, now=now
        )
    except IdempotencyKeyReused:  # queued by an earlier run whose figures have moved since: that mail stands
        session.rollback()
        earlier = session.scalar(select(MailMessage).where(MailMessage.idempotency_key == key))
        assert earlier is not None
        message = mail.to_out(earlier)
    return message


def send_reminders(
    session: Session, *, day: date, settings: Settings, now: datetime | None = None
) -> dict[str, int]:
    """Queues and records the reminders of `day` not sent yet; commits each one. Returns counts per kind
    (`reminder_<kind>`) of the reminders this run recorded."""
    now = now or utcnow()
    candidates = find_candidates(session, day=day, settings=settings)
    keys = [(c.customer_id, c.subject, str(c.kind)) for c in candidates]
    sent: set[tuple[int, str, str]] = set()
    if keys:
        rows = session.execute(
            select(Reminder.customer_id, Reminder.subject, Reminder.kind).where(
                tuple_(Reminder.customer_id, Reminder.subject, Reminder.kind).in_(keys)
            )
        )
        sent = {(customer_id, subject, str(kind)) for customer_id, subject, kind in rows}
    counts: dict[str, int] = {}
    for candidate, key in zip(candidates, keys, strict=True):
        if key in sent:
            continue
        message = _queue_mail(session, candidate=candidate, settings=settings, now=now, day=day)
        reminder = Reminder(
            customer_id=candidate.customer_id,
            kind=candidate.kind,
            subject=candidate.subject,
            invoice_number=candidate.invoice_number,
            amount=candidate.amount,
            due_date=candidate.due_date,
            day=day,
            mail_id=message.id,
            created_at=now,
        )
        session.add(reminder)
        try:
            session.flush()
            audit.record(
                session,
                actor=SYSTEM_JOBS,
                action="write.reminder",
                resource=f"reminder:{reminder.id}",
                customer_id=candidate.customer_id,
                details={"kind": str(candidate.kind), "subject": candidate.subject, "mail_id": message.id,
                         "mail_status": str(message.status)},
            )
            session.commit()
        except IntegrityError:  # a concurrent run recorded it first (its mail is the same outbox row)
            session.rollback()
            continue
        counts[f"reminder_{candidate.kind}"] = counts.get(f"reminder_{candidate.kind}", 0) + 1
    if counts:
        logger.info("reminders queued for %s: %s", day.isoformat(),
                    ", ".join(f"{name} {count}" for name, count in sorted(counts.items())))
    return counts


def headline(reminder: Reminder, currency: str = "USD") -> str:
    """The sentence the chat widget shows, e.g. "You have $75.00 past due since November 17"."""
    amount = format_money(reminder.amount, currency) if reminder.amount is not None else None
    due = f"{reminder.due_date:%B} {reminder.due_date.day}" if reminder.due_date else None
    if reminder.kind == ReminderKind.past_due:
        return f"You have {amount or 'a balance'} past due" + (f" since {due}" if due else "")
    if reminder.kind == ReminderKind.due_soon:
        return f"Your bill of {amount or 'your balance'} is due" + (f" on {due}" if due else " soon")
    if reminder.kind == ReminderKind.autopay_failed:
        return f"Your automatic payment{' of ' + amount if amount else ''} did not go through"
    if reminder.kind == ReminderKind.card_expiring:
        return "Your card on file expires before your next due date" + (f", {due}" if due else "")
    return f"Your promised payment{' of ' + amount if amount else ''} is due" + (f" on {due}" if due else "")


def _out(session: Session, reminder: Reminder, currency: str) -> ReminderOut:
    message = session.get(MailMessage, reminder.mail_id)
    return ReminderOut(
        id=reminder.id,
        customer_id=reminder.customer_id,
        kind=reminder.kind,
        subject=reminder.subject,
        invoice_number=reminder.invoice_number,
        amount=reminder.amount,
        due_date=reminder.due_date,
        day=reminder.day,
        mail_id=reminder.mail_id,
        mail_status=str(message.status) if message is not None else None,
        headline=headline(reminder, currency),
        created_at=reminder.created_at,
        seen_at=reminder.seen_at,
    )


def _currency(session: Session, customer_id: int) -> str:
    account = session.scalar(select(Account).where(Account.customer_id == customer_id))
    if account is None:
        raise NotFound(f"No customer {customer_id}.")
    return account.currency


def list_reminders(session: Session, *, customer_id: int, unseen: bool, limit: int) -> list[ReminderOut]:
    currency = _currency(session, customer_id)
    query = select(Reminder).where(Reminder.customer_id == customer_id)
    if unseen:
        query = query.where(Reminder.seen_at.is_(None))
    # Newest first; among those of one run, the most urgent first (what the chat shows is the first unseen).
    urgency = case({kind: rank for rank, kind in enumerate(URGENCY)}, value=Reminder.kind, else_=len(URGENCY))
    query = query.order_by(Reminder.created_at.desc(), urgency, Reminder.id.desc()).limit(limit)
    rows = session.scalars(query)
    return [_out(session, row, currency) for row in rows]


def mark_seen(session: Session, *, customer_id: int, reminder_id: int, now: datetime) -> ReminderOut:
    currency = _currency(session, customer_id)
    reminder = session.get(Reminder, reminder_id)
    if reminder is None or reminder.customer_id != customer_id:
        raise NotFound("No such reminder on this account.")
    if reminder.seen_at is None:
        reminder.seen_at = now
        session.commit()
    return _out(session, reminder, currency)
