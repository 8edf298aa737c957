from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actions.formatting import format_date, format_money, format_wait, money_in
from actions.normalise import (
    charge_type_in_text,
    normalise_account_number,
    normalise_charge_name,
    normalise_date,
    normalise_invoice_number,
    normalise_money,
    split_postal_code_or_phone,
)

SATURDAY = date(2026, 11, 21)


@pytest.mark.parametrize(("amount", "currency", "text"), [
    (Decimal("1234.5"), "USD", "$1,234.50"),
    ("42.50", "USD", "$42.50"),
    (Decimal("-5"), "USD", "-$5.00"),
    (Decimal("10"), "EUR", "€10.00"),
    (Decimal("10"), "CHF", "10.00 CHF"),
])
def test_money(amount, currency, text):
    assert format_money(amount, currency) == text


def test_money_in_one_currency_formats_each_amount_in_it():
    money = money_in("EUR")
    assert (money(Decimal("10")), money("-2.5")) == ("€10.00", "-€2.50")


def test_dates_and_waits_read_naturally():
    assert format_date("2026-11-21") == "November 21, 2026"
    assert format_date(date(2026, 3, 3)) == "March 3, 2026"
    assert (format_wait(30), format_wait(180), format_wait(None)) == (
        "less than a minute",
        "about 3 minutes",
        "a few minutes",
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("$45", "45.00"),
        ("45 dollars", "45.00"),
        ("45.5", "45.50"),
        ("$1,234.5", "1234.50"),
        ("USD 12.30", "12.30"),
        ("50 cents", "0.50"),
        ("forty five", None),
        ("", None),
    ],
)
def test_money_entities(text, value):
    assert normalise_money(text) == (Decimal(value) if value else None)


@given(st.decimals(min_value=0, max_value=10**7, places=2))
def test_formatted_money_reads_back_as_the_same_decimal(amount):
    assert normalise_money(format_money(amount, "USD")) == amount


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("yesterday", "2026-11-20"),
        ("today", "2026-11-21"),
        ("last tuesday", "2026-11-17"),
        ("tuesday", "2026-11-17"),
        ("last saturday", "2026-11-14"),
        ("march 3", "2026-03-03"),
        ("december 5", "2025-12-05"),
        ("Oct 3rd", "2026-10-03"),
        ("the 3rd", "2026-11-03"),  # DATE spans keep "the" (docs/contracts.md): both read the same
        ("3rd", "2026-11-03"),
        ("the 3rd of march", "2026-03-03"),
        ("the day before yesterday", "2026-11-19"),
        ("the 30th", "2026-10-30"),  # a day of the month alone: the latest one, last month's if still ahead
        ("31st", "2026-10-31"),
        ("2025-10-03", "2025-10-03"),
        ("3 days ago", "2026-11-18"),
        ("two weeks ago", "2026-11-07"),
        ("this morning", "2026-11-21"),
        ("last night", "2026-11-20"),
        ("yesterday afternoon", "2026-11-20"),
        ("october", None),
        ("soon", None),
    ],
)
def test_date_entities_lie_in_the_past(text, iso):
    result = normalise_date(text, today=SATURDAY)
    assert (result.isoformat() if result else None) == iso


def test_identifiers_and_charge_names():
    assert normalise_account_number("my account is acc 100234") == "ACC-100234"
    assert normalise_account_number("ACC-12") is None
    assert normalise_invoice_number("inv 2025 000123") == "INV-2025-000123"
    assert normalise_charge_name("Late Payment Charge") == "late_fee"
    assert normalise_charge_name("late_fee") == "late_fee"
    assert normalise_charge_name("the taxes") == "tax"


@pytest.mark.parametrize(
    ("text", "charge_type"),
    [
        ("what is the discount charge", "discount"),
        ("what is the late payment charge?", "late_fee"),
        ("I was charged twice for installation", "one_time"),
        ("why was my credit card charged", None),
        ("what's my plan", None),
        ("what is the plan charge", "plan"),
        ('/inform{"line_item_id": "3"}', None),
    ],
)
def test_charge_named_in_a_sentence(text, charge_type):
    assert charge_type_in_text(text) == charge_type


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("94107", ("postal_code", "94107")),
        ("my zip is 94107", ("postal_code", "94107")),
        ("4321", ("phone_last4", "4321")),
        ("last four 5678", ("phone_last4", "5678")),
        ("SW1A 1AA", ("postal_code", "SW1A 1AA")),
        ("hello", None),
        ("last 4 digits are 7730", ("phone_last4", "7730")),
        ("phone ends in 1122", ("phone_last4", "1122")),
        ("postcode 2000", ("postal_code", "2000")),
        ("zip is 02139", ("postal_code", "02139")),
        ("K1A 0B1", ("postal_code", "K1A 0B1")),
        ("94107-1234", ("postal_code", "94107-1234")),
    ],
)
def test_second_verification_answer(text, answer):
    assert split_postal_code_or_phone(text) == answer
