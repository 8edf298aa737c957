"""Entity spans corrected for billing text, after spaCy's NER (used by CasedSpacyEntityExtractor).

Measured on the independent development set (tests/nlu/dev): en_core_web_sm's MONEY spans leave out the
currency sign, postal codes and phone digits come out as DATE, "account 100234" is a DATE, and frequencies
("monthly", "each month") are tagged as dates although no date can be read from them. Plain Python, so it is
tested without Rasa (tests/bot/test_entity_spans.py).
"""

from __future__ import annotations

import re

_CURRENCY_SIGNS = "$£€"
# Digits that are not a date: a run of 5+ (postal codes, account digits) or 4 that are not a year.
_NOT_A_DATE_NUMBER = re.compile(r"\d{5,}|(?<!\d)(?!19\d\d|20\d\d)\d{4}(?!\d)")
_FREQUENCY = re.compile(
    r"(?:each|every|per|a|an|the)?\s*(?:day|week|month|year)|daily|weekly|monthly|yearly|annually|quarterly",
    re.IGNORECASE,
)
_DATE_EDGES = re.compile(r"^(?:the\s+)|(?:'s|'|\s+or|\s+and|,)$", re.IGNORECASE)
# "account 100234", "account number: 100234" (the ruler covers "ACC-100234" and "acc 100234").
_BARE_ACCOUNT = re.compile(
    r"\b(?:account|acct)(?:\s+(?:number|no\.?|#))?(?:\s+is)?[\s#:]*(?P<digits>\d{6})\b", re.IGNORECASE
)


def _trimmed_date(text: str, entity: dict) -> dict | None:
    start, end = entity["start"], entity["end"]
    while True:
        match = _DATE_EDGES.search(text[start:end])
        if not match or match.end() == match.start():
            break
        if match.start() == 0:
            start += match.end()
        else:
            end = start + match.start()
    value = text[start:end]
    if not value or _NOT_A_DATE_NUMBER.search(value) or _FREQUENCY.fullmatch(value.strip()):
        return None
    return {**entity, "start": start, "end": end, "value": value}


def refine_entities(text: str, entities: list[dict]) -> list[dict]:
    """spaCy's spans, corrected for billing text (see the module docstring)."""
    refined = []
    accounts = [m.span("digits") for m in _BARE_ACCOUNT.finditer(text)]
    for entity in entities:
        overlaps_account = any(entity["start"] < end and start < entity["end"] for start, end in accounts)
        if entity["entity"] == "MONEY":
            start = entity["start"]
            while start > 0 and text[start - 1] in _CURRENCY_SIGNS:
                start -= 1
            entity = {**entity, "start": start, "value": text[start:entity["end"]]}
        elif entity["entity"] == "DATE":
            entity = None if overlaps_account else _trimmed_date(text, entity)
        elif overlaps_account and entity["entity"] != "account_number":
            entity = None
        if entity is not None:
            refined.append(entity)
    known = {(e["start"], e["end"]) for e in refined if e["entity"] == "account_number"}
    template = {"confidence": None}  # the extractor names it (bot/components/spacy_entities.py)
    for start, end in accounts:
        if (start, end) not in known and not any(e["start"] <= start and end <= e["end"] for e in refined
                                                 if e["entity"] == "account_number"):
            refined.append({**template, "entity": "account_number", "start": start, "end": end,
                            "value": text[start:end]})
    return sorted(refined, key=lambda e: e["start"])
