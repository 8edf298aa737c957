"""Finding the charge a customer means (by amount, date, name, invoice or a tapped button)."""

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal, TypeVar

from actions.clients.billing import BillingClient, Explanation, Invoice, MatchedLineItem
from actions.clients.errors import NotFound, ServiceError
from actions.clients.payments import PaymentsClient, WaiverTerms
from actions.conversation import CustomerTurn
from actions.formatting import format_date, format_money
from actions.normalise import (
    bare_amounts,
    charge_type_in_text,
    normalise_charge_name,
    normalise_date,
    normalise_invoice_number,
    normalise_money,
)

MAX_CHARGE_BUTTONS = 8
LATE_FEE = "late_fee"
WAIVER_OFFERED = "utter_offer_late_fee_waiver"  # the dispute form's offer (the explanation's is part of it)
_CREDIT_WORDS = re.compile(
    r"\b(credit(?:ed)?|refund(?:ed)?|negative|minus|money back|taken off|deducted)\b", re.IGNORECASE
)
# Words too common in charge descriptions to tell two charges apart.
_GENERIC_WORDS = frozenset(
    "the this that what why was were is are my on of for and charge charges fee fees tax taxes bill "
    "invoice amount line item month monthly".split()
)


@dataclass(frozen=True)
class ChargeQuery:
    line_item_id: str | None = None
    amount: Decimal | None = None
    on_date: date | None = None
    name: str | None = None
    invoice_number: str | None = None
    text: str = ""

    @classmethod
    def from_turn(cls, turn: CustomerTurn, *, today: date | None = None) -> "ChargeQuery":
        return cls(
            line_item_id=turn.first_entity("line_item_id"),
            amount=_first(normalise_money(value) for value in [
                *turn.entity_values("MONEY", "amount"), *bare_amounts(turn.text)
            ]),
            on_date=_first(
                normalise_date(value, today=today) for value in turn.entity_values("DATE", "date")
            ),
            name=normalise_charge_name(turn.first_entity("charge_name")) or charge_type_in_text(turn.text),
            invoice_number=_first(
                normalise_invoice_number(value) for value in turn.entity_values("invoice_number")
            ),
            text=turn.text or "",
        )

    @property
    def asks_about_credit(self) -> bool:
        """"what is this credit?", "why is there a minus amount": a line that takes money off the bill."""
        return not self.text.startswith("/") and _CREDIT_WORDS.search(self.text) is not None

    @property
    def is_empty(self) -> bool:
        return not any([self.line_item_id, self.amount, self.on_date, self.name, self.invoice_number])

    def describe(self, currency: str) -> str:
        """"a late fee of $45.00 on March 3 on invoice INV-2025-000123" for "no charge matched" replies."""
        parts = [f"a {self.name.replace('_', ' ')} charge" if self.name else "a charge"]
        if self.amount is not None:
            parts.append(f"of {format_money(self.amount, currency)}")
        if self.on_date is not None:
            parts.append(f"on {format_date(self.on_date)}")
        if self.invoice_number:
            parts.append(f"on invoice {self.invoice_number}")
        return " ".join(parts)


T = TypeVar("T")


def _first(values: Iterable[T | None]) -> T | None:
    return next((value for value in values if value is not None), None)


ResolutionKind = Literal["single", "several", "none", "unspecified", "no_invoices"]


@dataclass
class ChargeResolution:
    kind: ResolutionKind
    items: list[MatchedLineItem] = field(default_factory=list)
    explanation: Explanation | None = None
    latest_invoice: Invoice | None = None

    @property
    def single(self) -> MatchedLineItem:
        return self.items[0]


async def latest_invoice(billing: BillingClient, *, customer_id: int) -> Invoice | None:
    invoices = await billing.list_invoices(customer_id=customer_id)
    if not invoices:
        return None
    return await billing.get_invoice(customer_id=customer_id, invoice_number=invoices[0].number)


def invoice_line_items(invoice: Invoice) -> list[MatchedLineItem]:
    return [
        MatchedLineItem(**item.model_dump(), invoice_number=invoice.number) for item in invoice.line_items
    ]


# A whole number written as money in a sentence ("this extra 65", "a 25 fee"): not a time, size, count of days
# or share; only ever used when it equals a line of the customer's own bill.
_WHOLE_AMOUNT = re.compile(
    r"(?<![\w.,/:-])[$£€]?(\d{2,4})(?![\d.,/:%]?\d|%)"
    r"(?!\s?(?:am|pm|gb|mb|gigs?|mins?|minutes?|hours?|hrs?|days?|weeks?|months?|years?|percent|st|nd|rd|th)\b)",
    re.IGNORECASE,
)
_SYMBOL_AMOUNT = re.compile(r"[$£€]\s?(\d{1,3}(?:,\d{3})+(?:\.\d{2})?|\d+(?:\.\d{2})?)\b")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_QUESTION_START = re.compile(
    r"^\W*(?:so\s+|and\s+|but\s+)?(?:what|why|how|which|is|are|was|can|could|explain)\b", re.IGNORECASE
)


