"""How numbers and dates read in replies: money "$1,234.50", dates "November 21, 2026"."""

from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥", "INR": "₹"}
CENT = Decimal("0.01")


def format_money(amount: Decimal | str | int, currency: str | None = "USD") -> str:
    """Decimal (or its string form) to "$1,234.50"; negative amounts as "-$5.00"."""
    value = Decimal(str(amount)).quantize(CENT, rounding=ROUND_HALF_UP)
    code = (currency or "USD").upper()
    sign = "-" if value < 0 else ""
    digits = f"{abs(value):,.2f}"
    symbol = CURRENCY_SYMBOLS.get(code)
    if symbol is None:
        return f"{sign}{digits} {code}"
    return f"{sign}{symbol}{digits}"


def money_in(currency: str | None) -> Callable[[Decimal | str | int], str]:
    """format_money for the amounts of one account or bill: `money_in("EUR")(Decimal("5"))` is "€5.00"."""
    return partial(format_money, currency=currency)


def format_date(value: date | str | None) -> str:
    """ISO date (or date) to "November 21, 2026"."""
    if value is None:
        return "an unknown date"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value:%B} {value.day}, {value.year}"


def format_period(start: date | str | None, end: date | str | None) -> str:
    if start is None or end is None:
        return ""
    return f"{format_date(start)} to {format_date(end)}"


def format_wait(eta_seconds: int | float | None) -> str:
    """Expected wait in words: "about 3 minutes", "less than a minute"."""
    if eta_seconds is None:
        return "a few minutes"
    seconds = max(0, int(eta_seconds))
    if seconds < 60:
        return "less than a minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    hours = round(minutes / 60)
    return f"about {hours} hour{'s' if hours != 1 else ''}"


def humanise_charge_type(charge_type: str) -> str:
    return charge_type.replace("_", " ")
