"""Turn entity text from NLU into typed values: MONEY -> Decimal, DATE -> ISO date, ids -> canonical form."""

import calendar
import re
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from dateutil import parser as date_parser
from dateutil.relativedelta import relativedelta

CENT = Decimal("0.01")
_MONEY_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")
_CENTS_WORDS = re.compile(r"\b(cents?|¢)\b", re.IGNORECASE)
# "today", "yesterday", ...: how many days back they are
_DAYS_BACK = {"today": 0, "now": 0, "yesterday": 1, "day before yesterday": 2, "before yesterday": 2}
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "a": 1, "an": 1,
}
_ACCOUNT = re.compile(r"\bacc(?:ount)?[\s#:-]*(\d{6})\b|\b(\d{6})\b", re.IGNORECASE)
_ACCOUNT_WITH_PREFIX = re.compile(
    r"\bacc(?:ount)?(?:\s*(?:number|no\.?|#))?(?:\s+is)?[\s#:-]*(\d{6})\b", re.IGNORECASE
)
_INVOICE = re.compile(r"\binv[\s-]*(\d{4})[\s-]*(\d{6})\b", re.IGNORECASE)
_US_ZIP = re.compile(r"\b\d{5}(?:-\d{4})?\b")
_UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b")
_CA_POSTCODE = re.compile(r"\b[A-Z]\d[A-Z] ?\d[A-Z]\d\b")

# Canonical charge types from the contract; NLU synonyms normally map these already,
# this is the safety net for text the synonym table does not cover.
CHARGE_TYPE_SYNONYMS = {
    "late_fee": ["late fee", "late payment charge", "late payment fee", "late charge", "penalty"],
    "plan": ["plan", "monthly plan", "subscription", "monthly fee", "plan charge", "service plan"],
    "usage": ["usage", "overage", "data overage", "extra data", "usage charge", "data usage"],
    "one_time": ["one time", "one-time", "one time charge", "activation fee", "setup fee", "installation"],
    "equipment": ["equipment", "device", "router", "modem", "equipment rental", "device payment"],
    "tax": ["tax", "taxes", "regulatory fee", "regulatory fees", "surcharge", "fees and taxes"],
    "proration": ["proration", "prorated", "prorated charge", "partial month", "pro rata"],
    "discount": ["discount", "promo", "promotion", "promotional discount", "promotional credit"],
    "credit": ["credit", "refund credit", "account credit"],
}


def normalise_money(text: str | None) -> Decimal | None:
    """"$45", "45 dollars", "45.5", "1,234.50 USD" -> Decimal with two places; None if no number."""
    if not text:
        return None
    match = _MONEY_NUMBER.search(text.replace(" ", "") if "," in text else text)
    if match is None:
        return None
    try:
        value = Decimal(match.group(0).replace(",", ""))
    except InvalidOperation:
        return None
    if _CENTS_WORDS.search(text) and "." not in match.group(0) and not re.search(r"dollar|\$", text, re.I):
        value = value / 100
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# A bare amount with two decimals ("what is the 19.99 one"): no MONEY entity by the contract, but still the
# amount the customer means; not a time, date or quantity ("10.30 am", "12.05.2026", "12.40 GB").
_BARE_AMOUNT = re.compile(
    r"(?<![\w.,/$£€-])(\d{1,5}\.\d{2})(?![\d.,/%]?\d|%)"
    r"(?!\s?(?:am|pm|a\.m|p\.m|gb|mb|gigs?|mins?|minutes?|hours?|hrs?|kwh|mbps|percent)\b)",
    re.IGNORECASE,
)


def bare_amounts(text: str | None) -> list[str]:
    """The bare two-decimal amounts of a message ("i paid 45.99 yesterday"), for an action that needs the
    amount when NLU gave no MONEY entity (a bare number is none: docs/contracts.md, "Entities")."""
    return [] if not text or text.startswith("/") else [m.group(1) for m in _BARE_AMOUNT.finditer(text)]


_PART_OF_DAY = re.compile(r"(?:(.+?) )?(?:morning|afternoon|evening|night)")


