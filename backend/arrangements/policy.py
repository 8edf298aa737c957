"""The payment-arrangement policy, in one place: what a customer may get, and why not.

Pure functions over facts gathered by arrangements/service.py; every number comes from Settings
(ARRANGEMENT_*), never from here. docs/contracts.md, "Arrangement policy", states the same rules.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from backend.config import Settings
from backend.money import format_date, format_money

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Reason:
    code: str
    message: str


@dataclass(frozen=True)
class PolicyNumbers:
    promise_max_days_after_due: int
    instalment_min_past_due: Decimal
    instalment_min_count: int
    instalment_max_count: int
    instalment_interval_days: int
    broken_plan_lookback_days: int
    waiver_lookback_days: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "PolicyNumbers":
        return cls(
            promise_max_days_after_due=settings.promise_max_days_after_due,
            instalment_min_past_due=settings.instalment_min_past_due,
            instalment_min_count=settings.instalment_min_count,
            instalment_max_count=settings.instalment_max_count,
            instalment_interval_days=settings.instalment_interval_days,
            broken_plan_lookback_days=settings.broken_plan_lookback_days,
            waiver_lookback_days=settings.late_fee_waiver_lookback_days,
        )


@dataclass(frozen=True)
class LateFee:
    line_item_id: int
    invoice_number: str
    issued_on: date  # the invoice's issue date
    amount: Decimal
    credited: Decimal


@dataclass(frozen=True)
class AccountFacts:
    today: date
    currency: str
    total_due: Decimal
    past_due: Decimal
    oldest_unpaid_due_date: date | None
    oldest_unpaid_amount: Decimal
    latest_past_due_date: date | None  # the latest due date among past-due invoices
    active_kinds: frozenset[str]  # kinds of the arrangements now active
    last_broken_plan_on: date | None
    last_waiver_on: date | None
    late_fees: tuple[LateFee, ...] = field(default_factory=tuple)

    def money(self, amount: Decimal) -> str:
        return format_money(amount, self.currency)


@dataclass(frozen=True)
class PromiseTerms:
    reasons: list[Reason]
    earliest: date | None = None
    latest: date | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    covers_due_through: date | None = None

    @property
    def eligible(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class Instalment:
    number: int
    due_date: date
    amount: Decimal


@dataclass(frozen=True)
class PlanTerms:
    reasons: list[Reason]
    amount: Decimal | None = None
    choices: dict[int, list[Instalment]] = field(default_factory=dict)
    covers_due_through: date | None = None

    @property
    def eligible(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class WaiverTerms:
    reasons: list[Reason]
    fee: LateFee | None = None

    @property
    def eligible(self) -> bool:
        return not self.reasons


def _active_reasons(facts: AccountFacts) -> list[Reason]:
    if facts.active_kinds & {"promise_to_pay", "instalment_plan"}:
        kind = "an instalment plan" if "instalment_plan" in facts.active_kinds else "a promise to pay"
        return [Reason("active_arrangement", f"The account already has {kind} in progress.")]
    return []


def promise_terms(facts: AccountFacts, numbers: PolicyNumbers) -> PromiseTerms:
    """A date from today to N days after the oldest unpaid due date; at least the past due (or, with nothing
    past due, that invoice's amount due), at most the balance."""
    if facts.total_due <= ZERO or facts.oldest_unpaid_due_date is None:
        return PromiseTerms([Reason("nothing_due", "Nothing is owed on this account right now.")])
    reasons = _active_reasons(facts)
    latest = facts.oldest_unpaid_due_date + timedelta(days=numbers.promise_max_days_after_due)
    if latest < facts.today:
        reasons.append(
            Reason(
                "promise_window_passed",
                f"A promise to pay must be made within {numbers.promise_max_days_after_due} days of the "
                f"due date "
                f"({format_date(facts.oldest_unpaid_due_date)}); that was {format_date(latest)}.",
            )
        )
    if reasons:
        return PromiseTerms(reasons)
    minimum = facts.past_due if facts.past_due > ZERO else facts.oldest_unpaid_amount
    covers = facts.latest_past_due_date or facts.oldest_unpaid_due_date
    return PromiseTerms(
        [],
        earliest=facts.today,
        latest=latest,
        minimum=minimum,
        maximum=facts.total_due,
        covers_due_through=covers,
    )


def check_promise(
    facts: AccountFacts, numbers: PolicyNumbers, *, amount: Decimal, pay_by: date
) -> PromiseTerms:
    terms = promise_terms(facts, numbers)
    if not terms.eligible:
        return terms
    assert terms.latest is not None and terms.minimum is not None and terms.maximum is not None
    reasons: list[Reason] = []
    if pay_by < facts.today:
        reasons.append(Reason("date_in_past", "The promised date is in the past."))
    elif pay_by > terms.latest:
        reasons.append(
            Reason("date_after_window", f"The latest date the policy allows is {format_date(terms.latest)}.")
        )
    if amount < terms.minimum:
        reasons.append(
            Reason(
                "amount_below_past_due", f"The promised amount must be at least {facts.money(terms.minimum)}."
            )
        )
    if amount > terms.maximum:
        reasons.append(Reason("amount_above_balance", f"The balance is {facts.money(terms.maximum)}."))
    return PromiseTerms(
        reasons, terms.earliest, terms.latest, terms.minimum, terms.maximum, terms.covers_due_through
    )


def instalment_schedule(*, amount: Decimal, count: int, start: date, interval_days: int) -> list[Instalment]:
    """`count` equal parts to the cent (the last one takes the remainder), every `interval_days`."""
    part = (amount / count).quantize(CENT, rounding=ROUND_DOWN)
    parts = [part] * (count - 1) + [amount - part * (count - 1)]
    return [
        Instalment(number, start + timedelta(days=interval_days * number), value)
        for number, value in enumerate(parts, start=1)
    ]


def plan_terms(facts: AccountFacts, numbers: PolicyNumbers) -> PlanTerms:
    reasons = _active_reasons(facts)
    if facts.past_due <= numbers.instalment_min_past_due:
        reasons.append(
            Reason(
                "past_due_below_threshold",
                "An instalment plan is for a past-due balance above "
                f"{facts.money(numbers.instalment_min_past_due)}; "
                f"the past-due balance is {facts.money(max(facts.past_due, ZERO))}.",
            )
        )
    if (
        facts.last_broken_plan_on is not None
        and (facts.today - facts.last_broken_plan_on).days <= numbers.broken_plan_lookback_days
    ):
        reasons.append(
            Reason(
                "broken_plan_recently",
                f"An instalment plan on this account was broken on "
                f"{format_date(facts.last_broken_plan_on)}, within the last "
                f"{numbers.broken_plan_lookback_days} days.",
            )
        )
    if reasons:
        return PlanTerms(reasons)
    choices = {
        count: instalment_schedule(
            amount=facts.past_due,
            count=count,
            start=facts.today,
            interval_days=numbers.instalment_interval_days,
        )
        for count in range(numbers.instalment_min_count, numbers.instalment_max_count + 1)
    }
    return PlanTerms(
        [], amount=facts.past_due, choices=choices, covers_due_through=facts.latest_past_due_date
    )


def check_plan(facts: AccountFacts, numbers: PolicyNumbers, *, instalments: int) -> PlanTerms:
    terms = plan_terms(facts, numbers)
    if terms.eligible and instalments not in terms.choices:
        return PlanTerms(
            [
                Reason(
                    "instalments_out_of_range",
                    f"A plan has {numbers.instalment_min_count} to {numbers.instalment_max_count} "
                    "monthly instalments.",
                )
            ]
        )
    return terms


def waiver_terms(
    facts: AccountFacts, numbers: PolicyNumbers, *, line_item_id: int | None = None
) -> WaiverTerms:
    """One late fee, once: no other late fee and no waiver in the lookback window before today."""
    open_fees = [fee for fee in facts.late_fees if fee.credited < fee.amount]
    if line_item_id is not None:
        open_fees = [fee for fee in open_fees if fee.line_item_id == line_item_id]
    if not open_fees:
        what = "that charge" if line_item_id is not None else "this account"
        return WaiverTerms([Reason("no_late_fee", f"There is no late fee on {what} left to waive.")])
    fee = max(open_fees, key=lambda f: (f.issued_on, f.line_item_id))
    window_start = facts.today - timedelta(days=numbers.waiver_lookback_days)
    reasons: list[Reason] = []
    others = [
        f for f in facts.late_fees if f.line_item_id != fee.line_item_id and f.issued_on >= window_start
    ]
    if others:
        reasons.append(
            Reason(
                "late_fee_in_lookback",
                f"The account had another late fee in the last {numbers.waiver_lookback_days} days "
                f"(invoice {others[0].invoice_number}); the waiver is for a first late fee.",
            )
        )
    if facts.last_waiver_on is not None and facts.last_waiver_on >= window_start:
        reasons.append(
            Reason(
                "late_fee_already_waived",
                f"A late fee was already waived on {format_date(facts.last_waiver_on)}; the waiver "
                f"is once in {numbers.waiver_lookback_days} days.",
            )
        )
    return WaiverTerms(reasons, fee=fee)


@dataclass(frozen=True)
class Progress:
    status: str  # active / kept / completed / broken
    paid_numbers: frozenset[int]  # instalments covered by the payments so far
    missed_numbers: frozenset[int]


def promise_progress(*, amount: Decimal, pay_by: date, paid: Decimal, today: date) -> Progress:
    if paid >= amount:
        return Progress("kept", frozenset(), frozenset())
    return Progress("broken" if today > pay_by else "active", frozenset(), frozenset())


def plan_progress(*, instalments: list[Instalment], paid: Decimal, today: date) -> Progress:
    """Payments since the plan cover its instalments in order; an uncovered one past due breaks it."""
    covered, missed, running = set(), set(), ZERO
    for instalment in sorted(instalments, key=lambda i: i.number):
        running += instalment.amount
        if paid >= running:
            covered.add(instalment.number)
        elif today > instalment.due_date:
            missed.add(instalment.number)
    if len(covered) == len(instalments):
        status = "completed"
    elif missed:
        status = "broken"
    else:
        status = "active"
    return Progress(status, frozenset(covered), frozenset(missed))
