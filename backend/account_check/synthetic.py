"""Generated accounts with and without planted billing errors, for the property tests and the accuracy bench.

`generate_account(rng, plant=...)` builds plain `AccountData` (no database) that is correct by construction,
with hard cases a careless check would flag (the same one-time service ordered again on another date, a late
fee that is owed, a promotion that ended on time, half-even tax rounding), then plants the requested errors
and returns the truth: one `(kind, key)` per planted error, where key is the line a fix would credit
(duplicate, late fee, tax, usage) or the invoice number (promotion, bill shock). Bill shock's truth is
computed here from the final totals with its own arithmetic, not by the detector.
"""

import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

from backend.account_check import detectors as d

CENT = Decimal("0.01")
TAX_RATE = Decimal("0.0625")
LATE_FEE = Decimal("25.00")
GRACE_DAYS = 5
PLANTABLE = (
    d.DUPLICATE_CHARGE,
    d.LATE_FEE_PAID_ON_TIME,
    d.PROMOTION_MISSING,
    d.TAX_WRONG_BASE,
    d.USAGE_MISMATCH,
)
ONE_TIME = [
    ("Installation fee", "49.00"),
    ("Technician visit", "89.00"),
    ("Activation fee", "35.00"),
    ("Router setup", "20.00"),
    ("Cable run", "65.00"),
]
RULES = {
    "LATE-FEE-1": d.Rule(
        "LATE-FEE-1", "Late payment fee", "late fee rule", {"fee": str(LATE_FEE), "grace_days": GRACE_DAYS}
    ),
    "TAX-STATE-SALES": d.Rule(
        "TAX-STATE-SALES",
        "State sales tax",
        "sales tax rule",
        {"rate": str(TAX_RATE), "applies_to": ["plan", "equipment"]},
    ),
    "ONE-TIME-ORDER": d.Rule("ONE-TIME-ORDER", "One-time service charge", "charged once", {}),
    "PROMO-DISCOUNT": d.Rule("PROMO-DISCOUNT", "Promotional discount", "promotion rule", {}),
    "USAGE-OVERAGE": d.Rule("USAGE-OVERAGE", "Data overage", "overage rule", {}),
}
Truth = set[tuple[str, Any]]


@dataclass
class _Invoice:
    id: int
    number: str
    period_start: date
    period_end: date
    issue_date: date
    due_date: date
    lines: list[d.Line] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))


class _Ids:
    def __init__(self, start: int) -> None:
        self.next = start

    def take(self) -> int:
        self.next += 1
        return self.next


def _round(value: Decimal, rng: random.Random) -> Decimal:
    return value.quantize(CENT, rounding=rng.choice((ROUND_HALF_UP, ROUND_HALF_EVEN)))


def _line(ids: _Ids, charge_type: str, description: str, amount: Decimal, **facts: Any) -> d.Line:
    quantity = Decimal(str(facts.pop("quantity", 1)))
    return d.Line(
        id=ids.take(),
        charge_type=charge_type,
        description=description,
        amount=amount,
        quantity=quantity,
        unit_rate=None,
        policy_rule=facts.pop("rule", None),
        facts=facts,
    )


def _tax(ids: _Ids, lines: list[d.Line], rng: random.Random, *, extra: Decimal = Decimal(0)) -> d.Line:
    base = (
        sum((line.amount for line in lines if line.charge_type in ("plan", "equipment")), Decimal(0)) + extra
    )
    return _line(
        ids,
        "tax",
        "State sales tax",
        _round(base * TAX_RATE, rng),
        rule="TAX-STATE-SALES",
        rate=str(TAX_RATE),
        applies_to=["plan", "equipment"],
    )


@dataclass
class _Account:
    customer_id: int
    invoices: list[_Invoice]
    payments: list[d.PaymentFact]
    ids: _Ids
    rng: random.Random
    allowance: Decimal | None
    promo: tuple[str, Decimal, date, date] | None = None

    def data(self, today: date) -> d.AccountData:
        bills = tuple(
            d.Bill(
                id=i.id,
                number=i.number,
                period_start=i.period_start,
                period_end=i.period_end,
                issue_date=i.issue_date,
                due_date=i.due_date,
                total=i.total,
                lines=tuple(i.lines),
            )
            for i in self.invoices
        )
        return d.AccountData(
            customer_id=self.customer_id,
            currency="USD",
            today=today,
            bills=bills,
            payments=tuple(self.payments),
            rules=RULES,
        )