def without_part_of_day(cleaned: str) -> str:
    """A DATE entity may name a part of a day (docs/contracts.md, "Entities"): "tomorrow morning" ->
    "tomorrow", "this evening" and "tonight" -> "today", "last night" -> "yesterday"."""
    if cleaned == "tonight":
        return "today"
    part = _PART_OF_DAY.fullmatch(cleaned)
    if part is None:
        return cleaned
    day = part.group(1) or "today"
    return {"this": "today", "last": "yesterday"}.get(day, day)


def normalise_date(text: str | None, *, today: date | None = None) -> date | None:
    """Billing dates lie in the past: "march 3" is the latest March 3 not after today.

    Handles "today", "yesterday", "day before yesterday", "N days/weeks ago", weekday names
    ("tuesday", "last tuesday") and anything dateutil parses ("Oct 3rd", "2025-10-03", "3/10").
    A month alone ("october") is too vague for a charge date and gives None.
    """
    if not text:
        return None
    today = today or date.today()
    cleaned = re.sub(r"\b(on|the|of|this past|past)\b", " ", text.strip().lower())
    cleaned = without_part_of_day(re.sub(r"\s+", " ", cleaned).strip())
    if cleaned in _DAYS_BACK:
        return today - timedelta(days=_DAYS_BACK[cleaned])
    ago = re.fullmatch(r"(\d+|[a-z]+) (day|week|month)s? ago", cleaned)
    if ago:
        return _ago(ago, today)
    weekday = re.fullmatch(r"(last )?(" + "|".join(_WEEKDAYS) + ")", cleaned)
    if weekday:
        target = _WEEKDAYS.index(weekday.group(2))
        days_back = (today.weekday() - target) % 7
        if weekday.group(1) and days_back == 0:
            days_back = 7
        return today - timedelta(days=days_back)
    return _calendar_date(cleaned, today)


def _ago(ago: re.Match[str], today: date) -> date | None:
    """"3 days ago", "two weeks ago", "a month ago"."""
    count = int(ago.group(1)) if ago.group(1).isdigit() else _WORD_NUMBERS.get(ago.group(1))
    if count is None:
        return None
    unit = ago.group(2)
    if unit == "day":
        return today - timedelta(days=count)
    if unit == "week":
        return today - timedelta(weeks=count)
    return today - relativedelta(months=count)


def _calendar_date(cleaned: str, today: date) -> date | None:
    """"Oct 3rd", "2025-10-03", "3/10": the latest such day not after today when no year is given."""
    if not re.search(r"\d", cleaned):
        return None  # "october", "last month": no day to match a charge on
    day_only = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?", cleaned)
    if day_only:
        return _latest_day_of_month(int(day_only.group(1)), today)
    try:
        default = date(today.year, today.month, 1)
        parsed = date_parser.parse(cleaned, default=_as_datetime(default), fuzzy=True).date()
    except (ValueError, OverflowError):
        return None
    has_year = re.search(r"\b\d{4}\b", cleaned) is not None
    if not has_year and parsed > today:
        parsed = parsed - relativedelta(years=1)
    return parsed


def _latest_day_of_month(day: int, today: date) -> date | None:
    """ "(the) 3rd": the latest 3rd of a month not after today (last month's when today is the 2nd)."""
    for months_back in range(13):
        month = date(today.year, today.month, 1) - relativedelta(months=months_back)
        if 1 <= day <= calendar.monthrange(month.year, month.month)[1] and month.replace(day=day) <= today:
            return month.replace(day=day)
    return None


def _as_datetime(value: date) -> datetime:
    return datetime(value.year, value.month, value.day)


def normalise_charge_name(text: str | None) -> str | None:
    """Charge words -> canonical charge type ("late payment charge" -> "late_fee"); else the text itself."""
    if not text:
        return None
    lowered = re.sub(r"\s+", " ", text.strip().lower())
    if lowered.replace(" ", "_") in CHARGE_TYPE_SYNONYMS:
        return lowered.replace(" ", "_")
    for charge_type, phrases in CHARGE_TYPE_SYNONYMS.items():
        if lowered in phrases:
            return charge_type
    for charge_type, phrases in CHARGE_TYPE_SYNONYMS.items():
        if any(re.search(rf"\b{re.escape(phrase)}\b", lowered) for phrase in phrases):
            return charge_type
    return lowered


