"""Redact card and bank account numbers from customer text before it is stored, shown to the bot or logged."""

from __future__ import annotations

import re

# 13-19 digits, optionally grouped by single spaces or dashes: card numbers.
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
# 9-12 contiguous digits: US bank account (and routing) numbers. Shorter runs are ours
# (ACC-123456, INV-2025-000123, postal codes, phone last four) and are left alone.
_BANK_ACCOUNT = re.compile(r"(?<![\w-])\d{9,12}(?![\w-])")
# IBAN: country code, check digits, 11-30 alphanumerics in optional groups of four, in either case (people
# type "gb82 west ..."); only masked when the rest holds at least 8 digits, so words are never taken for one.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b", re.IGNORECASE)
# A bank account number of 7-8 digits is only recognisable by the words before it ("checking account 73920418").
# Our own account numbers are ACC- plus 6 digits and stay readable.
_NAMED_BANK_ACCOUNT = re.compile(
    r"(?i)\b(?:account|acct|a/c|checking|savings|routing|aba)\b(?:\s*(?:number|no\.?|#|is|:))*\s*(\d{7,8})(?![\w-])")


def _mask_keeping_last_four(match: re.Match[str]) -> str:
    text = match.group(0)
    significant = [i for i, ch in enumerate(text) if ch.isalnum()]
    keep = set(significant[-4:])
    return "".join(ch if (i in keep or not ch.isalnum()) else "*" for i, ch in enumerate(text))


def _mask_iban(match: re.Match[str]) -> str:
    digits = sum(ch.isdigit() for ch in match.group(0)[4:])
    return _mask_keeping_last_four(match) if digits >= 8 else match.group(0)


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
