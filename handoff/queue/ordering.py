"""Queue priority, positions and expected waits: pure functions, unit tested."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

# Disputes first, then tickets from an earlier shift, then plain requests.
CLASS_DISPUTE, CLASS_TICKET, CLASS_REQUEST = 0, 1, 2
# Within disputes: one point per dollar (capped so one huge claim cannot starve everyone)
# plus DISPUTE_POINTS_PER_MINUTE for every minute waited, highest score first.
DISPUTE_AMOUNT_CAP = Decimal("1000")
DISPUTE_POINTS_PER_MINUTE = Decimal("10")


@dataclass(frozen=True)
class QueueEntry:
    conversation_id: str
    state: str  # queued or ticket
    reason: str | None
    dispute_amount: Decimal | None
    queued_at: datetime


def priority_class(entry: QueueEntry) -> int:
    if entry.state == "ticket":
        return CLASS_TICKET
    if entry.reason == "dispute":
        return CLASS_DISPUTE
    return CLASS_REQUEST


def dispute_score(entry: QueueEntry, *, now: datetime) -> Decimal:
    amount = min(entry.dispute_amount or Decimal("0"), DISPUTE_AMOUNT_CAP)
    minutes_waited = Decimal(max(0, int((now - entry.queued_at).total_seconds()))) / 60
    return amount + minutes_waited * DISPUTE_POINTS_PER_MINUTE


def sort_key(entry: QueueEntry, *, now: datetime) -> tuple:
    klass = priority_class(entry)
    score = dispute_score(entry, now=now) if klass == CLASS_DISPUTE else Decimal("0")
    return (klass, -score, entry.queued_at, entry.conversation_id)


def order_queue(entries: list[QueueEntry], *, now: datetime) -> list[QueueEntry]:
    return sorted(entries, key=lambda entry: sort_key(entry, now=now))


def position_of(conversation_id: str, ordered: list[QueueEntry]) -> int | None:
    """1-based position in the ordered queue, or None when not waiting."""
    for index, entry in enumerate(ordered, start=1):
        if entry.conversation_id == conversation_id:
            return index
    return None


def expected_wait_seconds(
    *, position: int, recent_handling_seconds: list[float], online_specialists: int,
    default_handling_seconds: int
) -> int:
    """position * median handling time / specialists online; a default until there are 3 samples."""
    if position <= 0:
        return 0
    enough_samples = len(recent_handling_seconds) >= 3
    handling = statistics.median(recent_handling_seconds) if enough_samples else default_handling_seconds
    return round(position * handling / max(1, online_specialists))


def wait_in_words(eta_seconds: int) -> str:
    """The expected wait as the customer reads it, in the status banner and in the bot's escalation message
    (the escalation answer carries this text, so both say the same)."""
    seconds = max(0, eta_seconds)
    if seconds < 60:
        return "less than a minute"
    minutes = (seconds + 30) // 60  # half up (Python's round() would make 150 s "2 minutes" and 210 s "4")
    if minutes < 60:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    hours = (minutes + 30) // 60
    return f"about {hours} hour{'s' if hours != 1 else ''}"
