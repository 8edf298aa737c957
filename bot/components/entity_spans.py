"""Entity spans corrected for billing text, after spaCy's NER (used by CasedSpacyEntityExtractor).

Measured on the independent development set (tests/nlu/dev, `bench/entities.py`): en_core_web_sm's MONEY spans
leave out the currency sign and keep words like "about"; amounts in words or codes ("40 quid", "EUR 30") and
plain two-decimal amounts are missed; postal codes and phone digits come out as DATE, "account 100234" is a
DATE, and frequencies ("monthly", "each month") are tagged as dates although no date can be read from them.
Days of the month ("on the 15th": an ORDINAL to spaCy), "3rd march", "12/05" and parts of a day ("this
morning", "tonight": TIME) are missed as dates.

So, after NER, a few deterministic rules (regular expressions over the text, below) find the MONEY and DATE
forms billing customers write; a rule's span replaces any NER span it overlaps, and NER's remaining spans are
trimmed to the same convention (docs/contracts.md, "Entities": the frozen set's annotation guidelines,
spaCy's own): a DATE keeps its determiner "the" ("on [the 15th]", "[the end of the month]", "over [the
weekend]") but no preposition and no possessive; a MONEY span is the amount with its currency sign, code or
word and nothing else, and a bare number ("12.50") is no money. Plain Python, so it is tested without Rasa
(tests/bot/test_entity_spans.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# Rasa's entity dict ("entity", "start", "end", "value", ...) and a (start, end, label) span.
Entity = dict[str, Any]
Span = tuple[int, int, str]
_CURRENCY_SIGNS = "$£€"
# The entity_ruler's labels: the rules below never override them.
_RULER_LABELS = {"account_number", "invoice_number", "charge_name"}

# Digits that are not a date: a run of 5+ (postal codes, account digits) or 4 that are not a year, or a
# number of up to 3 digits alone ("bill was 40 last month and 65 now": an amount).
_NOT_A_DATE_NUMBER = re.compile(r"\d{5,}|(?<!\d)(?!19\d\d|20\d\d)\d{4}(?!\d)|^\d{1,3}$")
_FREQUENCY = re.compile(
    r"(?:each|every|per|a|an|the)?\s*(?:day|week|month|year)|daily|weekly|monthly|yearly|annually|quarterly",
    re.IGNORECASE,
)
_DATE_EDGES = re.compile(
    r"^(?:on|by|until|since|from|in|at)\s+|(?:'s|'|\s+or|\s+and|,|\s+of\s+(?:each|every)\s+month)$",
    re.IGNORECASE,
)
# NER dates that name no day: "payday", "the last day (to pay)", "more than", a time of day alone ("good
# evening", "overnight": the contract; "this morning" is a day, by a rule).
_DATELESS = re.compile(r"(?:the\s+)?(?:next\s+)?payday|a\s+little\s+(?:later|longer|while)|"
                       r"(?:the\s+)?(?:last|first)\s+day|more\s+than|less\s+than|"
                       r"(?:good\s+)?(?:morning|afternoon|evening|night)|overnight", re.I)
# Durations are no dates (contract; "three days ago" is, by a rule): "two months", "another week", "an extra
# few days", "45 unused days", "all week", "a fortnight".
_DURATION = re.compile(
    r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|twelve|another|an?\s+extra|extra|a\s+few|"
    r"an?\s+extra\s+few|a\s+couple\s+(?:of\s+)?|several|all|a\s+whole|the\s+whole|(?:\d+|a)\s+more)"
    r"(?:\s+\w+)?\s+(?:days?|weeks?|fortnights?|months?|years?)|(?:a|one)\s+fortnight",
    re.IGNORECASE,
)
# "account 100234", "account number: 100234", "acc no is 100234", "a/c 100234", "customer number 100234" (the
# ruler covers "ACC-100234" and "acc 100234").
_BARE_ACCOUNT = re.compile(
    r"\b(?:account|acct|acc|a/c|customer)(?:'s|\.)?(?:\s*(?:number|num|no\.?|nr\.?|id|#))?(?:'s|\s+is)?[\s#:.-]*"
    r"(?P<digits>\d{6})\b",
    re.IGNORECASE,
)
# 6 digits given as the account number without the word before them: the whole answer ("100234", "it's
# 100234"), the first of two answers ("100234, 94107"), or before the word ("100234 is my account"); never
# right after a postal-code, phone, card, order or reference word ("my pin code is 560001").
_GIVEN_ACCOUNT = re.compile(
    r"^\s*(?:(?:it'?s|it\s+is|that'?s|sure|yes|ok(?:ay)?|here)[\s,:-]+)?(?P<digits>\d{6})"
    r"(?:\s*[.!]?\s*$|\s*[,;/]|\s+and\b)"
    r"|(?<![\w-])(?P<before>\d{6})\s+(?:is|=)\s+(?:my|the|our)\s+(?:account|acc|a/c|customer)\b",
    re.IGNORECASE,
)
_NOT_AN_ACCOUNT_WORD = re.compile(
    r"post|zip|pin\b|phone|mobile|card|order|ref|ticket|tracking|invoice|inv\b|code", re.IGNORECASE
)
# "ACC" + an en or em dash, "_", "#" or ":" + 6 digits: spaCy's tokenizer does not split those like a hyphen.
_PREFIXED_ACCOUNT = re.compile(r"\bACC\s?[\u2013\u2014_#:]\s?\d{6}\b", re.IGNORECASE)

# --- MONEY --------------------------------------------------------------------------------
_AMOUNT = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?(?![\d,.]?\d)"
_CURRENCY_WORD = r"(?:dollars?|bucks|quid|pounds?|euros?|cents?|pence|usd|gbp|eur|cad|aud)\b"
_MONEY_RULES = (
    # "$175", "£ 40.50", "€30", "$30 USD"
    re.compile(rf"(?<![\w$£€])[$£€]\s?{_AMOUNT}(?:\s?(?:usd|gbp|eur)\b)?", re.IGNORECASE),
    # "EUR 30", "USD 1,200.00", "US$ 20"
    re.compile(rf"\b(?:usd|gbp|eur|cad|aud|us\$)\s?{_AMOUNT}", re.IGNORECASE),
    # "175 dollars", "40 quid", "30 euros", "30€", "45$", "50 cents"; a bare "12.50" is no money (contract)
    re.compile(rf"(?<![\w.,$£€]){_AMOUNT}\s?(?:{_CURRENCY_WORD}|[$€£](?!\w))", re.IGNORECASE),
)
# What makes an NER MONEY span money: a currency sign, code or word ("seventy dollars", "forty bucks").
_CURRENCY_MARK = re.compile(rf"[$£€¢]|\b(?:{_CURRENCY_WORD}|grand\b|\d+p\b)", re.IGNORECASE)
# Words NER keeps in a MONEY span that are not the amount: "about $50", "an extra $15", "over $".
_MONEY_QUALIFIER = re.compile(
    r"^(?:about|around|approx\.?|approximately|roughly|nearly|almost|over|under|only|just|some|another|"
    r"more\s+than|less\s+than|up\s+to|at\s+least|at\s+most|an?\s+extra|extra|a\s+further|the|a|an)\s+",
    re.IGNORECASE,
)
_NUMBER_WORD = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|"
    r"fifty|sixty|seventy|eighty|ninety|hundred|thousand|a\s+(?:hundred|thousand|grand))\b",
    re.IGNORECASE,
)

# --- DATE ---------------------------------------------------------------------------------
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_WEEKDAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_DAY_NUMBER = r"(?:3[01]|[12]\d|0?[1-9])"
_ORDINAL_DAY = rf"{_DAY_NUMBER}(?:st|nd|rd|th)"
_ORDINAL_WORD = (
    r"(?:(?:twenty|thirty)[\s-]?)?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|tenth|"
    r"eleventh|twelfth|(?:thir|four|fif|six|seven|eigh|nine)teenth|twentieth|thirtieth"
)
# Before "the 15th": the words after which an ordinal is a day of the month.
_DAY_PREPOSITION = r"(?:on|by|until|till|til|before|after|since|from|due|around)"
_YEAR = r"(?:,?\s+(?:19|20)\d\d)"
# After a day number, not an amount ("march 40 dollars") nor a count of something.
_NOT_AN_AMOUNT = rf"(?![\d.,]?\d)(?!\s?(?:%|{_CURRENCY_WORD}))"
# Nouns an ordinal counts ("the 3rd time", "the 2nd instalment"): then it is no day of the month.
_COUNTED = (
    r"(?:times?|tries|try|attempts?|instal+ments?|payments?|bills?|invoices?|statements?|months?|weeks?|"
    r"years?|days?|calls?|charges?|ones?|lines?|items?|reminders?|notices?|letters?|emails?|texts?|quarters?|"
    r"floors?|places?|person|party|account|card|digits?|numbers?|options?|page|row|column|step)\b"
)
_DATE_RULES = (
    # "3rd march", "3 march 2026", "(the) 3rd of march"
    re.compile(rf"(?<![$£€\d.,])(?:\bthe\s+)?\b{_DAY_NUMBER}(?:st|nd|rd|th)?(?:\s+of)?\s+{_MONTH}\b\.?{_YEAR}?",
               re.IGNORECASE),
    # "march 3rd", "November 28", "Dec. 5, 2026", "march the 3rd"
    re.compile(rf"\b{_MONTH}\.?\s+(?:the\s+)?{_DAY_NUMBER}(?:st|nd|rd|th)?\b{_NOT_AN_AMOUNT}{_YEAR}?",
               re.IGNORECASE),
    # "(on) the 15th", "by the 1st of next month", "due 5th", "on the fifth": a day of the month, not a count;
    # "the" is part of the date, the preposition is not
    re.compile(
        rf"(?:\b{_DAY_PREPOSITION}\s+|^|(?=\bthe\s))(?P<day>(?:the\s+)?{_ORDINAL_DAY}\b"
        rf"(?:\s+of\s+(?:{_MONTH}\b{_YEAR}?|(?:the|this|next|last)\s+month\b))?)(?!\s+{_COUNTED})",
        re.IGNORECASE,
    ),
    re.compile(
        rf"\b{_DAY_PREPOSITION}\s+(?P<day>the\s+(?:{_ORDINAL_WORD})\b"
        rf"(?:\s+of\s+(?:{_MONTH}\b{_YEAR}?|(?:the|this|next|last)\s+month\b))?)(?!\s+{_COUNTED})",
        re.IGNORECASE,
    ),
    # "12/05", "05/11/2026", "2026-11-05", "05.11.2026"
    re.compile(r"(?<![\w/.-])(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?|\d{1,2}\.\d{1,2}\.\d{4})"
               r"(?![\w/]|[.-]\d)"),
    # "today", "tonight", "tomorrow morning", "yesterday afternoon", "last night", "this morning"
    re.compile(
        rf"\b(?:(?:the\s+)?day\s+(?:before\s+yesterday|after\s+tomorrow)|tonight|last\s+night|"
        rf"(?:(?:this|tomorrow|yesterday|today|{_WEEKDAY})\s+)(?:morning|afternoon|evening|night)|"
        rf"today|tomorrow|yesterday)\b",
        re.IGNORECASE,
    ),
    # "next friday", "this month", "last week", "this coming monday", "monday the 3rd", "tuesday, march 4"
    re.compile(
        rf"\b(?:(?:this\s+coming|this\s+past|this|next|last|coming|previous)\s+)?{_WEEKDAY}\b"
        rf"(?:,?\s+(?:the\s+)?{_ORDINAL_DAY}\b(?:\s+(?:of\s+)?{_MONTH}\b)?"
        rf"|,?\s+{_MONTH}\.?\s+{_DAY_NUMBER}(?:st|nd|rd|th)?\b{_NOT_AN_AMOUNT})?{_YEAR}?|"
        rf"\b(?:(?:the\s+)?(?:next|last|previous|past|following)|this)\s+(?:week(?:end)?|month|year)(?='?s?\b)"
        rf"|\bthe\s+weekend\b",
        re.IGNORECASE,
    ),
    # "the end of the month", "start of next month"
    re.compile(r"\b(?:the\s+(?:very\s+)?)?(?:end|beginning|start|middle)\s+of\s+(?:(?:the|this|next|last)\s+)?(?:week|month|year)\b",
               re.IGNORECASE),
    # "three days ago", "a couple of weeks ago"
    re.compile(r"\b(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|a\s+few|a\s+couple\s+of)"
               r"\s+(?:days?|weeks?|fortnights?|months?|years?)\s+ago\b", re.IGNORECASE),
)
_NOT_A_DATE = re.compile(r"24/7|\d/\d")  # "24/7 support", fractions ("1/2"): fewer than 3 digits
# ... unless a word before it says it is a day: "the charge from 3/2", "paid on 4/5".
_DATE_BEFORE = re.compile(r"\b(?:on|from|since|dated)\s+$", re.IGNORECASE)
# A card's expiry ("exp 04/29") is no billing date.
_EXPIRY_BEFORE = re.compile(r"\b(?:exp|expiry|expiring|expires|valid\s+thru)\.?\s*:?\s*$", re.IGNORECASE)


def _rule_spans(text: str) -> Iterator[Span]:
    for label, rules in (("MONEY", _MONEY_RULES), ("DATE", _DATE_RULES)):
        for rule in rules:
            for match in rule.finditer(text):
                if label == "DATE" and (
                    (_NOT_A_DATE.fullmatch(match.group(0)) and not _DATE_BEFORE.search(text[:match.start()]))
                    or _EXPIRY_BEFORE.search(text[:match.start()])
                ):
                    continue
                group = "day" if "day" in rule.groupindex else 0
                yield match.start(group), match.end(group), label


def _without_overlaps(spans: list[Span]) -> list[Span]:
    """The longest spans first, as spaCy's filter_spans: a span overlapping one already taken is left out."""
    taken: list[Span] = []
    for span in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):
        if not any(span[0] < end and start < span[1] for start, end, _ in taken):
            taken.append(span)
    return sorted(taken)