# Words that name a charge type inside a sentence; "credit" alone is left out ("credit card").
_CHARGE_WORDS_IN_TEXT = {
    charge_type: [phrase for phrase in phrases if phrase not in {"credit", "plan"}]
    for charge_type, phrases in CHARGE_TYPE_SYNONYMS.items()
}
_CHARGE_WORDS_IN_TEXT["plan"] += ["plan charge", "plan fee"]


def charge_type_in_text(text: str | None) -> str | None:
    """The charge type a sentence names ("what is the late payment charge?" -> "late_fee"), when NLU gave
    no entity."""
    if not text or text.startswith("/"):
        return None
    lowered = text.lower()
    for charge_type, phrases in _CHARGE_WORDS_IN_TEXT.items():
        if any(re.search(rf"\b{re.escape(phrase)}\b", lowered) for phrase in phrases):
            return charge_type
    return None


def normalise_account_number(text: str | None) -> str | None:
    """"acc 100234", "ACC-100234", "100234" -> "ACC-100234"; None when no 6-digit account number."""
    if not text:
        return None
    match = _ACCOUNT.search(text)
    if match is None:
        return None
    return f"ACC-{match.group(1) or match.group(2)}"


def normalise_invoice_number(text: str | None) -> str | None:
    """"inv 2025 000123", "INV-2025-000123" -> "INV-2025-000123"."""
    if not text:
        return None
    match = _INVOICE.search(text)
    if match is None:
        return None
    return f"INV-{match.group(1)}-{match.group(2)}"


def split_postal_code_or_phone(text: str | None) -> tuple[str, str] | None:
    """The second verification answer, only when it is well formed: the phone's last 4 digits or a postal
    code.

    Returns ("phone_last4", "1234") or ("postal_code", "94107"); None if the message is neither, so that
    an unreadable answer never costs a verification attempt at the backend.
    """
    if not text or text.lstrip().startswith("/"):
        return None
    upper = text.strip().upper()
    tokens = re.findall(r"[A-Z0-9]+", upper)
    digit_tokens = [token for token in tokens if token.isdigit()]
    four_digits = [token for token in digit_tokens if len(token) == 4]
    mentions_postal = re.search(r"POST|ZIP", upper) is not None
    mentions_phone = re.search(r"PHONE|MOBILE|CELL|LAST|DIGIT|ENDS?\b|ENDING|NUMBER", upper) is not None
    if not mentions_postal and len(four_digits) == 1 and (mentions_phone or len(digit_tokens) == 1):
        return ("phone_last4", four_digits[0])  # "4821", "the last four are 4821", "ends in 4821"
    for pattern in (_US_ZIP, _UK_POSTCODE, _CA_POSTCODE):
        match = pattern.search(upper)
        if match:
            return ("postal_code", match.group(0))
    if not mentions_postal:
        if mentions_phone and len(digit_tokens) == 1 and len(digit_tokens[0]) >= 7:
            return ("phone_last4", digit_tokens[0][-4:])  # "my phone number is 4155554821"
        if re.fullmatch(r"\+?[\d\s().-]{7,}", text.strip()) and len("".join(digit_tokens)) >= 7:
            return ("phone_last4", "".join(digit_tokens)[-4:])  # "(415) 555-4821": the whole number
    coded = [token for token in tokens if re.search(r"\d", token) and 3 <= len(token) <= 10]
    if mentions_postal and len(coded) == 1:
        return ("postal_code", coded[0])  # "postcode 2000": said to be a postal code
    return None


def account_number_in_text(text: str | None) -> str | None:
    """An account number written out with its prefix ("ACC-100234", "acc 100234"), else None."""
    if not text or text.lstrip().startswith("/"):
        return None
    match = _ACCOUNT_WITH_PREFIX.search(text)
    return f"ACC-{match.group(1)}" if match else None


def without_account_number(text: str) -> str:
    """The text around an account number; separators left at either end go too ("ACC100002 / 10001" ->
    "10001"), so what remains is not taken for a button payload."""
    return _ACCOUNT.sub(" ", text).strip(" \t/,;:|&+-")
