"""Customer-scoped billing reads: balance, invoices, line items, explanations and bill comparison."""
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from backend.billing.explain import Explanation, credits_note, explain_line
from backend.billing.ledger import ZERO, InvoiceStanding, Ledger, PaymentRow, account_ledger
from backend.billing.models import Invoice, LineItem, PolicyRule
from backend.customers.models import Account
from backend.customers.service import get_account
from backend.disputes.models import Credit
from backend.enums import ChangeKind, ChargeType
from backend.errors import NotFound
from backend.money import format_date, format_decimal, format_money

# Words customers use for a charge type (the bot maps synonyms too; this makes the API forgiving).
CHARGE_SYNONYMS: dict[str, ChargeType] = {
    "late fee": ChargeType.late_fee, "late payment charge": ChargeType.late_fee,
    "late charge": ChargeType.late_fee, "late payment fee": ChargeType.late_fee,
    "penalty": ChargeType.late_fee, "overage": ChargeType.usage, "data overage": ChargeType.usage,
    "usage": ChargeType.usage, "extra data": ChargeType.usage, "data charge": ChargeType.usage,
    "tax": ChargeType.tax, "taxes": ChargeType.tax, "regulatory fee": ChargeType.tax, "fees": ChargeType.tax,
    "surcharge": ChargeType.tax, "proration": ChargeType.proration, "prorated": ChargeType.proration,
    "prorated charge": ChargeType.proration, "partial month": ChargeType.proration,
    "discount": ChargeType.discount, "promo": ChargeType.discount, "promotion": ChargeType.discount,
    "one time": ChargeType.one_time, "one-time charge": ChargeType.one_time,
    "installation": ChargeType.one_time, "activation": ChargeType.one_time, "setup fee": ChargeType.one_time,
    "equipment": ChargeType.equipment, "device": ChargeType.equipment, "router": ChargeType.equipment,
    "plan": ChargeType.plan, "monthly plan": ChargeType.plan, "subscription": ChargeType.plan,
    "monthly charge": ChargeType.plan, "credit": ChargeType.credit, "refund": ChargeType.credit,
    "adjustment": ChargeType.credit,
}


def charge_type_for(name: str) -> ChargeType | None:
    key = re.sub(r"[\s_\-]+", " ", name.strip().lower())
    for candidate in (key, key.removesuffix("s"), key.replace(" ", "_")):
        if candidate in CHARGE_SYNONYMS:
            return CHARGE_SYNONYMS[candidate]
        if candidate.replace(" ", "_") in ChargeType.__members__:
            return ChargeType(candidate.replace(" ", "_"))
    return None


def ledger_for_customer(session: Session, *, customer_id: int, today: date) -> Ledger:
    return account_ledger(session, account=get_account(session, customer_id=customer_id), today=today)


@dataclass
class Balance:
    ledger: Ledger
    past_due: Decimal
    next_due: InvoiceStanding | None
    last_payment: PaymentRow | None


def get_balance(session: Session, *, customer_id: int, today: date) -> Balance:
    ledger = ledger_for_customer(session, customer_id=customer_id, today=today)
    past_due = sum((s.amount_due for s in ledger.standings if s.invoice.due_date < today), ZERO)
    upcoming = [s for s in ledger.standings if s.amount_due > ZERO and s.invoice.due_date >= today]
    next_due = min(upcoming, key=lambda s: s.invoice.due_date) if upcoming else None
    return Balance(ledger=ledger, past_due=past_due, next_due=next_due, last_payment=ledger.last_payment)


def get_invoice(
    session: Session, *, customer_id: int, number: str, today: date
) -> tuple[InvoiceStanding, Account]:
    ledger = ledger_for_customer(session, customer_id=customer_id, today=today)
    standing = ledger.standing_of(number)
    if standing is None:
        raise NotFound(f"No invoice {number} on this account.")
    return standing, ledger.account


def load_line_items(session: Session, *, invoice_ids: list[int]) -> dict[int, list[LineItem]]:
    lines: dict[int, list[LineItem]] = {invoice_id: [] for invoice_id in invoice_ids}
    if invoice_ids:
        query = (
            select(LineItem)
            .where(LineItem.invoice_id.in_(invoice_ids))
            .order_by(LineItem.position, LineItem.id)
        )
        for line in session.scalars(query):
            lines[line.invoice_id].append(line)
    return lines