def _overlaps(entity: Entity, spans: list[Span]) -> bool:
    return any(entity["start"] < end and start < entity["end"] for start, end, _ in spans)


def _trimmed_date(text: str, entity: Entity) -> Entity | None:
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
    if (not value or _NOT_A_DATE_NUMBER.search(value) or _FREQUENCY.fullmatch(value.strip())
            or _DATELESS.fullmatch(value.strip()) or _DURATION.fullmatch(value.strip())
            or text[:start].rstrip().endswith("*")):  # a masked card's last digits ("**** 2007")
        return None
    return {**entity, "start": start, "end": end, "value": value}


def _trimmed_money(text: str, entity: Entity) -> Entity | None:
    start, end = entity["start"], entity["end"]
    while start > 0 and text[start - 1] in _CURRENCY_SIGNS:
        start -= 1
    while match := _MONEY_QUALIFIER.match(text[start:end]):
        start += match.end()
    value = text[start:end]
    if not _NUMBER_WORD.search(value) or not _CURRENCY_MARK.search(value):
        return None  # no amount ("over $"), or a bare number ("paid 40"): no money (contract)
    return {**entity, "start": start, "value": value}


def _account_spans(text: str) -> list[tuple[int, int]]:
    found = [(*m.span("digits"), "account_number") for m in _BARE_ACCOUNT.finditer(text)]
    found += [(*m.span(), "account_number") for m in _PREFIXED_ACCOUNT.finditer(text)]
    found += [(*m.span(m.lastgroup or 0), "account_number") for m in _GIVEN_ACCOUNT.finditer(text)
              if not _NOT_AN_ACCOUNT_WORD.search(text[max(0, m.start() - 30):m.start(m.lastgroup or 0)])]
    return [(start, end) for start, end, _ in _without_overlaps(found)]


