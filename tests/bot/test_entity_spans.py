"""Entity spans corrected for billing text (bot/components/entity_spans.py): plain Python, no Rasa."""

from __future__ import annotations

import pytest
import yaml

from bot.components.entity_spans import refine_entities
from tests.trainer.repo_copy import REPO_ROOT


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
    ("can i pay on the 21st", "the 21st", [("the 21st", "DATE")]),
    ("compare with last year's bill", "last year's", [("last year", "DATE")]),
    ("is it due on monday or tuesday", "monday or", [("monday", "DATE"), ("tuesday", "DATE")]),
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


# --- the span convention of docs/contracts.md ("Entities"), issue 13 -------------------------------------


# The extractor's `dimensions` (config.yml): it drops every other label (TIME, ORDINAL) after the rules.
DIMENSIONS = {
    label
    for component in yaml.safe_load((REPO_ROOT / "config.yml").read_text())["pipeline"]
    if component["name"].endswith("CasedSpacyEntityExtractor")
    for label in component["dimensions"]
}


def refined(text: str, *ner: tuple[str, str]) -> list[tuple[str, str]]:
    """`refine_entities` over what NER gave (surface, label) for `text`, as (surface, label) pairs."""
    found = spans(text, [spacy_entity(text, surface, label) for surface, label in ner])
    return [(surface, label) for surface, label in found if label in DIMENSIONS]


@pytest.mark.parametrize(("text", "ner", "expected"), [
    ("they took 18 quid off me", [("18", "CARDINAL")], [("18 quid", "MONEY")]),
    ("refund EUR 42.10 please", [("EUR", "ORG"), ("42.10", "CARDINAL")], [("EUR 42.10", "MONEY")]),
    ("you charged 27 euros for nothing", [("27", "CARDINAL")], [("27 euros", "MONEY")]),
    ("USD 310 is too much", [], [("USD 310", "MONEY")]),
    ("i owe 45$ i think", [("45", "MONEY")], [("45$", "MONEY")]),
        ("the total was $1,240.75", [("1,240.75", "MONEY")], [("$1,240.75", "MONEY")]),
    ("roughly $64 went out", [("roughly $64", "MONEY")], [("$64", "MONEY")]),
    ("an extra £9 appeared", [("an extra", "MONEY"), ("9", "MONEY")], [("£9", "MONEY")]),
    ("it was over $ 200", [("over $", "MONEY"), ("200", "MONEY")], [("$ 200", "MONEY")]),
    ("about seventy dollars", [("about seventy dollars", "MONEY")], [("seventy dollars", "MONEY")]),
    ("it went from $30 to $70", [("30 to $70", "MONEY")], [("$30", "MONEY"), ("$70", "MONEY")]),
    ("15 cents more per text", [("15 cents", "MONEY")], [("15 cents", "MONEY")]),
])
def test_money_is_the_amount_with_its_currency_and_nothing_else(text, ner, expected):
    assert refined(text, *ner) == expected


@pytest.mark.parametrize("text", [
    "i have 3 lines on the plan", "pay it in 2 instalments", "version 4.2 of the app", "page 12 of 14",
    "i used 14.25 GB this cycle", "the engineer came at 10.30 am",
])
def test_numbers_that_are_no_amount_stay_out_of_money(text):
    assert [label for _, label in refined(text)] == []


