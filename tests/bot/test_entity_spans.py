"""Entity spans corrected for billing text (bot/components/entity_spans.py): plain Python, no Rasa."""

from __future__ import annotations

import pytest

from bot.components.entity_spans import refine_entities


def spacy_entity(text: str, surface: str, label: str) -> dict:
    """An entity as spaCy's NER gives it for `surface` inside `text`."""
    start = text.index(surface)
    return {"entity": label, "start": start, "end": start + len(surface), "value": surface}


def spans(text: str, entities: list[dict]) -> list[tuple[str, str]]:
    return [(text[e["start"]:e["end"]], e["entity"]) for e in refine_entities(text, entities)]


@pytest.mark.parametrize(("text", "number", "expected"), [
    ("why was i billed $12.50 extra", "12.50", "$12.50"),
    ("the £30 on my statement", "30", "£30"),
    ("a charge of 45 dollars", "45 dollars", "45 dollars"),
])
def test_money_includes_its_currency_sign(text, number, expected):
    assert spans(text, [spacy_entity(text, number, "MONEY")]) == [(expected, "MONEY")]


@pytest.mark.parametrize(("text", "date", "expected"), [
    ("can i pay on the 21st", "the 21st", [("21st", "DATE")]),
    ("compare with last year's bill", "last year's", [("last year", "DATE")]),
    ("is it due on monday or tuesday", "monday or", [("monday", "DATE")]),
    ("my zip is 30303", "30303", []),
    ("phone ends 1946", "1946", [("1946", "DATE")]),  # a possible year stays a date
    ("the last four are 4821", "the last four are 4821", []),
    ("what is billed monthly", "monthly", []),
    ("what do i pay each month", "each month", []),
    ("what did i pay in March 2026", "March 2026", [("March 2026", "DATE")]),
])
def test_dates_are_trimmed_and_non_dates_dropped(text, date, expected):
    assert spans(text, [spacy_entity(text, date, "DATE")]) == expected


@pytest.mark.parametrize(
    "text", ["balance for account 100123", "my account number is 100123", "acct #100123"]
)
def test_a_bare_account_number_after_the_word_account_is_an_account_number(text):
    found = spans(text, [spacy_entity(text, "100123", "DATE")])
    assert found == [("100123", "account_number")]


def test_an_account_number_the_ruler_found_is_not_doubled():
    text = "account ACC-100123 please"
    ruler = spacy_entity(text, "ACC-100123", "account_number")
    assert spans(text, [ruler]) == [("ACC-100123", "account_number")]


def test_other_entities_pass_unchanged():
    text = "what is the late fee on INV-2026-000106"
    entities = [
        spacy_entity(text, "late fee", "charge_name"),
        spacy_entity(text, "INV-2026-000106", "invoice_number"),
    ]
    assert spans(text, entities) == [("late fee", "charge_name"), ("INV-2026-000106", "invoice_number")]