def _refined(text: str, entity: Entity, rules: list[Span], accounts: list[tuple[int, int]]) -> Entity | None:
    """One NER or ruler entity after the rules: kept, trimmed to the convention, or dropped (None)."""
    overlaps_account = any(entity["start"] < end and start < entity["end"] for start, end in accounts)
    if entity["entity"] not in _RULER_LABELS and _overlaps(entity, rules):
        return None  # a rule found money or a date here: NER's span ("EUR" as ORG, "9th" ORDINAL) goes
    if entity["entity"] == "MONEY":
        return _trimmed_money(text, entity)
    if entity["entity"] == "DATE":
        return None if overlaps_account else _trimmed_date(text, entity)
    if overlaps_account and entity["entity"] != "account_number":
        return None
    return entity


def refine_entities(text: str, entities: list[Entity]) -> list[Entity]:
    """spaCy's spans, corrected for billing text (see the module docstring)."""
    accounts = _account_spans(text)
    ruler = [(e["start"], e["end"], e["entity"]) for e in entities if e["entity"] in _RULER_LABELS]
    blocked = ruler + [(start, end, "account_number") for start, end in accounts]
    rules = _without_overlaps([span for span in _rule_spans(text) if not _overlaps(
        {"start": span[0], "end": span[1]}, blocked)])
    template: Entity = {"confidence": None}  # the extractor names it (bot/components/spacy_entities.py)
    refined = [{**template, "entity": label, "start": start, "end": end, "value": text[start:end]}
               for start, end, label in rules]
    refined += [kept for entity in entities if (kept := _refined(text, entity, rules, accounts)) is not None]
    known = [(e["start"], e["end"]) for e in refined if e["entity"] == "account_number"]
    for start, end in accounts:
        if not any(s <= start and end <= e for s, e in known):
            refined.append({**template, "entity": "account_number", "start": start, "end": end,
                            "value": text[start:end]})
            known.append((start, end))
    return sorted(refined, key=lambda e: int(e["start"]))