def _build_clean(rng: random.Random, customer_id: int) -> _Account:
    ids = _Ids(customer_id * 10_000)
    count = rng.randint(4, 8)
    price = Decimal(rng.choice(("45.00", "60.00", "75.00", "90.00")))
    allowance = rng.choice((Decimal(10), Decimal(20), Decimal(50), None))
    taxed = rng.random() < 0.7
    equipment = Decimal(rng.choice(("0", "0", "20.00", "12.50")))
    first = date(2026, 1, 5) + timedelta(days=rng.randrange(0, 200))
    autopay = rng.random() < 0.4
    account = _Account(customer_id, [], [], ids, rng, allowance)
    if rng.random() < 0.35:  # a promotion over a stretch of the history, ending on time (or later)
        start_index = rng.randrange(0, count - 1)
        months = rng.randint(2, 12)
        start = first + timedelta(days=30 * start_index)
        account.promo = (
            f"PROMO-{rng.randrange(100)}",
            Decimal(rng.choice(("10.00", "15.00", "20.00"))),
            start,
            start + timedelta(days=30 * months - 1),
        )
    late_previous: _Invoice | None = None
    for index in range(count):
        start = first + timedelta(days=30 * index)
        invoice = _Invoice(
            ids.take(),
            f"INV-2026-{customer_id % 100_000:05d}{index}",
            start,
            start + timedelta(days=29),
            start + timedelta(days=30),
            start + timedelta(days=51),
        )
        lines = [_line(ids, "plan", "Plan", price, rule="PLAN-MONTHLY")]
        if equipment:
            lines.append(_line(ids, "equipment", "Router installment", equipment))
        if allowance is not None and rng.random() < 0.3:
            over = Decimal(rng.randrange(1, 60)) / 10
            rate = Decimal("10.00")
            lines.append(
                _line(
                    ids,
                    "usage",
                    "Data overage",
                    _round(over * rate, rng),
                    rule="USAGE-OVERAGE",
                    quantity=over,
                    used_gb=str(allowance + over),
                    allowance_gb=str(allowance),
                    rate_per_gb=str(rate),
                )
            )
        if rng.random() < 0.15:  # a one-time service; sometimes the same service again, on another date
            description, amount = rng.choice(ONE_TIME)
            lines.append(
                _line(
                    ids,
                    "one_time",
                    description,
                    Decimal(amount),
                    rule="ONE-TIME-ORDER",
                    order_reference=f"ORD-{ids.take()}",
                    service_date=(start + timedelta(days=rng.randrange(30))).isoformat(),
                )
            )
        if account.promo and account.promo[2] <= start <= account.promo[3]:
            code, off, promo_start, promo_end = account.promo
            lines.append(
                _line(
                    ids,
                    "discount",
                    "Promotion",
                    -off,
                    rule="PROMO-DISCOUNT",
                    promo_code=code,
                    promo_name="Offer",
                    start_date=promo_start.isoformat(),
                    end_date=promo_end.isoformat(),
                )
            )
        if late_previous is not None:  # owed: the previous invoice was paid after the grace days
            lines.append(_late_fee(ids, late_previous, paid=True))
        if taxed:
            lines.append(_tax(ids, lines, rng))
        invoice.lines = lines
        account.invoices.append(invoice)
        late_previous = None
        if index == count - 1 and rng.random() < 0.7:
            continue  # the latest invoice is often unpaid yet
        if rng.random() < 0.1:
            received = invoice.due_date + timedelta(days=rng.randrange(GRACE_DAYS + 1, 20))
            late_previous = invoice
        else:
            received = invoice.due_date - timedelta(days=0 if autopay else rng.randrange(0, 10))
        account.payments.append(
            d.PaymentFact(
                ids.take(),
                invoice.id,
                invoice.total,
                received,
                "posted",
                "autopay" if autopay else "external",
                "autopay: Visa" if autopay else "online: Visa",
            )
        )
    return account


