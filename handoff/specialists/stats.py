"""Today's figures for the supervisor page (days start at midnight in the configured time zone)."""

from __future__ import annotations

import statistics
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from handoff.models import Conversation, Message


def start_of_day(now: datetime, timezone: str) -> datetime:
    zone = ZoneInfo(timezone)
    return datetime.combine(now.astimezone(zone).date(), time.min, tzinfo=zone)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def today_stats(session: Session, *, now: datetime, timezone: str) -> dict:
    day_start = start_of_day(now, timezone)
    has_customer_message = exists().where(Message.conversation_id == Conversation.id,
                                          Message.sender == "customer")
    chats = list(session.scalars(select(Conversation).where(Conversation.created_at >= day_start,
                                                            has_customer_message)))
    total = len(chats)
    escalated = [c for c in chats if c.escalation_count > 0]
    waits = [(c.first_assigned_at - c.queued_at).total_seconds() for c in escalated
             if c.first_assigned_at and c.queued_at and c.first_assigned_at >= c.queued_at]
    handling = [(c.resolved_at - c.first_assigned_at).total_seconds() for c in escalated
                if c.resolved_at and c.first_assigned_at]
    scores = [c.csat_score for c in chats if c.csat_score]
    zone = ZoneInfo(timezone)
    by_hour = [0] * 24
    for c in chats:
        by_hour[c.created_at.astimezone(zone).hour] += 1
    states: dict[str, int] = {}
    for c in chats:
        states[c.state] = states.get(c.state, 0) + 1
    return {
        "date": day_start.date().isoformat(),
        "timezone": timezone,
        "chats": total,
        "escalated": len(escalated),
        "bot_only_resolution_rate": round((total - len(escalated)) / total, 3) if total else None,
        "escalation_rate": round(len(escalated) / total, 3) if total else None,
        "median_wait_seconds": _median(waits),
        "median_handling_seconds": _median(handling),
        "csat_average": round(sum(scores) / len(scores), 2) if scores else None,
        "csat_responses": len(scores),
        "csat_distribution": {str(n): scores.count(n) for n in range(1, 6)},
        "chats_by_hour": by_hour,
        "states": states,
    }
