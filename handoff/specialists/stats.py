"""The supervisor's report for a range of local dates: containment and resolution measured by outcome (two
figures), escalations by reason, wait and handling medians and p90, CSAT, abandoned chats; overall, per
team (the escalated chats of its queue) and per specialist (docs/contracts.md, "Supervisor reports").

A conversation counts when it started in the range and the customer wrote at least once.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from handoff.conversations.states import State
from handoff.models import Assignment, Conversation, Message, StaffUser, StateChange
from handoff.queue.teams import ALL_TEAMS, Team
from handoff.specialists.bot_turns import BotTurn, classifier_for
from handoff.vocabulary import AssignmentEnd, EscalationReason, Sender

REPEAT_WINDOW = timedelta(hours=24)
MAX_RANGE_DAYS = 366
LOW_CSAT = 2  # a rating of 1 or 2 means the customer did not feel helped

REASON_LABELS = {
    EscalationReason.DISPUTE: "Dispute",
    EscalationReason.REQUEST_HUMAN: "Asked for a person",
    EscalationReason.FALLBACK: "The bot did not understand",
    EscalationReason.VERIFICATION_LOCKED: "Verification locked",
    EscalationReason.BACKEND_UNAVAILABLE: "Billing system unavailable",
    EscalationReason.ARRANGEMENT_REQUEST: "Payment arrangement outside policy",
}

DEFINITIONS = {
    "conversations": "Chats started in the range in which the customer wrote at least once.",
    "containment": "Contained = never handed to a person (no escalation), whatever the outcome.",
    "resolution": (
        "Resolved = all of: the chat ended with an answer (for a bot-only chat the bot's last message was "
        "not a fallback, a clarification or a question the customer left unanswered; for an escalated chat "
        "a specialist resolved it), the customer did not leave (not abandoned in the queue or "
        "mid-question), the same signed-in customer did not start another chat within 24 hours (anonymous "
        "chats cannot be linked; chats of the last 24 hours are provisional), and the customer did not rate "
        "it 1 or 2."),
    "bot_resolution": "Resolved by the bot alone = resolved and contained.",
    "abandoned": (
        "Abandoned in the queue = the customer left while waiting for a person. Abandoned mid-question = a "
        "bot-only chat whose last message was the bot's question or fallback, never answered."),
    "wait": "Wait = from joining the queue to the first specialist's claim (escalated chats).",
    "handling": ("Handling = from the first claim to the resolve (per specialist: their claim to their "
                 "resolve). Median and 90th percentile (nearest rank)."),
    "csat": "CSAT = the customer's 1-5 rating after a specialist's chat, where given.",
    "teams": ("A team's figures are the escalated chats of its queue (the team the escalation reason picked, "
              "or the team the chat was transferred to): disputes, payments, general billing."),
    "billing": ("Credits, disputes and payments come from the billing system for the same range: credits "
                "by reason, disputes by outcome (decided in the range, or opened in it and still open), "
                "payments the customer made in a chat (with the bot, a specialist or the secure page the bot "
                "sent). Per specialist: the credits they issued and the payments they took in chat."),
}


@dataclass
class Outcome:
    """What happened in one conversation, as the report reads it."""

    conversation: Conversation
    escalated: bool
    resolved: bool
    abandoned_in_queue: bool
    abandoned_mid_flow: bool
    repeat_contact: bool
    wait: float | None
    handling: float | None
    local_date: date
    specialists: set[int] = field(default_factory=set)


def reason_label(reason: str) -> str:
    try:
        return REASON_LABELS[EscalationReason(reason)]
    except ValueError:
        return reason.replace("_", " ").capitalize()


def utc_range(start: date, end: date, timezone: str) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in the zone: both dates are included."""
    zone = ZoneInfo(timezone)
    return (datetime.combine(start, time.min, tzinfo=zone),
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone))


def percentile(values: list[float], share: float) -> float | None:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(share * len(ordered)) - 1)], 1)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None or later < earlier:
        return None
    return (later - earlier).total_seconds()


