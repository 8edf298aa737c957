"""The account check's detectors: pure functions over plain data (no database, no clock).

service.py loads an account into `AccountData`; `run_detectors` returns every finding, each with its evidence
and a confidence. Findings are errors against the customer (an undercharge is not reported to the customer)
plus bill shock, a warning. docs/contracts.md, "Account check", states the rules.
"""

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from backend.money import format_date, format_decimal, format_money

ZERO = Decimal("0.00")
CENT = Decimal("0.01")

DUPLICATE_CHARGE = "duplicate_charge"
LATE_FEE_PAID_ON_TIME = "late_fee_paid_on_time"
PROMOTION_MISSING = "promotion_missing"
TAX_WRONG_BASE = "tax_wrong_base"
USAGE_MISMATCH = "usage_mismatch"
BILL_SHOCK = "bill_shock"
KINDS = (
    DUPLICATE_CHARGE,
    LATE_FEE_PAID_ON_TIME,
    PROMOTION_MISSING,
    TAX_WRONG_BASE,
    USAGE_MISMATCH,
    BILL_SHOCK,
)
# Payments that count as made (a pending one was made; it only has not posted yet).
MADE_STATUSES = frozenset({"posted", "pending"})


@dataclass(frozen=True)
class Line:
    id: int
    charge_type: str
    description: str
    amount: Decimal
    quantity: Decimal
    unit_rate: Decimal | None
    policy_rule: str | None
    facts: Mapping[str, Any]
    credited: Decimal = ZERO  # credits already issued on this line
    open_dispute_id: int | None = None
    dispute_accepted: bool = False

    @property
    def settled(self) -> bool:
        """Already credited in full or accepted in a dispute: nothing left to find."""
        return self.dispute_accepted or self.credited >= self.amount


@dataclass(frozen=True)
class Bill:
    id: int
    number: str
    period_start: date
    period_end: date
    issue_date: date
    due_date: date
    total: Decimal
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class PaymentFact:
    id: int
    invoice_id: int | None
    amount: Decimal
    received_date: date
    status: str
    source: str
    method: str


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    text: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True)
class AccountData:
    customer_id: int
    currency: str
    today: date
    bills: tuple[Bill, ...]  # oldest first
    payments: tuple[PaymentFact, ...]
    rules: Mapping[str, Rule]
    lookback_days: int = 365
    bill_shock_percent: Decimal = Decimal(50)

    def money(self, amount: Decimal) -> str:
        return format_money(amount, self.currency)


@dataclass(frozen=True)
class Finding:
    id: str
    kind: str
    summary: str
    confidence: float
    amount: Decimal
    invoice_number: str
    line_item_id: int | None
    evidence_lines: tuple[tuple[Line, str], ...]  # (line, invoice number)
    dates: Mapping[str, date] = field(default_factory=dict)
    amounts: Mapping[str, Decimal] = field(default_factory=dict)
    rule: Rule | None = None
    explanation: str = ""
    open_dispute_id: int | None = None


def finding_id(*, customer_id: int, kind: str, line_ids: tuple[int, ...]) -> str:
    """Stable: the same evidence always names the same finding (two tabs fix one finding once)."""
    digest = hashlib.sha256(f"{customer_id}|{kind}|{','.join(map(str, line_ids))}".encode()).hexdigest()
    return "fnd_" + digest[:24]


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, float | bool):
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _roundings(value: Decimal) -> set[Decimal]:
    """Both roundings in use (half-up in the bulk generator, half-even in older rows)."""
    return {value.quantize(CENT, rounding=ROUND_HALF_UP), value.quantize(CENT, rounding=ROUND_HALF_EVEN)}


def _recent(data: AccountData, bill: Bill) -> bool:
    return (data.today - bill.issue_date).days <= data.lookback_days