def amounts_in(text: str, entities: Iterable[str] = ()) -> list[Decimal]:
    """Every amount a message writes: its MONEY entities, bare decimals and whole numbers, in order."""
    if text.startswith("/"):
        return []
    found = [normalise_money(value) for value in [*entities, *bare_amounts(text)]]
    found += [normalise_money(match.group(1)) for match in _SYMBOL_AMOUNT.finditer(text)]
    found += [Decimal(match.group(1)) for match in _WHOLE_AMOUNT.finditer(text)]
    return list(dict.fromkeys(amount.quantize(Decimal("0.01")) for amount in found if amount is not None))


def sentences_of(text: str) -> list[str]:
    """The message's sentences, split after each ".", "!" or "?"."""
    return [part for part in _SENTENCE_END.split(text.strip()) if part.strip()]


def question_sentence(text: str) -> str | None:
    """The last sentence of a message of several that asks something ("My plan is 60. What is this extra
    65?" -> "What is this extra 65?"); None for a message of one sentence."""
    sentences = sentences_of(text)
    if len(sentences) < 2:
        return None
    asking = [part for part in sentences if part.rstrip().endswith("?") or _QUESTION_START.search(part)]
    return asking[-1] if asking else None


def only_line_with_amount(items: list[MatchedLineItem], amounts: Iterable[Decimal]) -> MatchedLineItem | None:
    """The one line whose amount is one of `amounts` ("22.50" for a credit of -22.50 too), if exactly one
    line is."""
    wanted = set(amounts)
    matching = [item for item in items if abs(item.amount) in wanted]
    return matching[0] if len(matching) == 1 else None


async def line_asked_by_amount(
    billing: BillingClient, *, customer_id: int, text: str
) -> MatchedLineItem | None:
    """In a message of several sentences, the line of the latest bill whose amount the question sentence
    names ("$125?! My plan is 60 bucks. What is this extra 65 on there?" -> the $65 line, not the plan the
    statement before it named); None when that sentence names no amount of exactly one line."""
    asked = question_sentence(text)
    found = await only_latest_line_with_amount(billing, customer_id=customer_id,
                                               amounts=amounts_in(asked) if asked else [])
    return found[0] if found else None


async def only_latest_line_with_amount(
    billing: BillingClient, *, customer_id: int, amounts: list[Decimal]
) -> tuple[MatchedLineItem, Invoice] | None:
    """The one line of the latest bill whose amount is one of `amounts`, with its bill; None when no amount is
    given (the backend is not asked), no bill exists or not exactly one line has such an amount."""
    if not amounts:
        return None
    invoice = await latest_invoice(billing, customer_id=customer_id)
    line = only_line_with_amount(invoice_line_items(invoice), amounts) if invoice else None
    return (line, invoice) if line is not None and invoice is not None else None


# A closing question that points back at something the story named: "What exactly is that for?", "what's this
# about?", "where did that come from?"
_ASKS_WHAT_THAT_IS = re.compile(
    r"^\W*(?:so\s+|and\s+|but\s+)?"
    r"(?:what(?:\s+exactly|\s+actually)?(?:'s|\s+is|\s+was)\s+(?:exactly\s+|actually\s+)?(?:that|this|it)"
    r"(?:\s+(?:charge|amount|one|fee|line))?(?:\s+(?:for|about|then|exactly))?"
    r"|where\s+(?:does|did|has)\s+(?:that|this|it)\s+come\s+from)\W*$",
    re.IGNORECASE,
)


async def line_referred_back_to(
    billing: BillingClient, *, customer_id: int, text: str
) -> tuple[MatchedLineItem, Invoice] | None:
    """A story whose closing question points back ("... Now there's an extra 25 sitting on this one. What
    exactly is that for?"): the line of the latest bill whose amount the nearest sentence before the question
    names, if exactly one line has it; None otherwise (the backend is not asked unless the question points
    back)."""
    sentences = sentences_of(text)
    if len(sentences) < 2 or _ASKS_WHAT_THAT_IS.search(sentences[-1]) is None:
        return None
    amounts = next((found for found in map(amounts_in, reversed(sentences[:-1])) if found), [])
    return await only_latest_line_with_amount(billing, customer_id=customer_id, amounts=amounts)


