"""Reading what the customer asked to pay from their words: an amount ("$75", "50 dollars"), the past due or
the full balance, or why what they wrote cannot be an amount; and spotting a card number typed in the chat."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from actions.clients.payments import money_text

# What the handoff service leaves of a card or bank account number (handoff/conversations/redaction.py), and
# the number itself should a message reach the bot another way.
_CARD_NUMBER = re.compile(r"\*{4}(?:[ -]?\*{1,6}){1,3}[ -]?\d{4}|\*{3,}[ -]?\d{4}|\b\d(?:[ -]?\d){12,18}\b")
_PAST_DUE_WORDS = re.compile(r"\b(past[\s-]?due|overdue|late|arrears|behind|outstanding)\b", re.IGNORECASE)
_FULL_WORDS = re.compile(
    r"\b(full|whole|entire|everything|total|the lot|all (?:of it|i owe|my balance)|it all|in full|balance)\b",
    re.IGNORECASE,
)
# An amount the customer wrote: "$75", "50 dollars", "-20", "20.005", "1,250.00".
_AMOUNT = re.compile(
    r"(?<![\w*/.-])(?P<sign>-|minus\s+)?\$?\s?"
    r"(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\w*/]|\.\d)"
    r"(?:\s*(?:dollars?|bucks|usd))?",
    re.IGNORECASE,
)


class AmountProblem(StrEnum):
    unreadable = "unreadable"
    not_positive = "not_positive"
    too_precise = "too_precise"


def has_card_number(text: str | None) -> bool:
    return bool(text) and _CARD_NUMBER.search(text or "") is not None


def parse_amount(text: str) -> Decimal | AmountProblem | None:
    """The first amount written in `text`: a Decimal with at most two places, a problem, or None."""
    match = _AMOUNT.search(text.replace("\u2212", "-"))
    if match is None:
        return None
    try:
        value = Decimal(match.group("number").replace(",", ""))
    except InvalidOperation:
        return AmountProblem.unreadable
    if match.group("sign"):
        value = -value
    if value <= 0:
        return AmountProblem.not_positive
    if value.as_tuple().exponent < -2:  # type: ignore[operator]  # a finite Decimal's exponent is an int
        return AmountProblem.too_precise
    return value.quantize(Decimal("0.01"))


def requested_amount(text: str, money_entities: list[str], *, asked: bool) -> str | None:
    """What the customer asked to pay, as the `payment_amount` slot holds it before the quote:
    "75.00", "past_due", "full_balance", "problem:<AmountProblem>:<as written>", or None when they named
    nothing.

    `asked`: the bot asked "how much?", so a message without an amount is an unreadable answer."""
    if has_card_number(text):
        return None
    for written in [*money_entities, text]:
        amount = parse_amount(written)
        if isinstance(amount, Decimal):
            return money_text(amount)
        if isinstance(amount, AmountProblem):
            return f"problem:{amount}:{written.strip()[:40]}"
    if money_entities:  # spaCy saw money ("fifty bucks") but no digits
        return f"problem:{AmountProblem.unreadable}:{money_entities[0][:40]}"
    if _PAST_DUE_WORDS.search(text):
        return "past_due"
    if _FULL_WORDS.search(text):
        return "full_balance"
    if asked and text.strip() and not text.startswith("/"):
        return f"problem:{AmountProblem.unreadable}:{text.strip()[:40]}"
    return None