def _make(
    data: AccountData,
    *,
    kind: str,
    lines: tuple[tuple[Line, Bill], ...],
    target: Line | None = None,
    id_line_ids: tuple[int, ...] | None = None,
    **fields: Any,
) -> Finding:
    ids = id_line_ids if id_line_ids is not None else tuple(line.id for line, _ in lines)
    return Finding(
        id=finding_id(customer_id=data.customer_id, kind=kind, line_ids=ids),
        kind=kind,
        line_item_id=target.id if target else None,
        evidence_lines=tuple((line, bill.number) for line, bill in lines),
        open_dispute_id=target.open_dispute_id if target else None,
        **fields,
    )


# Duplicates -----------------------------------------------------------------------------------------------


def _duplicate_confidence(first: Line, second: Line, *, same_invoice: bool) -> float | None:
    """How sure two one-time lines are one charge billed twice; None: not a duplicate."""
    if first.amount != second.amount or first.amount <= ZERO:
        return None
    order_a, order_b = first.facts.get("order_reference"), second.facts.get("order_reference")
    date_a, date_b = first.facts.get("service_date"), second.facts.get("service_date")
    if order_a and order_b and order_a != order_b:
        return None
    if date_a and date_b and date_a != date_b:
        return None
    same_description = first.description.strip().casefold() == second.description.strip().casefold()
    if order_a and order_a == order_b:
        return 0.99 if same_description or date_a == date_b else 0.9
    if not same_description:
        return None
    if date_a and date_a == date_b:
        return 0.95
    # Same description and amount, nothing more: a repeat order is possible.
    return 0.75 if same_invoice else 0.6


def _one_time(bill: Bill) -> list[Line]:
    return [line for line in bill.lines if line.charge_type == "one_time" and line.amount > ZERO]


def detect_duplicates(data: AccountData) -> Iterator[Finding]:
    m = data.money
    rule = data.rules.get("ONE-TIME-ORDER")
    seen_extra: set[int] = set()
    for index, bill in enumerate(data.bills):
        if not _recent(data, bill):
            continue
        earlier = data.bills[index - 1] if index > 0 else None
        candidates = [(line, earlier) for line in _one_time(earlier)] if earlier else []
        candidates += [(line, bill) for line in _one_time(bill)]
        for extra in _one_time(bill):
            for original, original_bill in candidates:
                if original.id == extra.id:
                    break  # only lines before this one count as the original
                confidence = _duplicate_confidence(original, extra, same_invoice=original_bill is bill)
                if confidence is None or extra.id in seen_extra:
                    continue
                seen_extra.add(extra.id)
                if original.settled or extra.settled:
                    break
                where = (
                    f"twice on invoice {bill.number}"
                    if original_bill is bill
                    else f"on invoice {original_bill.number} and again on {bill.number}"
                )
                order = (
                    f", order {extra.facts['order_reference']}" if extra.facts.get("order_reference") else ""
                )
                service = _day(extra.facts.get("service_date"))
                when = f", service date {format_date(service)}" if service else ""
                yield _make(
                    data,
                    kind=DUPLICATE_CHARGE,
                    target=extra,
                    lines=((original, original_bill), (extra, bill)),
                    summary=(
                        f"Your {extra.description} of {m(extra.amount)} was billed {where}; "
                        f"it should be charged once."
                    ),
                    confidence=confidence,
                    amount=extra.amount - extra.credited,
                    invoice_number=bill.number,
                    dates={"service_date": service} if service else {},
                    amounts={"charge": extra.amount},
                    rule=rule,
                    explanation=(
                        f"Line items {original.id} and {extra.id} are the same one-time charge "
                        f"({extra.description}, {m(extra.amount)}{order}{when}); policy "
                        f"{rule.code if rule else 'ONE-TIME-ORDER'} charges a one-time service once."
                    ),
                )
                break


# Late fee although paid on time ---------------------------------------------------------------------------


