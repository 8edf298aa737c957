"""Plain-sentence explanations of a charge, built only from the stored facts of the line and its invoice."""
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from backend.billing.models import Invoice, LineItem, PolicyRule
from backend.disputes.models import Credit
from backend.enums import ChargeType
from backend.money import format_date, format_decimal, format_money

# Formats an amount in the account's currency.
Money = Callable[[Decimal], str]


@dataclass
class Explanation:
    summary: str
    computation: str
    policy: str
    facts: dict[str, Any]


def _money(facts: dict[str, Any], key: str) -> Decimal:
    return Decimal(str(facts[key]))


def _day(facts: dict[str, Any], key: str) -> date:
    return date.fromisoformat(str(facts[key]))


def _period(line: LineItem, invoice: Invoice) -> str:
    start = line.period_start or invoice.period_start
    end = line.period_end or invoice.period_end
    return f"{format_date(start)} to {format_date(end)}"


def _percent(rate: Decimal) -> str:
    return format_decimal(rate * 100) + "%"


def _late_fee(facts: dict[str, Any], *, amount: Decimal, m: Money) -> tuple[str, str]:
    """Summary and computation of a late fee; adds days_late to facts."""
    due = _day(facts, "related_due_date")
    grace = int(facts.get("grace_days", 0))
    if facts.get("payment_date"):
        paid = _day(facts, "payment_date")
        days_late = (paid - due).days
        summary = (
            f"Late fee of {m(amount)}: invoice {facts['related_invoice_number']} was due on "
            f"{format_date(due)} and payment was received on {format_date(paid)}, {days_late} days late."
        )
    else:
        assessed = _day(facts, "assessed_on")
        days_late = (assessed - due).days
        summary = (
            f"Late fee of {m(amount)}: invoice {facts['related_invoice_number']} was due on "
            f"{format_date(due)} and no payment had been received by {format_date(assessed)}, "
            f"{days_late} days later."
        )
    computation = (
        f"{days_late} days late is more than the {grace}-day grace period, so the flat fee of "
        f"{m(_money(facts, 'fee'))} applies."
    )
    facts["days_late"] = days_late
    return summary, computation


def _proration(facts: dict[str, Any], *, amount: Decimal, m: Money) -> tuple[str, str]:
    """Summary and computation of a mid-cycle plan change; adds daily_rate to facts."""
    price = _money(facts, "monthly_price")
    days, days_in_period = int(facts["days"]), int(facts["days_in_period"])
    change = format_date(_day(facts, "change_date"))
    daily = price / days_in_period
    if amount < 0:
        summary = (
            f"Credit of {m(-amount)} for the {days} unused days of {facts['plan_name']} after you "
            f"changed plans on {change}."
        )
    else:
        summary = (
            f"Charge of {m(amount)} for {days} days of {facts['plan_name']} from {change}, the day you "
            f"changed plans, to the end of the billing period."
        )
    exact = daily == daily.quantize(Decimal("0.01"))
    daily_text = (
        m(daily)
        if exact
        else f"about {m(daily)} ({m(price)} x {days}/{days_in_period}, rounded to the cent)"
    )
    computation = (
        f"{m(price)} per month / {days_in_period} days = {daily_text} per day; "
        f"x {days} days = {m(abs(amount))}" + (" credited." if amount < 0 else " charged.")
    )
    facts["daily_rate"] = format_decimal(daily)
    return summary, computation


def credits_note(credits: Sequence[Credit], *, amount: Decimal, m: Money) -> str:
    """The credits issued on a charge (a late-fee waiver, a settled dispute), as the balance counts them:
    what was credited, when and why, and what of the charge is still owed. Empty when there is none."""
    if not credits:
        return ""
    credited = sum((credit.amount for credit in credits), Decimal("0.00"))
    issued = "; ".join(
        f"{m(credit.amount)} on {format_date(credit.created_at.date())}: {credit.reason.rstrip('.')}"
        for credit in sorted(credits, key=lambda credit: (credit.created_at, credit.id))
    )
    still_owed = max(amount - credited, Decimal("0.00"))
    net = (
        "so it no longer adds to what you owe."
        if still_owed == 0
        else f"so {m(still_owed)} of it still counts toward what you owe."
    )
    noun = "A credit" if len(credits) == 1 else f"{len(credits)} credits totalling {m(credited)}"
    return f"{noun} was issued on this charge ({issued}), {net}"


def credit_facts(credits: Sequence[Credit], *, amount: Decimal) -> dict[str, Any]:
    """The credits as facts (none: no keys, so an uncredited line's facts are as before)."""
    if not credits:
        return {}
    credited = sum((credit.amount for credit in credits), Decimal("0.00"))
    return {
        "credits": [
            {
                "id": credit.id,
                "amount": f"{credit.amount:.2f}",
                "reason": credit.reason,
                "issued_on": credit.created_at.date().isoformat(),
            }
            for credit in credits
        ],
        "credited": f"{credited:.2f}",
        "still_owed": f"{max(amount - credited, Decimal('0.00')):.2f}",
    }


