"""Money helpers: Decimal only, two decimals, half-up rounding."""
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import PlainSerializer, WithJsonSchema

CENT = Decimal("0.01")
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$"}


def to_money(value: Any) -> Decimal:
    """Exact conversion to a two-decimal Decimal; refuses floats and sub-cent amounts."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(f"not an amount of money: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError("money must be finite")
    if amount != amount.quantize(CENT):
        raise ValueError(f"money has more than two decimals: {value!r}")
    return amount.quantize(CENT)


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal, currency: str = "USD") -> str:
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.2f}"


def format_date(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def format_decimal(value: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros ("6.5", "0.0625", "1")."""
    text = format(value.normalize(), "f")
    return text


# A money amount in responses: a JSON string with exactly two decimals.
MoneyOut = Annotated[
    Decimal,
    PlainSerializer(lambda amount: f"{amount.quantize(CENT):.2f}", return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["42.50"]}, mode="serialization"
    ),
]
def format_rate(value: Decimal) -> str:
    """A rate with at least two decimals ("25.00", "2.50", "0.0625")."""
    text = format_decimal(value)
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


RateOut = Annotated[
    Decimal,
    PlainSerializer(format_rate, return_type=str),
    WithJsonSchema({"type": "string", "examples": ["2.50"]}, mode="serialization"),
]
# Quantities: a JSON string, as precise as stored.
DecimalOut = Annotated[
    Decimal,
    PlainSerializer(format_decimal, return_type=str),
    WithJsonSchema({"type": "string", "examples": ["6.5"]}, mode="serialization"),
]