def _paid_within(
    data: AccountData, related: Bill, *, deadline: date
) -> tuple[Decimal, list[PaymentFact], bool]:
    """Payments made toward `related` by the deadline; whether unlinked payments were needed to cover it."""
    linked = [
        p
        for p in data.payments
        if p.invoice_id == related.id and p.status in MADE_STATUSES and p.received_date <= deadline
    ]
    paid = sum((p.amount for p in linked), ZERO)
    if paid >= related.total:
        return paid, linked, False
    unlinked = [
        p
        for p in data.payments
        if p.invoice_id is None
        and p.status in MADE_STATUSES
        and related.issue_date <= p.received_date <= deadline
    ]
    return paid + sum((p.amount for p in unlinked), ZERO), linked + unlinked, bool(unlinked)


def detect_late_fee_paid_on_time(data: AccountData) -> Iterator[Finding]:
    m = data.money
    rule = data.rules.get("LATE-FEE-1")
    by_number = {bill.number: bill for bill in data.bills}
    for bill in data.bills:
        if not _recent(data, bill):
            continue
        for line in bill.lines:
            if line.charge_type != "late_fee" or line.amount <= ZERO or line.settled:
                continue
            related = by_number.get(str(line.facts.get("related_invoice_number", "")))
            if related is None:
                continue
            grace_value = (rule.parameters.get("grace_days") if rule else None) or line.facts.get(
                "grace_days"
            )
            grace = int(grace_value or 0)
            deadline = related.due_date + timedelta(days=grace)
            paid, payments, needed_unlinked = _paid_within(data, related, deadline=deadline)
            if paid < related.total or not payments:
                continue
            last = max(payments, key=lambda p: p.received_date)
            autopay = any(p.source == "autopay" or p.method.startswith("autopay") for p in payments)
            how = "by autopay" if autopay else ("pending, made" if last.status == "pending" else "received")
            yield _make(
                data,
                kind=LATE_FEE_PAID_ON_TIME,
                target=line,
                lines=((line, bill),),
                summary=(
                    f"Your {bill.number} bill has a {m(line.amount)} late fee, but invoice {related.number} "
                    f"was paid on {format_date(last.received_date)} ({how}), within the grace period."
                ),
                confidence=0.85 if needed_unlinked else 0.98,
                amount=line.amount - line.credited,
                invoice_number=bill.number,
                dates={
                    "related_due_date": related.due_date,
                    "grace_deadline": deadline,
                    "payment_date": last.received_date,
                },
                amounts={"late_fee": line.amount, "related_total": related.total, "paid_by_deadline": paid},
                rule=rule,
                explanation=(
                    f"Invoice {related.number} ({m(related.total)}) was due on "
                    f"{format_date(related.due_date)}; "
                    f"{m(paid)} was paid by {format_date(deadline)} ({grace} grace days), so no late fee "
                    "applies."
                ),
            )


# Promotions -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PromotionTerms:
    code: str
    name: str
    monthly_amount: Decimal  # positive: the amount off each month
    start: date
    end: date
    seen_on: tuple[Line, Bill]


def promotion_terms(data: AccountData) -> dict[str, PromotionTerms]:
    """The promotions' terms as stated on their discount lines' facts (the data has no promotions table)."""
    terms: dict[str, PromotionTerms] = {}
    for bill in data.bills:
        for line in bill.lines:
            code = line.facts.get("promo_code")
            start, end = _day(line.facts.get("start_date")), _day(line.facts.get("end_date"))
            if line.charge_type != "discount" or not code or start is None or end is None:
                continue
            known = terms.get(str(code))
            # The stated monthly amount is the largest one given: a line cut short is the error, not the term.
            if known is None or -line.amount > known.monthly_amount:
                name = str(line.facts.get("promo_name") or line.description)
                terms[str(code)] = PromotionTerms(str(code), name, -line.amount, start, end, (line, bill))
    return terms


