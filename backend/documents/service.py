"""The customer's documents: which exist, their PDFs, and their short-lived signed links.

Every figure comes from the same rows and the same ledger as the API (invoice totals, line item amounts,
payments, credits, `amount_due`, `total_due`), formatted with backend.money; nothing is recomputed in floats.
Everything is looked up inside one customer's account: another customer's document is simply not found."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit import service as audit
from backend.auth import Actor
from backend.billing.ledger import ZERO, account_ledger
from backend.billing.models import Invoice, LineItem
from backend.billing.service import load_line_items
from backend.config import Settings
from backend.customers.models import Account
from backend.customers.service import get_account
from backend.disputes.models import Credit
from backend.documents import pdf
from backend.documents.links import DOCUMENT_KINDS, DocumentKind, LinkClaims, read_link, sign_link
from backend.enums import InvoiceStatus, PaymentStatus
from backend.errors import InvalidInput, NotFound
from backend.money import format_date, format_decimal, format_money, format_rate
from backend.payments.models import Payment

MONTH_PATTERN = re.compile(r"^(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])$")
INVOICE_PATTERN = re.compile(r"^INV-\d{4}-\d{6}$")
MEDIA_TYPE = "application/pdf"


@dataclass(frozen=True)
class DocumentRef:
    kind: DocumentKind
    document_id: str
    title: str
    date: date
    filename: str


@dataclass(frozen=True)
class RenderedDocument:
    kind: DocumentKind
    document_id: str
    filename: str
    content: bytes
    media_type: str = MEDIA_TYPE


@dataclass(frozen=True)
class DocumentLink:
    ref: DocumentRef
    url: str
    expires_at: datetime


def _memo_number(credit_id: int) -> str:
    return f"CM-{credit_id:06d}"


def _month_bounds(month: str) -> tuple[date, date]:
    match = MONTH_PATTERN.fullmatch(month)
    if match is None:
        raise InvalidInput(f"A statement month looks like 2025-10, not {month!r}.")
    start = date(int(match["year"]), int(match["month"]), 1)
    return start, (start + timedelta(days=32)).replace(day=1)


def _invoices(session: Session, account: Account) -> list[Invoice]:
    return list(session.scalars(
        select(Invoice).where(Invoice.account_id == account.id).order_by(Invoice.issue_date, Invoice.id)
    ))


def _payments(session: Session, account: Account) -> list[Payment]:
    return list(session.scalars(
        select(Payment).where(Payment.account_id == account.id).order_by(Payment.received_date, Payment.id)
    ))


def _credits(session: Session, account: Account) -> list[Credit]:
    return list(session.scalars(
        select(Credit).where(Credit.account_id == account.id).order_by(Credit.created_at, Credit.id)
    ))


def _invoice_ref(invoice: Invoice) -> DocumentRef:
    return DocumentRef(
        kind="invoice_pdf", document_id=invoice.number, title=f"Invoice {invoice.number}",
        date=invoice.issue_date, filename=f"invoice-{invoice.number}.pdf",
    )


def _statement_ref(account: Account, month: str) -> DocumentRef:
    start, end = _month_bounds(month)
    return DocumentRef(
        kind="statement_pdf", document_id=month, title=f"Statement for {start:%B %Y}",
        date=end - timedelta(days=1), filename=f"statement-{account.number}-{month}.pdf",
    )


def _memo_ref(credit: Credit) -> DocumentRef:
    memo = _memo_number(credit.id)
    return DocumentRef(
        kind="credit_memo_pdf", document_id=str(credit.id), title=f"Credit memo {memo}",
        date=credit.created_at.date(), filename=f"credit-memo-{memo}.pdf",
    )


def list_documents(session: Session, *, customer_id: int) -> list[DocumentRef]:
    """Every invoice, a statement for every month with activity, every credit memo; newest first."""
    account = get_account(session, customer_id=customer_id)
    invoices, payments, credits = _invoices(session, account), _payments(session, account), _credits(
        session, account)
    months = {f"{i.issue_date:%Y-%m}" for i in invoices} | {f"{p.received_date:%Y-%m}" for p in payments}
    months |= {f"{c.created_at:%Y-%m}" for c in credits}
    refs = [_invoice_ref(i) for i in invoices] + [_statement_ref(account, m) for m in months]
    refs += [_memo_ref(c) for c in credits]
    order = {"statement_pdf": 0, "invoice_pdf": 1, "credit_memo_pdf": 2}
    return sorted(refs, key=lambda ref: (ref.date, -order[ref.kind], ref.document_id), reverse=True)


def find_document(
    session: Session, *, customer_id: int, kind: str, invoice_number: str | None = None,
    month: str | None = None, credit_id: int | None = None,
) -> DocumentRef:
    """The document a request names, inside this customer's account (the defaults: the latest invoice, the
    month of the latest invoice). NotFound when it does not exist here, InvalidInput for a malformed name."""
    if kind not in DOCUMENT_KINDS:
        raise InvalidInput(f"A document kind is one of {', '.join(DOCUMENT_KINDS)}.")
    account = get_account(session, customer_id=customer_id)
    if kind == "credit_memo_pdf":
        if credit_id is None:
            raise InvalidInput("A credit memo needs the credit_id.")
        credit = session.get(Credit, credit_id)
        if credit is None or credit.account_id != account.id:
            raise NotFound(f"No credit {credit_id} on this account.")
        return _memo_ref(credit)
    invoices = _invoices(session, account)
    if kind == "invoice_pdf":
        if invoice_number is not None and not INVOICE_PATTERN.fullmatch(invoice_number):
            raise InvalidInput("An invoice number looks like INV-2025-000123.")
        found = [i for i in invoices if invoice_number in (None, i.number)]
        if not found:
            raise NotFound(f"No invoice {invoice_number} on this account." if invoice_number
                           else "There is no invoice on this account yet.")
        return _invoice_ref(found[-1])
    if month is None:
        if not invoices:
            raise NotFound("There is no invoice on this account yet, so no statement.")
        month = f"{invoices[-1].issue_date:%Y-%m}"
    ref = _statement_ref(account, month)
    if ref not in list_documents(session, customer_id=customer_id):
        raise NotFound(f"There is no statement for {month} on this account.")
    return ref


def _period(start: date | None, end: date | None) -> str:
    return f"{start.isoformat()} to {end.isoformat()}" if start and end else ""


def _line_rows(lines: list[LineItem], money: Any) -> list[list[str]]:
    return [
        [
            line.description, _period(line.period_start, line.period_end),
            f"{format_decimal(Decimal(line.quantity))} {line.unit}",
            format_rate(Decimal(line.unit_rate)) if line.unit_rate is not None else "", money(line.amount),
        ]
        for line in lines
    ]


LINE_COLUMNS = ["Description", "Service period", "Quantity", "Rate", "Amount"]
LINE_WIDTHS = [0.38, 0.25, 0.12, 0.1, 0.15]


def _header(account: Account) -> list[tuple[str, str]]:
    customer = account.customer
    return [("Customer", f"{customer.first_name} {customer.last_name}"), ("Account", account.number),
            ("Currency", account.currency)]


def _invoice_document(session: Session, *, account: Account, number: str, today: date) -> pdf.Document:
    ledger = account_ledger(session, account=account, today=today)
    standing = ledger.standing_of(number)
    if standing is None:
        raise NotFound(f"No invoice {number} on this account.")
    invoice, money = standing.invoice, partial(format_money, currency=account.currency)
    lines = load_line_items(session, invoice_ids=[invoice.id])[invoice.id]
    credits = [c for c in _credits(session, account) if c.invoice_id == invoice.id]
    payments = [p for p in _payments(session, account)
                if p.invoice_id == invoice.id and p.status == PaymentStatus.posted]
    facts = [
        *_header(account), ("Invoice", invoice.number),
        ("Billing period", _period(invoice.period_start, invoice.period_end)),
        ("Issued", format_date(invoice.issue_date)), ("Due", format_date(invoice.due_date)),
        ("Status", str(standing.status)),
    ]
    return pdf.Document(
        title=f"Invoice {invoice.number}", facts=facts,
        sections=[
            pdf.Section("Charges", LINE_COLUMNS, _line_rows(lines, money), LINE_WIDTHS),
            pdf.Section("Invoice total", ["", "Amount"], [["Total of this invoice", money(invoice.total)]],
                        [0.85, 0.15]),
            pdf.Section("Credits on this invoice", ["Date", "Credit memo", "Reason", "Amount"], [
                [c.created_at.date().isoformat(), _memo_number(c.id), c.reason, money(-c.amount)]
                for c in credits], [0.15, 0.15, 0.55, 0.15]),
            pdf.Section("Payments applied to this invoice", ["Received", "Method", "Status", "Amount"], [
                [p.received_date.isoformat(), p.method, str(p.status), money(-p.amount)] for p in payments
            ], [0.2, 0.45, 0.2, 0.15]),
            pdf.Section("Amount due", ["", "Amount"], [["Still to pay on this invoice", money(
                standing.amount_due)]], [0.85, 0.15],
                note="After every payment and credit on the account; payments not tied to an invoice pay the "
                     "oldest invoices first."),
        ],
        footer=f"Please pay by {format_date(invoice.due_date)}." if standing.amount_due > ZERO else "",
    )


def _statement_document(session: Session, *, account: Account, month: str, today: date) -> pdf.Document:
    start, end = _month_bounds(month)
    money = partial(format_money, currency=account.currency)
    invoices = [i for i in _invoices(session, account) if i.status != InvoiceStatus.void]
    payments, credits = _payments(session, account), _credits(session, account)
    posted = [p for p in payments if p.status == PaymentStatus.posted]
    opening = (
        sum((i.total for i in invoices if i.issue_date < start), ZERO)
        - sum((p.amount for p in posted if p.received_date < start), ZERO)
        - sum((c.amount for c in credits if c.created_at.date() < start), ZERO)
    )
    month_invoices = [i for i in invoices if start <= i.issue_date < end]
    month_payments = [p for p in payments if start <= p.received_date < end]
    month_credits = [c for c in credits if start <= c.created_at.date() < end]
    closing = (
        opening + sum((i.total for i in month_invoices), ZERO)
        - sum((p.amount for p in month_payments if p.status == PaymentStatus.posted), ZERO)
        - sum((c.amount for c in month_credits), ZERO)
    )
    lines = load_line_items(session, invoice_ids=[i.id for i in month_invoices])
    numbers = {i.id: i.number for i in _invoices(session, account)}
    ledger = account_ledger(session, account=account, today=today)
    sections = [pdf.Section("Opening balance", ["", "Amount"], [
        [f"Balance on {format_date(start)}", money(opening)]], [0.85, 0.15])]
    for invoice in month_invoices:
        sections.append(pdf.Section(
            f"Invoice {invoice.number}, issued {format_date(invoice.issue_date)}, due "
            f"{format_date(invoice.due_date)}", LINE_COLUMNS,
            [*_line_rows(lines[invoice.id], money), ["Invoice total", "", "", "", money(invoice.total)]],
            LINE_WIDTHS))
    if not month_invoices:
        sections.append(pdf.Section("Invoices issued this month", empty="No invoice was issued this month."))
    sections += [
        pdf.Section("Payments received", ["Received", "Method", "Status", "Invoice", "Amount"], [
            [p.received_date.isoformat(), p.method, str(p.status), numbers.get(p.invoice_id or 0, ""),
             money(-p.amount)] for p in month_payments], [0.15, 0.3, 0.15, 0.25, 0.15],
            note="Only posted payments are subtracted; pending ones are shown until they post."),
        pdf.Section("Credits", ["Date", "Credit memo", "Reason", "Amount"], [
            [c.created_at.date().isoformat(), _memo_number(c.id), c.reason, money(-c.amount)]
            for c in month_credits], [0.15, 0.15, 0.55, 0.15]),
        pdf.Section("Closing balance", ["", "Amount"], [
            [f"Balance on {format_date(end - timedelta(days=1))}", money(closing)],
            [f"Total due today ({format_date(today)})", money(ledger.total_due)]], [0.85, 0.15]),
    ]
    return pdf.Document(
        title=f"Statement for {start:%B %Y}",
        facts=[*_header(account), ("Statement period", _period(start, end - timedelta(days=1)))],
        sections=sections,
    )


def _credit_memo_document(session: Session, *, account: Account, credit_id: int) -> pdf.Document:
    credit = session.get(Credit, credit_id)
    if credit is None or credit.account_id != account.id:
        raise NotFound(f"No credit {credit_id} on this account.")
    money = partial(format_money, currency=account.currency)
    invoice = session.get(Invoice, credit.invoice_id) if credit.invoice_id else None
    line = session.get(LineItem, credit.line_item_id) if credit.line_item_id else None
    facts = [*_header(account), ("Credit memo", _memo_number(credit.id)),
             ("Date", format_date(credit.created_at.date()))]
    applies = [["Invoice", invoice.number if invoice else "The account balance"]]
    if line is not None:
        applies.append(["Charge", f"{line.description} ({money(line.amount)})"])
    if credit.dispute_id is not None:
        applies.append(["Dispute", f"#{credit.dispute_id}"])
    return pdf.Document(
        title=f"Credit memo {_memo_number(credit.id)}", facts=facts,
        sections=[
            pdf.Section("Credit", ["Reason", "Amount"], [[credit.reason, money(credit.amount)]],
                        [0.85, 0.15]),
            pdf.Section("Applies to", ["", ""], applies, [0.3, 0.7]),
        ],
        footer="This credit lowers what you owe; it is already included in your balance.",
    )


def render_document(
    session: Session, *, customer_id: int, kind: str, document_id: str, today: date
) -> RenderedDocument:
    if kind == "credit_memo_pdf":
        if not document_id.isdigit():
            raise InvalidInput("A credit memo is named by the credit id.")
        ref = find_document(session, customer_id=customer_id, kind=kind, credit_id=int(document_id))
    elif kind == "invoice_pdf":
        ref = find_document(session, customer_id=customer_id, kind=kind, invoice_number=document_id)
    else:
        ref = find_document(session, customer_id=customer_id, kind=kind, month=document_id)
    account = get_account(session, customer_id=customer_id)
    if ref.kind == "invoice_pdf":
        document = _invoice_document(session, account=account, number=ref.document_id, today=today)
    elif ref.kind == "statement_pdf":
        document = _statement_document(session, account=account, month=ref.document_id, today=today)
    else:
        document = _credit_memo_document(session, account=account, credit_id=int(ref.document_id))
    return RenderedDocument(
        kind=ref.kind, document_id=ref.document_id, filename=ref.filename, content=pdf.render(document)
    )


def render_attachment(
    session: Session, *, customer_id: int, spec: Mapping[str, Any], today: date
) -> RenderedDocument:
    """One item of the mail API's "attachments" ({"kind": "invoice_pdf", "invoice_number"?} /
    {"kind": "statement_pdf", "month"?} / {"kind": "credit_memo_pdf", "credit_id"}) as PDF bytes + filename.
    NotFound / InvalidInput like the link route."""
    credit_id = spec.get("credit_id")
    if credit_id is not None and (isinstance(credit_id, bool) or not isinstance(credit_id, int)):
        raise InvalidInput("credit_id must be an integer.")
    for name in ("invoice_number", "month"):
        if spec.get(name) is not None and not isinstance(spec.get(name), str):
            raise InvalidInput(f"{name} must be a string.")
    ref = find_document(
        session, customer_id=customer_id, kind=str(spec.get("kind")),
        invoice_number=spec.get("invoice_number"), month=spec.get("month"), credit_id=credit_id,
    )
    return render_document(session, customer_id=customer_id, kind=ref.kind, document_id=ref.document_id,
                           today=today)


def create_link(
    session: Session, *, settings: Settings, customer_id: int, kind: str, invoice_number: str | None,
    month: str | None, credit_id: int | None, actor: Actor | None, now: datetime,
) -> DocumentLink:
    ref = find_document(session, customer_id=customer_id, kind=kind, invoice_number=invoice_number,
                        month=month, credit_id=credit_id)
    expires_at = now.replace(microsecond=0) + timedelta(minutes=settings.documents_link_minutes)
    token = sign_link(
        secret=settings.documents_link_secret.get_secret_value(),
        claims=LinkClaims(kind=ref.kind, document_id=ref.document_id, customer_id=customer_id,
                          expires_at=expires_at),
    )
    audit.record(
        session, actor=actor, action="write.document.link", resource=f"{ref.kind}:{ref.document_id}",
        customer_id=customer_id, details={"expires_at": expires_at.isoformat()},
    )
    session.commit()
    return DocumentLink(ref=ref, url=f"{settings.documents_public_url}/documents/{token}",
                        expires_at=expires_at)


def open_link(
    session: Session, *, settings: Settings, token: str, now: datetime, today: date
) -> RenderedDocument:
    """The PDF a genuine, unexpired link names, rendered from the current data. BadLink / ExpiredLink from
    links.read_link, NotFound when the document is not (or no longer) on the signed customer's account."""
    claims = read_link(secret=settings.documents_link_secret.get_secret_value(), token=token, now=now)
    rendered = render_document(session, customer_id=claims.customer_id, kind=claims.kind,
                               document_id=claims.document_id, today=today)
    audit.record(
        session, actor=None, action="document.download", resource=f"{claims.kind}:{claims.document_id}",
        customer_id=claims.customer_id, details={"via": "signed_link"},
    )
    session.commit()
    return rendered


__all__ = ["DocumentRef", "RenderedDocument", "create_link", "find_document", "list_documents", "open_link",
           "render_attachment", "render_document"]