def figures(outcomes: list[Outcome], *, handling: list[float] | None = None) -> dict[str, Any]:
    total = len(outcomes)
    escalated = sum(o.escalated for o in outcomes)
    resolved = sum(o.resolved for o in outcomes)
    bot_resolved = sum(o.resolved and not o.escalated for o in outcomes)
    waits = [o.wait for o in outcomes if o.wait is not None]
    handled = handling if handling is not None else [o.handling for o in outcomes if o.handling is not None]
    scores = [o.conversation.csat_score for o in outcomes if o.conversation.csat_score]
    return {
        "conversations": total,
        "contained": total - escalated,
        "containment_rate": _rate(total - escalated, total),
        "escalated": escalated,
        "resolved": resolved,
        "resolution_rate": _rate(resolved, total),
        "bot_resolved": bot_resolved,
        "bot_resolution_rate": _rate(bot_resolved, total),
        "abandoned_in_queue": sum(o.abandoned_in_queue for o in outcomes),
        "abandoned_mid_flow": sum(o.abandoned_mid_flow for o in outcomes),
        "repeat_contacts": sum(o.repeat_contact for o in outcomes),
        "wait_median_seconds": _median(waits),
        "wait_p90_seconds": percentile(waits, 0.9),
        "handling_median_seconds": _median(handled),
        "handling_p90_seconds": percentile(handled, 0.9),
        "csat_average": round(sum(scores) / len(scores), 2) if scores else None,
        "csat_responses": len(scores),
    }


def _last_messages(session: Session, ids: list[str], sender: str) -> dict[str, tuple[int, str]]:
    """conversation id -> (seq, text) of its last message from `sender`."""
    last = (select(Message.conversation_id, func.max(Message.seq).label("seq"))
            .where(Message.conversation_id.in_(ids), Message.sender == sender)
            .group_by(Message.conversation_id).subquery())
    rows = session.execute(select(Message.conversation_id, Message.seq, Message.text).join(
        last, (Message.conversation_id == last.c.conversation_id) & (Message.seq == last.c.seq)))
    return {cid: (seq, text or "") for cid, seq, text in rows}


def _repeat_contacts(session: Session, chats: list[Conversation], end: datetime) -> set[str]:
    customers = {c.customer_id for c in chats if c.customer_id is not None}
    if not customers:
        return set()
    starts: dict[int, list[datetime]] = defaultdict(list)
    for customer_id, created in session.execute(
            select(Conversation.customer_id, Conversation.created_at).where(
                Conversation.customer_id.in_(customers), Conversation.created_at < end + REPEAT_WINDOW)):
        if customer_id is not None:
            starts[customer_id].append(created)
    return {c.id for c in chats if c.customer_id is not None and any(
        c.created_at < other <= c.created_at + REPEAT_WINDOW for other in starts[c.customer_id])}