def explain_line(
    *, line: LineItem, invoice: Invoice, currency: str, policy: PolicyRule | None,
    invoice_lines: list[LineItem], credits: Sequence[Credit] = (),
) -> Explanation:
    """`credits`: the credits issued on this line (waivers, disputes): the explanation states them, so its
    figures agree with the balance, which subtracts them."""
    facts = dict(line.facts or {})
    m = partial(format_money, currency=currency)
    amount = line.amount
    kind = line.charge_type
    summary: str
    computation: str

    if kind == ChargeType.late_fee and "related_invoice_number" in facts:
        summary, computation = _late_fee(facts, amount=amount, m=m)
    elif kind == ChargeType.proration and "days" in facts:
        summary, computation = _proration(facts, amount=amount, m=m)
    elif kind == ChargeType.usage and "used_gb" in facts:
        used, allowance = Decimal(str(facts["used_gb"])), Decimal(str(facts["allowance_gb"]))
        rate = Decimal(line.unit_rate or facts["rate_per_gb"])
        over = used - allowance
        summary = (
            f"Data overage of {m(amount)}: you used {format_decimal(used)} GB from {_period(line, invoice)} "
            f"and your plan includes {format_decimal(allowance)} GB."
        )
        computation = (
            f"{format_decimal(used)} GB used - {format_decimal(allowance)} GB included = "
            f"{format_decimal(over)} GB over; {format_decimal(over)} GB x {m(rate)} per GB = {m(amount)}."
        )
    elif kind == ChargeType.tax and "rate" in facts:
        rate = Decimal(str(facts["rate"]))
        applies_to = list(facts.get("applies_to", []))
        base_lines = [other for other in invoice_lines if str(other.charge_type) in applies_to]
        base = sum((other.amount for other in base_lines), Decimal("0.00"))
        summary = (
            f"{line.description} of {m(amount)}: {_percent(rate)} charged by "
            f"{facts.get('authority', 'the authority')} on the taxable charges of this invoice "
            f"({', '.join(other.description for other in base_lines)})."
        )
        computation = f"{_percent(rate)} x {m(base)} = {m(rate * base)}, rounded to {m(amount)}."
        facts["taxable_base"] = f"{base:.2f}"
    elif kind == ChargeType.tax and "per_line_fee" in facts:
        fee = _money(facts, "per_line_fee")
        summary = (
            f"{line.description} of {m(amount)}: a fixed fee set by "
            f"{facts.get('authority', 'the authority')} for each phone line, collected on every bill."
        )
        computation = f"{format_decimal(line.quantity)} line(s) x {m(fee)} = {m(amount)}."
    elif kind == ChargeType.discount and "promo_code" in facts:
        start, end = _day(facts, "start_date"), _day(facts, "end_date")
        summary = (
            f"Promotional discount {facts['promo_name']} ({facts['promo_code']}): {m(-amount)} off each "
            f"month from {format_date(start)} to {format_date(end)}; this is month {facts['month_number']} "
            f"of {facts['months_total']}."
        )
        computation = f"Fixed {m(-amount)} monthly discount, applied to the plan charge."
    elif kind == ChargeType.equipment and "installments_total" in facts:
        price = _money(facts, "device_price")
        summary = (
            f"Installment {facts['installment_number']} of {facts['installments_total']} for your "
            f"{facts['device']}, bought for {m(price)}."
        )
        computation = f"{m(price)} / {facts['installments_total']} monthly installments = {m(amount)}."
    elif kind == ChargeType.one_time:
        twins = [
            other for other in invoice_lines
            if other.id != line.id and other.charge_type == line.charge_type
            and other.description == line.description and other.amount == line.amount
            and (other.facts or {}).get("order_reference") == facts.get("order_reference")
        ]
        service_date = facts.get("service_date")
        when = f" on {format_date(date.fromisoformat(service_date))}" if service_date else ""
        order = f" (order {facts['order_reference']})" if facts.get("order_reference") else ""
        summary = f"One-time charge of {m(amount)} for {line.description}{when}{order}."
        if twins:
            summary += (
                f" This invoice has {len(twins) + 1} identical charges for the same order "
                f"(line items {', '.join(str(i) for i in sorted([line.id, *[t.id for t in twins]]))}), "
                "which looks like a duplicate."
            )
            facts["identical_line_item_ids"] = sorted(t.id for t in twins)
        computation = f"{format_decimal(line.quantity)} x {m(line.unit_rate or amount)} = {m(amount)}."
    elif kind == ChargeType.plan and "monthly_price" in facts:
        price = _money(facts, "monthly_price")
        summary = f"Monthly charge for your {facts['plan_name']} plan for {_period(line, invoice)}."
        computation = f"{format_decimal(line.quantity)} month x {m(price)} per month = {m(amount)}."
    else:
        summary = f"{line.description}: {m(amount)} for {_period(line, invoice)}."
        rate_text = f"{m(line.unit_rate)}" if line.unit_rate is not None else m(amount)
        computation = f"{format_decimal(line.quantity)} {line.unit} x {rate_text} = {m(amount)}."
        if facts.get("reason"):
            summary += f" Reason: {facts['reason']}."

    summary = f"{summary} {credits_note(credits, amount=amount, m=m)}".rstrip()
    facts.update(credit_facts(credits, amount=amount))
    policy_text = (
        f"{policy.code} ({policy.title}): {policy.description}"
        if policy
        else "Standard pricing; no special rule."
    )
    facts.update(
        invoice_number=invoice.number,
        invoice_issue_date=invoice.issue_date.isoformat(),
        amount=f"{amount:.2f}",
        currency=currency,
    )
    return Explanation(summary=summary, computation=computation, policy=policy_text, facts=facts)
