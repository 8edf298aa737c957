"""Redact card and bank account numbers from customer text before it is stored, shown to the bot or logged."""

from __future__ import annotations

import re

# 13-19 digits, optionally grouped by single spaces or dashes: card numbers.
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
# 9-12 contiguous digits: US bank account (and routing) numbers. Shorter runs are ours
# (ACC-123456, INV-2025-000123, postal codes, phone last four) and are left alone.
_BANK_ACCOUNT = re.compile(r"(?<![\w-])\d{9,12}(?![\w-])")
# IBAN: country code, check digits, 11-30 alphanumerics in optional groups of four, in either case (people
# type "gb82 west ..."); only masked when the rest holds at least 8 digits, so words are never taken for one,
# and when the country code is an IBAN country and the number is not longer than that country's IBANs, so
# other ids are never taken for one (a conversation id is 32 hex characters: "eb34" + 28 more had the shape).
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b", re.IGNORECASE)
# Characters in an IBAN, by country (SWIFT IBAN registry).
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20,
    "EG": 29,
    "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28,
    "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30,
    "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28,
    "PS": 29,
    "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19,
    "SK": 24,
    "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24,
    "XK": 20,
    "YE": 30,
    # French overseas territories use France's format under their own code.
    "BL": 27, "GF": 27, "GP": 27, "MF": 27, "MQ": 27, "NC": 27, "PF": 27, "PM": 27, "RE": 27, "TF": 27,
    "WF": 27,
    "YT": 27,
}
# A bank account number of 7-8 digits is only recognisable by the words before it
# ("checking account 73920418").
# Our own account numbers are ACC- plus 6 digits and stay readable.
_NAMED_BANK_ACCOUNT = re.compile(
    r"(?i)\b(?:account|acct|a/c|checking|savings|routing|aba)\b(?:\s*(?:number|no\.?|#|is|:))*\s*(\d{7,8})(?![\w-])")


def _mask_keeping_last_four(match: re.Match[str]) -> str:
    return _mask_keeping_last_four_of(match.group(0))


def _mask_keeping_last_four_of(text: str) -> str:
    significant = [i for i, ch in enumerate(text) if ch.isalnum()]
    keep = set(significant[-4:])
    return "".join(ch if (i in keep or not ch.isalnum()) else "*" for i, ch in enumerate(text))


def _mask_iban(match: re.Match[str]) -> str:
    text = match.group(0)
    length = _IBAN_LENGTHS.get(text[:2].upper())
    if length is None or sum(ch.isdigit() for ch in text[4:]) < 8:
        return text
    significant = [i for i, ch in enumerate(text) if ch.isalnum()]
    if len(significant) <= length:  # a whole IBAN, or the start of one: mask it
        return _mask_keeping_last_four_of(text)
    end = significant[length - 1] + 1
    if text[end] == " ":  # an IBAN, then a word the pattern took for one more group ("BE68539007547034 send")
        return _mask_keeping_last_four_of(text[:end]) + text[end:]
    return text  # longer than any IBAN of that country: some other id


def _mask_named_account(match: re.Match[str]) -> str:
    number = match.group(1)
    return match.group(0)[: match.start(1) - match.start()] + "*" * (len(number) - 4) + number[-4:]


def redact(text: str) -> str:
    """`4111 1111 1111 1111` -> `**** **** **** 1111`; separators are kept so the shape stays readable."""
    if not text:
        return text
    text = _IBAN.sub(_mask_iban, text)
    text = _CARD.sub(_mask_keeping_last_four, text)
    text = _BANK_ACCOUNT.sub(_mask_keeping_last_four, text)
    return _NAMED_BANK_ACCOUNT.sub(_mask_named_account, text)