def search_line_items(
    session: Session,
    *,
    customer_id: int,
    amount: Decimal | None,
    on_date: date | None,
    name: str | None,
    invoice_number: str | None,
    limit: int = 200,
) -> list[tuple[LineItem, Invoice]]:
    account = get_account(session, customer_id=customer_id)
    query = (
        select(LineItem, Invoice)
        .join(Invoice, LineItem.invoice_id == Invoice.id)
        .where(Invoice.account_id == account.id)
        .order_by(Invoice.issue_date.desc(), Invoice.id.desc(), LineItem.position, LineItem.id)
        .limit(limit)
    )
    if amount is not None:
        query = query.where(or_(LineItem.amount == amount, LineItem.amount == -amount))
    if on_date is not None:
        query = query.where(
            or_(
                and_(
                    func.coalesce(LineItem.period_start, Invoice.period_start) <= on_date,
                    func.coalesce(LineItem.period_end, Invoice.period_end) >= on_date,
                ),
                Invoice.issue_date == on_date,
                Invoice.due_date == on_date,
            )
        )
    if name:
        charge_type = charge_type_for(name)
        pattern = "%" + name.strip().lower().replace("%", r"\%").replace("_", r"\_") + "%"
        by_description = func.lower(LineItem.description).like(pattern, escape="\\")
        query = query.where(
            or_(LineItem.charge_type == charge_type, by_description) if charge_type else by_description
        )
    if invoice_number:
        query = query.where(Invoice.number == invoice_number)
    return [(line, invoice) for line, invoice in session.execute(query)]


def credits_on_lines(session: Session, *, line_ids: list[int]) -> dict[int, list[Credit]]:
    """The credits issued on each of these lines (late-fee waivers, settled disputes), oldest first."""
    found: dict[int, list[Credit]] = {}
    query = select(Credit).where(Credit.line_item_id.in_(line_ids)).order_by(Credit.created_at, Credit.id)
    for credit in session.scalars(query):
        found.setdefault(credit.line_item_id or 0, []).append(credit)
    return found


@dataclass
class LineExplanation:
    line: LineItem
    invoice: Invoice
    explanation: Explanation


def explain_line_item(session: Session, *, customer_id: int, line_item_id: int) -> LineExplanation:
    row = session.execute(
        select(LineItem, Invoice, Account, PolicyRule)
        .join(Invoice, LineItem.invoice_id == Invoice.id)
        .join(Account, Invoice.account_id == Account.id)
        .outerjoin(PolicyRule, PolicyRule.code == LineItem.policy_rule)
        .where(LineItem.id == line_item_id, Account.customer_id == customer_id)
    ).first()
    if row is None:
        raise NotFound(f"No line item {line_item_id} on this customer's invoices.")
    line, invoice, account, policy = row
    invoice_lines = load_line_items(session, invoice_ids=[invoice.id])[invoice.id]
    explanation = explain_line(
        line=line, invoice=invoice, currency=account.currency, policy=policy, invoice_lines=invoice_lines,
        credits=credits_on_lines(session, line_ids=[line.id]).get(line.id, []),
    )
    return LineExplanation(line=line, invoice=invoice, explanation=explanation)


@dataclass
class Change:
    kind: ChangeKind
    description: str
    charge_type: str
    previous_amount: Decimal
    current_amount: Decimal
    explanation: str

    @property
    def difference(self) -> Decimal:
        return self.current_amount - self.previous_amount


@dataclass
class BillComparison:
    current: Invoice
    previous: Invoice
    currency: str
    changes: list[Change]

    @property
    def difference(self) -> Decimal:
        return self.current.total - self.previous.total

    @property
    def summary(self) -> str:
        m = partial(format_money, currency=self.currency)
        if self.difference == 0:
            head = (
                f"Invoice {self.current.number} is the same as {self.previous.number}: "
                f"{m(self.current.total)}."
            )
        else:
            direction = "more" if self.difference > 0 else "less"
            head = (
                f"Invoice {self.current.number} is {m(abs(self.difference))} {direction} than "
                f"{self.previous.number} ({m(self.current.total)} vs {m(self.previous.total)})."
            )
        if not self.changes:
            return head
        return head + " " + " ".join(change.explanation for change in self.changes)


def _group_key(line: LineItem) -> tuple[str, str]:
    return (str(line.charge_type), line.description)