def detect_promotion_missing(data: AccountData) -> Iterator[Finding]:
    m = data.money
    rule = data.rules.get("PROMO-DISCOUNT")
    for promo in promotion_terms(data).values():
        for bill in data.bills:
            if not (promo.start <= bill.period_start <= promo.end) or not _recent(data, bill):
                continue
            given = -sum(
                (line.amount for line in bill.lines if line.facts.get("promo_code") == promo.code), ZERO
            )
            if given >= promo.monthly_amount:
                continue
            missing = promo.monthly_amount - given
            earlier_line, earlier_bill = promo.seen_on
            what = "is missing" if given == ZERO else f"is {m(given)} instead of {m(promo.monthly_amount)}"
            yield _make(
                data,
                kind=PROMOTION_MISSING,
                lines=((earlier_line, earlier_bill),),
                summary=(
                    f"Your {promo.name} ({m(promo.monthly_amount)} off each month until "
                    f"{format_date(promo.end)}) {what} on invoice {bill.number}."
                ),
                confidence=0.9,
                amount=missing,
                invoice_number=bill.number,
                dates={
                    "promotion_start": promo.start,
                    "promotion_end": promo.end,
                    "period_start": bill.period_start,
                },
                amounts={"monthly_discount": promo.monthly_amount, "discount_given": given},
                rule=rule,
                explanation=(
                    f"Promotion {promo.code} runs from {format_date(promo.start)} to "
                    f"{format_date(promo.end)} "
                    f"(terms on line item {earlier_line.id}, invoice {earlier_bill.number}); invoice "
                    f"{bill.number}'s period starts on {format_date(bill.period_start)}, inside it."
                ),
                # One finding per invoice: the promotion's line plus this invoice's first line name it.
                id_line_ids=(earlier_line.id, bill.lines[0].id if bill.lines else -bill.id),
            )


# Taxes ----------------------------------------------------------------------------------------------------


def detect_tax_wrong_base(data: AccountData) -> Iterator[Finding]:
    m = data.money
    for bill in data.bills:
        if not _recent(data, bill):
            continue
        for tax in bill.lines:
            if tax.charge_type != "tax" or tax.settled:
                continue
            rule = data.rules.get(tax.policy_rule or "")
            parameters: Mapping[str, Any] = rule.parameters if rule else {}
            rate = _decimal(parameters.get("rate", tax.facts.get("rate")))
            applies_to = list(parameters.get("applies_to") or tax.facts.get("applies_to") or [])
            if rate is None or not applies_to:
                continue
            base_lines = [line for line in bill.lines if line.charge_type in applies_to]
            base = sum((line.amount for line in base_lines), ZERO)
            if tax.amount in _roundings(rate * base) or tax.amount <= (rate * base).quantize(CENT):
                continue
            correct = (rate * base).quantize(CENT, rounding=ROUND_HALF_UP)
            others = [
                line
                for line in bill.lines
                if line.charge_type not in applies_to and line is not tax and line.charge_type != "tax"
            ]
            wrongly = [line for line in others if tax.amount in _roundings(rate * (base + line.amount))]
            if not wrongly and tax.amount in _roundings(
                rate * (base + sum((o.amount for o in others), ZERO))
            ):
                wrongly = others
            taxed_base = base + sum((line.amount for line in wrongly), ZERO)
            extra = (
                f" It was charged on {m(taxed_base)}, which includes "
                + ", ".join(f"{line.description} ({m(line.amount)})" for line in wrongly)
                + "."
                if wrongly
                else ""
            )
            yield _make(
                data,
                kind=TAX_WRONG_BASE,
                target=tax,
                lines=((tax, bill), *((line, bill) for line in wrongly)),
                summary=(
                    f"The {tax.description} on invoice {bill.number} is {m(tax.amount)}; on the charges it "
                    f"applies to it should be {m(correct)}."
                ),
                confidence=0.95 if wrongly else 0.85,
                amount=tax.amount - correct,
                invoice_number=bill.number,
                amounts={"tax_charged": tax.amount, "correct_tax": correct, "correct_base": base},
                rule=rule,
                explanation=(
                    f"{format_decimal(rate * 100)}% applies to {', '.join(applies_to)} charges: "
                    f"{format_decimal(rate * 100)}% x {m(base)} = {m(correct)}.{extra}"
                ),
            )