def _late_fee(ids: _Ids, related: _Invoice, *, paid: bool) -> d.Line:
    return _line(
        ids,
        "late_fee",
        "Late payment fee",
        LATE_FEE,
        rule="LATE-FEE-1",
        related_invoice_number=related.number,
        related_due_date=related.due_date.isoformat(),
        grace_days=GRACE_DAYS,
    )


def _payment_of(account: _Account, invoice: _Invoice) -> d.PaymentFact | None:
    return next((p for p in account.payments if p.invoice_id == invoice.id), None)


def _refresh_payment(account: _Account, invoice: _Invoice) -> None:
    """A payment of the whole invoice stays whole when a planted line changes the total."""
    payment = _payment_of(account, invoice)
    if payment is not None:
        account.payments[account.payments.index(payment)] = replace(payment, amount=invoice.total)


def _add_one_time(account: _Account, invoice: _Invoice) -> d.Line:
    """A correct one-time service on `invoice` (for a planter that needs one)."""
    description, amount = account.rng.choice(ONE_TIME)
    line = _line(
        account.ids,
        "one_time",
        description,
        Decimal(amount),
        rule="ONE-TIME-ORDER",
        order_reference=f"ORD-{account.ids.take()}",
        service_date=invoice.period_start.isoformat(),
    )
    invoice.lines.insert(1, line)
    return line


def _plant_duplicate(account: _Account, truth: Truth) -> bool:
    rng = account.rng
    index = rng.randrange(len(account.invoices))
    invoice = account.invoices[index]
    originals = [line for line in invoice.lines if line.charge_type == "one_time"]
    if originals:
        original = rng.choice(originals)
    else:
        original = _add_one_time(account, invoice)
    target = (
        invoice if index + 1 == len(account.invoices) or rng.random() < 0.5 else account.invoices[index + 1]
    )
    copy = replace(original, id=account.ids.take())
    if rng.random() < 0.3:  # billed again without the order reference: description and service date match
        copy = replace(copy, facts={k: v for k, v in original.facts.items() if k != "order_reference"})
    target.lines.append(copy)
    truth.add((d.DUPLICATE_CHARGE, copy.id))
    for changed in {id(invoice): invoice, id(target): target}.values():
        _refresh_payment(account, changed)
    return True


def _plant_late_fee(account: _Account, truth: Truth) -> bool:
    rng = account.rng
    candidates = [
        k
        for k in range(1, len(account.invoices))
        if not any(line.charge_type == "late_fee" for line in account.invoices[k].lines)
        and (payment := _payment_of(account, account.invoices[k - 1])) is not None
        and payment.received_date <= account.invoices[k - 1].due_date + timedelta(days=GRACE_DAYS)
    ]
    if not candidates:
        return False
    k = rng.choice(candidates)
    related, invoice = account.invoices[k - 1], account.invoices[k]
    payment = _payment_of(account, related)
    assert payment is not None
    if rng.random() < 0.3:  # paid within the grace days, or still pending
        paid_on = related.due_date + timedelta(days=rng.randrange(0, GRACE_DAYS + 1))
        status = rng.choice(("posted", "pending"))
        account.payments[account.payments.index(payment)] = replace(
            payment, received_date=paid_on, status=status
        )
    fee = _late_fee(account.ids, related, paid=False)
    invoice.lines.append(fee)
    _refresh_payment(account, invoice)
    truth.add((d.LATE_FEE_PAID_ON_TIME, fee.id))
    return True


def _plant_promotion(account: _Account, truth: Truth) -> bool:
    with_promo = [
        invoice
        for invoice in account.invoices
        if any(line.charge_type == "discount" for line in invoice.lines)
    ]
    if len(with_promo) < 2:
        return False
    invoice = account.rng.choice(with_promo)
    position = next(i for i, line in enumerate(invoice.lines) if line.charge_type == "discount")
    line = invoice.lines[position]
    if account.rng.random() < 0.5:
        del invoice.lines[position]
    else:
        invoice.lines[position] = replace(line, amount=(line.amount / 2).quantize(CENT))
    _refresh_payment(account, invoice)
    truth.add((d.PROMOTION_MISSING, invoice.number))
    return True