def _outcomes(session: Session, *, start: datetime, end: datetime, timezone: str,
              domain_path: Path) -> tuple[list[Outcome], list[Assignment]]:
    wrote = exists().where(Message.conversation_id == Conversation.id, Message.sender == Sender.CUSTOMER)
    chats = list(session.scalars(select(Conversation).where(
        Conversation.created_at >= start, Conversation.created_at < end, wrote)
        .order_by(Conversation.created_at)))
    ids = [c.id for c in chats]
    if not ids:
        return [], []
    last_bot = _last_messages(session, ids, Sender.BOT)
    last_customer = _last_messages(session, ids, Sender.CUSTOMER)
    left_queue = set(session.scalars(select(StateChange.conversation_id).where(
        StateChange.conversation_id.in_(ids), StateChange.to_state == State.ABANDONED)))
    repeats = _repeat_contacts(session, chats, end)
    assignments = list(session.scalars(select(Assignment).where(Assignment.conversation_id.in_(ids))))
    handled_by: dict[str, set[int]] = defaultdict(set)
    for assignment in assignments:
        handled_by[assignment.conversation_id].add(assignment.specialist_id)
    classify = classifier_for(domain_path).classify
    zone = ZoneInfo(timezone)
    outcomes = []
    for c in chats:
        escalated = c.escalation_count > 0
        bot_seq, bot_text = last_bot.get(c.id, (0, ""))
        last_turn = classify(bot_text) if c.id in last_bot else None
        unanswered = last_turn in (BotTurn.QUESTION, BotTurn.FALLBACK)
        mid_flow = not escalated and unanswered and last_customer.get(c.id, (0, ""))[0] < bot_seq
        if escalated:
            ended_with_answer = c.resolution_outcome is not None and c.state in (State.RESOLVED, State.BOT)
        else:
            ended_with_answer = last_turn == BotTurn.ANSWER
        low_csat = c.csat_score is not None and c.csat_score <= LOW_CSAT
        in_queue = c.id in left_queue
        resolved = (ended_with_answer and not in_queue and not mid_flow and c.id not in repeats
                    and not low_csat)
        outcomes.append(Outcome(
            conversation=c, escalated=escalated, resolved=resolved, abandoned_in_queue=in_queue,
            abandoned_mid_flow=mid_flow, repeat_contact=c.id in repeats,
            wait=_seconds(c.first_assigned_at, c.queued_at) if escalated else None,
            handling=_seconds(c.resolved_at, c.first_assigned_at) if escalated else None,
            local_date=c.created_at.astimezone(zone).date(), specialists=handled_by[c.id]))
    return outcomes, assignments


def _specialists(session: Session, outcomes: list[Outcome], assignments: list[Assignment]) -> list[dict]:
    people = {u.id: u for u in session.scalars(select(StaffUser).where(
        StaffUser.id.in_({a.specialist_id for a in assignments})))} if assignments else {}
    result = []
    for specialist_id, user in people.items():
        theirs = [o for o in outcomes if specialist_id in o.specialists]
        handling = [seconds for a in assignments if a.specialist_id == specialist_id
                    and a.end_reason == AssignmentEnd.RESOLVED
                    and (seconds := _seconds(a.ended_at, a.started_at)) is not None]
        result.append({"username": user.username, "display_name": user.display_name,
                       **figures(theirs, handling=handling)})
    return sorted(result, key=lambda row: (-row["conversations"], row["display_name"]))


TEAM_LABELS = {Team.DISPUTES: "Disputes", Team.PAYMENTS: "Payments", Team.GENERAL: "General billing"}


def _teams(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """Every team, with the escalated chats that waited in its queue (a chat without a team: general's)."""
    escalated = [o for o in outcomes if o.escalated]
    return [{"team": team.value, "label": TEAM_LABELS[team],
             **figures([o for o in escalated if (o.conversation.team or Team.GENERAL.value) == team.value])}
            for team in ALL_TEAMS]


def conversation_report(session: Session, *, start: date, end: date, timezone: str,
                        domain_path: Path) -> dict[str, Any]:
    """The report's part that lives in the handoff database (the billing part comes from the backend)."""
    utc_start, utc_end = utc_range(start, end, timezone)
    outcomes, assignments = _outcomes(session, start=utc_start, end=utc_end, timezone=timezone,
                                      domain_path=domain_path)
    reasons: dict[str, int] = defaultdict(int)
    for o in outcomes:
        if o.escalated:
            reasons[o.conversation.escalation_reason or "unknown"] += 1
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    per_day: dict[date, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        per_day[o.local_date].append(o)
    scores = [o.conversation.csat_score for o in outcomes if o.conversation.csat_score]
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "timezone": timezone,
        "overall": figures(outcomes),
        "teams": _teams(outcomes),
        "specialists": _specialists(session, outcomes, assignments),
        "escalations_by_reason": [
            {"reason": reason, "label": reason_label(reason), "count": count}
            for reason, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))],
        "by_day": [{"date": day.isoformat(), "conversations": len(per_day[day]),
                    "escalated": sum(o.escalated for o in per_day[day]),
                    "resolved": sum(o.resolved for o in per_day[day])} for day in days],
        "csat_distribution": {str(n): scores.count(n) for n in range(1, 6)},
        "definitions": DEFINITIONS,
    }
