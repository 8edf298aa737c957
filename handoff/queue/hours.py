"""Business hours: "24/7" or "mon-fri 08:00-18:00; sat 09:00-13:00", evaluated in a configured time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_RULE = re.compile(r"^(?P<days>[a-z]{3}(?:-[a-z]{3})?(?:,[a-z]{3}(?:-[a-z]{3})?)*)\s+"
                   r"(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})$")


class BusinessHoursError(ValueError):
    pass


@dataclass(frozen=True)
class OpeningWindow:
    weekday: int  # Monday = 0
    start: time
    end: time


@dataclass(frozen=True)
class BusinessHours:
    always_open: bool
    windows: tuple[OpeningWindow, ...]


def _parse_time(value: str) -> time:
    hours, minutes = (int(part) for part in value.split(":"))
    if hours == 24 and minutes == 0:
        return time.max
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise BusinessHoursError(f"'{value}' is not a time of day.")
    return time(hours, minutes)


def _expand_days(spec: str) -> list[int]:
    days: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise BusinessHoursError(f"'{part}' is not a day or a day range like mon-fri.")
        start, end = DAYS.index(first), DAYS.index(last or first)
        if end < start:
            raise BusinessHoursError(f"'{part}' runs backwards.")
        days.extend(range(start, end + 1))
    return days


def parse_business_hours(spec: str) -> BusinessHours:
    normalized = spec.strip().lower()
    if normalized in {"24/7", "always"}:
        return BusinessHours(always_open=True, windows=())
    windows: list[OpeningWindow] = []
    for rule in filter(None, (part.strip() for part in normalized.split(";"))):
        match = _RULE.match(rule)
        if not match:
            raise BusinessHoursError(
                f"Cannot read business hours rule '{rule}'; expected e.g. 'mon-fri 08:00-18:00'.")
        start, end = _parse_time(match["start"]), _parse_time(match["end"])
        if end <= start:
            raise BusinessHoursError(f"Rule '{rule}' closes before it opens.")
        windows.extend(OpeningWindow(day, start, end) for day in _expand_days(match["days"]))
    if not windows:
        raise BusinessHoursError("Business hours are empty; use '24/7' to stay open.")
    return BusinessHours(always_open=False, windows=tuple(windows))


def is_open(hours: BusinessHours, *, now: datetime, timezone: str) -> bool:
    if hours.always_open:
        return True
    local = now.astimezone(ZoneInfo(timezone))
    return any(
        window.weekday == local.weekday() and window.start <= local.time() < window.end
        for window in hours.windows
    ) or any(
        window.weekday == local.weekday() and window.end == time.max and local.time() >= window.start
        for window in hours.windows
    )


def next_opening(hours: BusinessHours, *, now: datetime, timezone: str) -> datetime | None:
    """The next moment the desk opens (aware, in the configured zone); None when always open."""
    if hours.always_open:
        return None
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    for day_offset in range(0, 8):
        day = (local + timedelta(days=day_offset)).date()
        starts = sorted(w.start for w in hours.windows if w.weekday == day.weekday())
        for start in starts:
            candidate = datetime.combine(day, start, tzinfo=zone)
            if candidate > local:
                return candidate
    return None