def _describe_change(
    *, kind: ChangeKind, current: list[LineItem], previous: list[LineItem], currency: str,
    current_invoice: Invoice, previous_invoice: Invoice,
) -> str:
    m = partial(format_money, currency=currency)
    now_total = sum((line.amount for line in current), ZERO)
    before_total = sum((line.amount for line in previous), ZERO)
    sample = (current or previous)[0]
    name = sample.description
    count = f" (billed {len(current)} times)" if len(current) > 1 else ""
    if kind == "new":
        text = f"New on this bill: {name}{count}, {m(now_total)}."
        facts = sample.facts or {}
        if sample.charge_type == ChargeType.late_fee and facts.get("related_invoice_number"):
            paid = facts.get("payment_date")
            text += (
                f" Invoice {facts['related_invoice_number']} was due on "
                f"{format_date(date.fromisoformat(facts['related_due_date']))} and "
                + (
                    f"was paid on {format_date(date.fromisoformat(paid))}."
                    if paid else "was not paid in time."
                )
            )
        elif sample.charge_type == ChargeType.proration and facts.get("change_date"):
            text += f" Your plan changed on {format_date(date.fromisoformat(facts['change_date']))}."
        return text
    if kind == "removed":
        text = f"No longer billed: {name}, which was {m(before_total)} on {previous_invoice.number}."
        facts = sample.facts or {}
        if facts.get("end_date"):
            text += f" It ended on {format_date(date.fromisoformat(facts['end_date']))}."
        return text
    text = f"{name} changed from {m(before_total)} to {m(now_total)}{count}."
    before_qty = sum((Decimal(line.quantity) for line in previous), Decimal(0))
    now_qty = sum((Decimal(line.quantity) for line in current), Decimal(0))
    if sample.charge_type == ChargeType.usage:
        text += (
            f" Data over the allowance went from {format_decimal(before_qty)} GB "
            f"to {format_decimal(now_qty)} GB."
        )
    elif before_qty != now_qty:
        text += (
            f" Quantity went from {format_decimal(before_qty)} to {format_decimal(now_qty)} {sample.unit}."
        )
    elif (
        previous and current and previous[0].unit_rate != current[0].unit_rate
        and current[0].unit_rate is not None
    ):
        text += (
            f" The rate went from {format_decimal(Decimal(previous[0].unit_rate or 0))} "
            f"to {format_decimal(Decimal(current[0].unit_rate))}."
        )
    return text


def compare_bills(session: Session, *, customer_id: int, invoice_number: str | None) -> BillComparison:
    account = get_account(session, customer_id=customer_id)
    invoices = list(
        session.scalars(
            select(Invoice)
            .where(Invoice.account_id == account.id)
            .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
        )
    )
    if invoice_number is None:
        index = 0
    else:
        index = next((i for i, invoice in enumerate(invoices) if invoice.number == invoice_number), -1)
        if index < 0:
            raise NotFound(f"No invoice {invoice_number} on this account.")
    if index + 1 >= len(invoices):
        raise NotFound("There is no earlier invoice to compare with.")
    current, previous = invoices[index], invoices[index + 1]
    lines = load_line_items(session, invoice_ids=[current.id, previous.id])

    def grouped(items: list[LineItem]) -> dict[tuple[str, str], list[LineItem]]:
        groups: dict[tuple[str, str], list[LineItem]] = {}
        for line in items:
            groups.setdefault(_group_key(line), []).append(line)
        return groups

    now_groups, before_groups = grouped(lines[current.id]), grouped(lines[previous.id])
    credited = credits_on_lines(session, line_ids=[line.id for line in lines[current.id]])
    m = partial(format_money, currency=account.currency)
    changes = []
    for key in [*now_groups, *[k for k in before_groups if k not in now_groups]]:
        now_lines, before_lines = now_groups.get(key, []), before_groups.get(key, [])
        now_amount = sum((line.amount for line in now_lines), ZERO)
        before_amount = sum((line.amount for line in before_lines), ZERO)
        if now_amount == before_amount and len(now_lines) == len(before_lines) and now_lines and before_lines:
            continue
        kind: ChangeKind = "new" if not before_lines else "removed" if not now_lines else "changed"
        if kind == "changed" and now_amount == before_amount:
            continue
        changes.append(
            Change(
                kind=kind, description=key[1], charge_type=key[0],
                previous_amount=before_amount, current_amount=now_amount,
                explanation=" ".join([
                    _describe_change(
                        kind=kind, current=now_lines, previous=before_lines, currency=account.currency,
                        current_invoice=current, previous_invoice=previous,
                    ),
                    # A waived fee is still on the bill: say so, as the balance already subtracts the credit.
                    credits_note(
                        [credit for line in now_lines for credit in credited.get(line.id, [])],
                        amount=now_amount, m=m,
                    ),
                ]).rstrip(),
            )
        )
    changes.sort(key=lambda change: abs(change.difference), reverse=True)
    return BillComparison(current=current, previous=previous, currency=account.currency, changes=changes)


__all__ = [
    "charge_type_for",
    "compare_bills",
    "explain_line_item",
    "get_balance",
    "get_invoice",
    "search_line_items",
]
