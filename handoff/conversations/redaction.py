"""Redact card and bank account numbers from customer text before it is stored, shown to the bot or logged."""

from __future__ import annotations

import re

# 13-19 digits, optionally grouped by single spaces or dashes: card numbers.
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
# 9-12 contiguous digits: US bank account (and routing) numbers. Shorter runs are ours
# (ACC-123456, INV-2025-000123, postal codes, phone last four) and are left alone.
_BANK_ACCOUNT = re.compile(r"(?<![\w-])\d{9,12}(?![\w-])")
# IBAN: country code, check digits, 11-30 alphanumerics in optional groups of four.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")


def _mask_keeping_last_four(match: re.Match[str]) -> str:
    text = match.group(0)
    significant = [i for i, ch in enumerate(text) if ch.isalnum()]
    keep = set(significant[-4:])
    return "".join(ch if (i in keep or not ch.isalnum()) else "*" for i, ch in enumerate(text))


def redact(text: str) -> str:
    """`4111 1111 1111 1111` -> `**** **** **** 1111`; separators are kept so the shape stays readable."""
    if not text:
        return text
    text = _IBAN.sub(_mask_keeping_last_four, text)
    text = _CARD.sub(_mask_keeping_last_four, text)
    return _BANK_ACCOUNT.sub(_mask_keeping_last_four, text)