def _plant_tax(account: _Account, truth: Truth) -> bool:
    rng = account.rng
    taxed = [
        invoice for invoice in account.invoices if any(line.charge_type == "tax" for line in invoice.lines)
    ]
    if not taxed:
        return False
    invoice = rng.choice(taxed)
    untaxable = [
        line
        for line in invoice.lines
        if line.charge_type in ("one_time", "late_fee", "usage") and line.amount >= Decimal("1.00")
    ]
    if not untaxable:
        extra_line = _add_one_time(account, invoice)
        untaxable = [extra_line]
    wrongly = rng.choice(untaxable)
    position = next(i for i, line in enumerate(invoice.lines) if line.charge_type == "tax")
    others = [line for line in invoice.lines if line.charge_type != "tax"]
    wrong = _tax(account.ids, others, rng, extra=wrongly.amount)
    invoice.lines[position] = replace(invoice.lines[position], amount=wrong.amount)
    _refresh_payment(account, invoice)
    truth.add((d.TAX_WRONG_BASE, invoice.lines[position].id))
    return True


def _plant_usage(account: _Account, truth: Truth) -> bool:
    rng = account.rng
    usage = [
        (invoice, i)
        for invoice in account.invoices
        for i, line in enumerate(invoice.lines)
        if line.charge_type == "usage"
    ]
    if not usage:
        if account.allowance is None:
            return False
        invoice = rng.choice(account.invoices)
        over = Decimal(rng.randrange(1, 60)) / 10
        invoice.lines.insert(
            1,
            _line(
                account.ids,
                "usage",
                "Data overage",
                over * 10,
                rule="USAGE-OVERAGE",
                quantity=over,
                used_gb=str(account.allowance + over),
                allowance_gb=str(account.allowance),
                rate_per_gb="10.00",
            ),
        )
        usage = [(invoice, 1)]
    invoice, position = rng.choice(usage)
    line = invoice.lines[position]
    billed = line.quantity + Decimal(rng.randrange(1, 40)) / 10  # more GB billed than used over the allowance
    invoice.lines[position] = replace(line, quantity=billed, amount=(billed * 10).quantize(CENT))
    _refresh_payment(account, invoice)
    truth.add((d.USAGE_MISMATCH, line.id))
    return True


PLANTERS = {
    d.DUPLICATE_CHARGE: _plant_duplicate,
    d.LATE_FEE_PAID_ON_TIME: _plant_late_fee,
    d.PROMOTION_MISSING: _plant_promotion,
    d.TAX_WRONG_BASE: _plant_tax,
    d.USAGE_MISMATCH: _plant_usage,
}


def bill_shock_truth(bills: tuple[d.Bill, ...], *, percent: Decimal = Decimal(50)) -> Truth:
    """More than `percent`% above the mean of the three before: (3 x latest - sum) / sum > percent / 100."""
    if len(bills) < 4:
        return set()
    before = sum((bill.total for bill in bills[-4:-1]), Decimal(0))
    shocked = before > 0 and (3 * bills[-1].total - before) * 100 > before * percent
    return {(d.BILL_SHOCK, bills[-1].number)} if shocked else set()


def generate_account(
    rng: random.Random, *, customer_id: int, plant: frozenset[str]
) -> tuple[d.AccountData, Truth]:
    """A correct account with the kinds in `plant` planted (a kind that does not fit this account, e.g. a
    promotion on an account without one, is skipped: the truth lists only what was planted)."""
    account = _build_clean(rng, customer_id)
    truth: Truth = set()
    for kind in sorted(plant):
        PLANTERS[kind](account, truth)
    today = account.invoices[-1].issue_date + timedelta(days=10)
    data = account.data(today)
    return data, truth | bill_shock_truth(data.bills)


def finding_key(finding: d.Finding) -> tuple[str, Any]:
    if finding.kind in (d.PROMOTION_MISSING, d.BILL_SHOCK):
        return finding.kind, finding.invoice_number
    return finding.kind, finding.line_item_id