@pytest.mark.parametrize(("text", "ner", "expected"), [
    ("i'll pay on the 9th", [("9th", "ORDINAL")], [("the 9th", "DATE")]),
    ("can it wait until the 23rd", [], [("the 23rd", "DATE")]),
    ("due 5th", [], [("5th", "DATE")]),
    ("paid by the 2nd of next month", [("the 2nd of next month", "DATE")],
     [("the 2nd of next month", "DATE")]),
    ("it came out 4th april", [("4th", "ORDINAL")], [("4th april", "DATE")]),
    ("was it april 4th, 2026", [("april 4th, 2026", "DATE")], [("april 4th, 2026", "DATE")]),
    ("charged on 06/10 again", [], [("06/10", "DATE")]),
    ("a fee from 4/9 i think", [], [("4/9", "DATE")]),
    ("debited 2026-10-06", [("2026-10-06", "DATE")], [("2026-10-06", "DATE")]),
    ("i paid this evening", [("this evening", "TIME")], [("this evening", "DATE")]),
    ("i'll sort it tomorrow afternoon", [("tomorrow", "DATE"), ("afternoon", "TIME")],
     [("tomorrow afternoon", "DATE")]),
    ("i sent it tonight", [("tonight", "TIME")], [("tonight", "DATE")]),
    ("i'll pay in full today", [], [("today", "DATE")]),
    ("is it due this coming thursday", [("thursday", "DATE")], [("this coming thursday", "DATE")]),
    ("check this month's invoice", [("month", "DATE")], [("this month", "DATE")]),
    ("copy of last months bill", [("last months", "DATE")], [("last month", "DATE")]),
    ("by the end of the month", [("the end of the month", "DATE")], [("the end of the month", "DATE")]),
    ("sometime over the weekend", [("the weekend", "DATE")], [("the weekend", "DATE")]),
    ("paid it the day before yesterday", [("the day before yesterday", "DATE")],
     [("the day before yesterday", "DATE")]),
    ("on the 4th of june", [("the 4th of june", "DATE")], [("the 4th of june", "DATE")]),
    ("due on the 2nd of the month", [("2nd", "ORDINAL")], [("the 2nd of the month", "DATE")]),
    ("any fees over the past year", [("the past year", "DATE")], [("the past year", "DATE")]),
    ("did it go up the previous month", [("the previous month", "DATE")], [("the previous month", "DATE")]),
    ("by the tenth", [("tenth", "ORDINAL")], [("the tenth", "DATE")]),
    ("it left my bank a week ago", [("a week ago", "DATE")], [("a week ago", "DATE")]),
    ("paid it on monday the 3rd", [("monday", "DATE"), ("3rd", "ORDINAL")], [("monday the 3rd", "DATE")]),
    ("due tuesday, march 4", [("tuesday", "DATE"), ("march 4", "DATE")], [("tuesday, march 4", "DATE")]),
    ("i earn on the 25th of every month", [("the 25th of every month", "DATE")], [("the 25th", "DATE")]),
    ("the 7th or the 8th", [("7th or the 8th", "DATE")], [("the 7th", "DATE"), ("the 8th", "DATE")]),
])
def test_dates_follow_the_convention(text, ner, expected):
    assert refined(text, *ner) == expected


@pytest.mark.parametrize(("text", "ner"), [
    ("the 2nd instalment bounced", [("2nd", "ORDINAL")]),
    ("this is the 3rd time i ask", [("3rd", "ORDINAL")]),
    ("support is 24/7 right", []),
    ("pay 1/2 now", [("1/2", "CARDINAL")]),
    ("visa exp 09/28", []),
    ("when is payday", [("payday", "DATE")]),
    ("the last day to pay", [("the last day", "DATE")]),
    ("it was 40 and now 65", [("65", "DATE")]),
    ("call me at 5pm", [("5pm", "TIME")]),
    ("can i have another fortnight", [("another fortnight", "DATE")]),
    ("give me ten more days", [("ten more days", "DATE")]),
    ("i was on hold all day", [("all day", "DATE")]),
    ("when is the next payday", [("the next payday", "DATE")]),
    ("visa ending **** 2019", [("2019", "DATE")]),
])
def test_what_names_no_day_is_no_date(text, ner):
    assert refined(text, *ner) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("acc no is 100555", "100555"),
    ("a/c 100555 please", "100555"),
    ("customer number 100555", "100555"),
    ("my account's 100555", "100555"),
    ("Account Number - 100555", "100555"),
    ("ACC\u2013100555 balance", "ACC\u2013100555"),
    ("acc#100555", "acc#100555"),
])
def test_account_numbers_written_other_ways(text, expected):
    assert refined(text) == [(expected, "account_number")]


def test_rules_never_override_the_ruler():
    text = "invoice INV-2025-001231 from 2025-01-05"
    invoice = spacy_entity(text, "INV-2025-001231", "invoice_number")
    assert spans(text, [invoice]) == [("INV-2025-001231", "invoice_number"), ("2025-01-05", "DATE")]


@pytest.mark.parametrize(("text", "ner"), [
    ("i was billed 63.40 twice", [("63.40", "CARDINAL")]),
    ("the 8.15 one", [("8.15", "MONEY")]),
    ("it went up by 12", [("12", "MONEY")]),
    ("that is 15% more", [("15%", "PERCENT")]),
])
def test_a_bare_number_is_no_money(text, ner):
    """docs/contracts.md ("Entities"): money is written with its currency; "12.50" alone is not."""
    assert refined(text, *ner) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("100555", [("100555", "account_number")]),
    ("it's 100555.", [("100555", "account_number")]),
    ("100555 is my account", [("100555", "account_number")]),
    ("100555, 94107", [("100555", "account_number")]),
    ("100555 and the phone ends 4821", [("100555", "account_number")]),
    ("Yes 100555.", [("100555", "account_number")]),
    ("my pin code is 100555", []),
    ("order 100555 never arrived", []),
    ("what is 100555 divided by 5", []),
])
def test_six_digits_given_as_the_account_number(text, expected):
    assert refined(text) == expected