async def resolve_charge(billing: BillingClient, *, customer_id: int, query: ChargeQuery) -> ChargeResolution:
    """One match, several (ask which), none (say so and show the latest invoice) or nothing asked yet."""
    if query.line_item_id:
        try:
            explanation = await billing.explain_line_item(
                customer_id=customer_id, line_item_id=query.line_item_id
            )
        except NotFound:
            return await _with_latest_invoice("none", billing, customer_id)
        item = MatchedLineItem(
            **explanation.line_item.model_dump(), invoice_number=explanation.invoice_number
        )
        return ChargeResolution("single", [item], explanation=explanation)
    if query.is_empty:
        return _narrowed(await _with_latest_invoice("unspecified", billing, customer_id), query)
    try:
        matches = await billing.find_line_items(
            customer_id=customer_id,
            amount=query.amount,
            on_date=query.on_date,
            name=query.name,
            invoice_number=query.invoice_number,
        )
        if not matches and query.on_date is not None and (query.amount or query.name or query.invoice_number):
            # customers often give the bill or payment date rather than the charge date
            matches = await billing.find_line_items(
                customer_id=customer_id,
                amount=query.amount,
                name=query.name,
                invoice_number=query.invoice_number,
            )
    except NotFound:
        matches = []  # e.g. an invoice number that is not theirs
    if len(matches) > 1 and query.on_date is None and not query.invoice_number:
        # "the router charge" means the one on the newest bill, not every month's (newest first per contract)
        matches = [item for item in matches if item.invoice_number == matches[0].invoice_number]
    if len(matches) > 1 and query.asks_about_credit:
        matches = [item for item in matches if item.amount < 0] or matches
    if len(matches) > 1:
        matches = narrow_by_description(matches, query.text)
    if len(matches) == 1:
        return ChargeResolution("single", matches)
    if len(matches) > 1:
        return ChargeResolution("several", matches)
    return _narrowed(await _with_latest_invoice("none", billing, customer_id), query)


def _narrowed(resolution: ChargeResolution, query: ChargeQuery) -> ChargeResolution:
    """No charge named: a credit asked about, or words of one line's description, still find it on the
    latest bill."""
    if resolution.kind not in ("unspecified", "none") or not resolution.items:
        return resolution
    items = resolution.items
    if query.asks_about_credit:
        items = [item for item in items if item.amount < 0] or items
    if len(items) > 1:
        items = narrow_by_description(items, query.text)
    if len(items) == 1:
        return ChargeResolution("single", items, latest_invoice=resolution.latest_invoice)
    if len(items) < len(resolution.items):
        return ChargeResolution("several", items, latest_invoice=resolution.latest_invoice)
    return resolution


def _distinctive_words(text: str) -> set[str]:
    words = {word.strip(".,!?:;'\"()$").lower() for word in text.split()}
    return {word for word in words if len(word) >= 3 and word.isalpha() and word not in _GENERIC_WORDS}


def narrow_by_description(matches: list[MatchedLineItem], text: str) -> list[MatchedLineItem]:
    """"the sales tax" among three tax lines: keep the lines whose description shares the most words."""
    asked = _distinctive_words(text)
    if not asked:
        return matches
    scores = [len(asked & _distinctive_words(item.description)) for item in matches]
    best = max(scores)
    if best == 0:
        return matches
    return [item for item, score in zip(matches, scores, strict=True) if score == best]


async def _with_latest_invoice(
    kind: ResolutionKind, billing: BillingClient, customer_id: int
) -> ChargeResolution:
    invoice = await latest_invoice(billing, customer_id=customer_id)
    if invoice is None:
        return ChargeResolution("no_invoices")
    return ChargeResolution(kind, invoice_line_items(invoice), latest_invoice=invoice)


def charge_label(item: MatchedLineItem, currency: str) -> str:
    return f"{item.description} ({format_money(item.amount, currency)}, invoice {item.invoice_number})"


def charge_buttons(items: list[MatchedLineItem], *, currency: str, intent: str) -> list[dict[str, str]]:
    """Quick replies that name one line item; the payload carries its id as the `line_item_id` entity."""
    several_invoices = len({item.invoice_number for item in items}) > 1
    buttons = []
    for item in items[:MAX_CHARGE_BUTTONS]:
        title = f"{item.description} · {format_money(item.amount, currency)}"
        if several_invoices:
            title += f" · {item.invoice_number}"
        payload = f"/{intent}{json.dumps({'line_item_id': str(item.id)})}"
        buttons.append({"title": title, "payload": payload})
    return buttons


# --- the one-time late-fee waiver, offered where a late fee is explained or disputed (issue 16) -------------


async def waivable_late_fee(
    payments: PaymentsClient, *, customer_id: int, item: MatchedLineItem
) -> WaiverTerms | None:
    """The backend's waiver terms when `item` is a late fee the policy lets this customer have waived now
    (GET arrangement-options); None otherwise, also when the backend cannot tell (the answer stands alone)."""
    if item.charge_type != LATE_FEE or item.amount <= 0:
        return None
    try:
        terms = (await payments.arrangement_options(customer_id=customer_id)).late_fee_waiver
    except ServiceError:
        return None
    if not terms.eligible or terms.amount is None or str(terms.line_item_id) != str(item.id):
        return None
    return terms


def waiver_button(*, line_item_id: object, amount: Decimal | str, currency: str) -> dict[str, str]:
    """ "Yes, waive the $25.00 fee": the request with the fee's line item, which the arrangement form takes as
    the customer's yes to the terms just stated (only an offered button can carry an entity: contracts.md)."""
    payload = f"/request_fee_waiver{json.dumps({'line_item_id': str(line_item_id)})}"
    return {"title": f"Yes, waive the {format_money(amount, currency)} fee", "payload": payload}