# Usage ----------------------------------------------------------------------------------------------------


def detect_usage_mismatch(data: AccountData) -> Iterator[Finding]:
    m = data.money
    for bill in data.bills:
        if not _recent(data, bill):
            continue
        for line in bill.lines:
            if line.charge_type != "usage" or line.settled:
                continue
            used, allowance = _decimal(line.facts.get("used_gb")), _decimal(line.facts.get("allowance_gb"))
            rate = _decimal(line.facts.get("rate_per_gb")) or line.unit_rate
            if used is None or allowance is None or rate is None:
                continue
            over = max(used - allowance, Decimal(0))
            expected_raw = over * rate
            if line.amount in _roundings(expected_raw) or line.amount <= expected_raw.quantize(CENT):
                continue
            expected = expected_raw.quantize(CENT, rounding=ROUND_HALF_UP)
            yield _make(
                data,
                kind=USAGE_MISMATCH,
                target=line,
                lines=((line, bill),),
                summary=(
                    f"The {line.description} on invoice {bill.number} is {m(line.amount)}, but "
                    f"{format_decimal(over)} GB over the allowance at {m(rate)} per GB is {m(expected)}."
                ),
                confidence=0.95,
                amount=line.amount - expected,
                invoice_number=bill.number,
                amounts={"charged": line.amount, "expected": expected, "rate_per_gb": rate},
                rule=data.rules.get(line.policy_rule or ""),
                explanation=(
                    f"{format_decimal(used)} GB used - {format_decimal(allowance)} GB included = "
                    f"{format_decimal(over)} GB; x {m(rate)} = {m(expected)}, not {m(line.amount)} "
                    f"(billed quantity {format_decimal(line.quantity)})."
                ),
            )


# Bill shock -----------------------------------------------------------------------------------------------


def detect_bill_shock(data: AccountData) -> Iterator[Finding]:
    m = data.money
    if len(data.bills) < 4:
        return
    latest, previous = data.bills[-1], data.bills[-4:-1]
    if not _recent(data, latest):
        return
    previous_sum = sum((bill.total for bill in previous), ZERO)
    # Exact: latest > average x (1 + X/100), without dividing by 3.
    if previous_sum <= ZERO or latest.total * 3 * 100 <= previous_sum * (100 + data.bill_shock_percent):
        return
    average = previous_sum / 3
    percent = ((latest.total - average) / average * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    yield Finding(
        id=finding_id(customer_id=data.customer_id, kind=BILL_SHOCK, line_ids=(latest.id,)),
        kind=BILL_SHOCK,
        summary=(
            f"Your latest bill, {latest.number}, is {m(latest.total)}: {percent}% above the average of the "
            f"three before it ({m(average.quantize(CENT))})."
        ),
        confidence=1.0,
        amount=ZERO,
        invoice_number=latest.number,
        line_item_id=None,
        evidence_lines=tuple((line, latest.number) for line in latest.lines),
        dates={"issue_date": latest.issue_date},
        amounts={
            "latest_total": latest.total,
            "average_previous_three": average.quantize(CENT),
            **{f"total_{bill.number}": bill.total for bill in previous},
        },
        explanation="",  # the service adds the bill comparison
    )


DETECTORS: tuple[Callable[[AccountData], Iterator[Finding]], ...] = (
    detect_duplicates,
    detect_late_fee_paid_on_time,
    detect_promotion_missing,
    detect_tax_wrong_base,
    detect_usage_mismatch,
    detect_bill_shock,
)


def run_detectors(data: AccountData) -> list[Finding]:
    return [finding for detector in DETECTORS for finding in detector(data)]


__all__ = ["KINDS", "AccountData", "Bill", "Finding", "Line", "PaymentFact", "Rule", "run_detectors"]
