"""What a waiting customer and the consoles are told: the ordered queue, a conversation's status, its ETA.

Read-only: `*_in_session` functions run inside a caller's transaction; `status` and `snapshot` run their own.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from handoff.assignments.ownership import account_customer_id
from handoff.config import Settings
from handoff.conversations import store
from handoff.conversations.frames import status_frame
from handoff.conversations.states import State
from handoff.db import utcnow
from handoff.models import Conversation
from handoff.queue.ordering import QueueEntry, expected_wait_seconds, order_queue, position_of
from handoff.queue.teams import Team, works_team

if TYPE_CHECKING:
    from handoff.context import Services
    from handoff.specialists.staff import Staff


def _ordered_queue(session: Session, now: datetime) -> tuple[list[QueueEntry], dict[str, Conversation]]:
    waiting = store.waiting_conversations(session)
    entries = [
        QueueEntry(conversation_id=c.id, state=c.state, reason=c.escalation_reason,
                   dispute_amount=c.dispute_amount, queued_at=c.queued_at or c.updated_at)
        for c in waiting
    ]
    return order_queue(entries, now=now), {c.id: c for c in waiting}


def _eta(session: Session, *, settings: Settings, position: int, now: datetime) -> int:
    return expected_wait_seconds(
        position=position,
        recent_handling_seconds=store.recent_handling_seconds(session, now=now),
        online_specialists=store.online_specialist_count(
            session, now=now, timeout_seconds=settings.presence_timeout_seconds),
        default_handling_seconds=settings.default_handling_seconds,
    )


def status_in_session(session: Session, *, settings: Settings, conversation_id: str) -> dict[str, Any]:
    """The widget's `status` frame: position and ETA while queued, the ticket, or who took it (assigned)."""
    conversation = store.get_conversation(session, conversation_id=conversation_id)
    now = utcnow()
    if conversation.state == State.QUEUED:
        ordered, _ = _ordered_queue(session, now)
        position = position_of(conversation.id, ordered) or 1
        return status_frame(state=conversation.state, position=position,
                            eta_seconds=_eta(session, settings=settings, position=position, now=now))
    if conversation.state == State.TICKET:
        return status_frame(state=conversation.state, ticket_number=conversation.ticket_number,
                            contact=settings.ticket_contact)
    if conversation.state == State.ASSIGNED and conversation.assigned_specialist_id:
        specialist = store.get_staff(session, user_id=conversation.assigned_specialist_id)
        return status_frame(state=conversation.state,
                            agent_name=specialist.display_name if specialist else None)
    return status_frame(state=conversation.state)


def sla_breached(*, state: str, team: str, waiting_seconds: int, thresholds: dict[str, int]) -> bool:
    """A queued chat (not a ticket: nobody could take it) waited at least its team's threshold."""
    threshold = thresholds.get(team)
    return state == State.QUEUED and threshold is not None and waiting_seconds >= threshold


def _queue_entry(conversation: Conversation, entry: QueueEntry, *, position: int, now: datetime,
                 thresholds: dict[str, int]) -> dict[str, Any]:
    amount = conversation.dispute_amount
    waiting_seconds = int((now - entry.queued_at).total_seconds())
    team = conversation.team or Team.GENERAL.value
    return {
        "conversation_id": conversation.id,
        "position": position,
        "state": conversation.state,
        "reason": conversation.escalation_reason,
        "customer_id": account_customer_id(conversation),
        "customer_name": conversation.customer_name,
        "channel": conversation.channel,
        "dispute_amount": f"{amount:.2f}" if amount is not None else None,
        "ticket_number": conversation.ticket_number,
        "summary": (conversation.context or {}).get("summary"),
        "queued_at": entry.queued_at.isoformat(),
        "waiting_seconds": waiting_seconds,
        "team": team,
        "sla_breached": sla_breached(state=conversation.state, team=team, waiting_seconds=waiting_seconds,
                                     thresholds=thresholds),
    }


def snapshot_in_session(session: Session, *, settings: Settings,
                        now: datetime | None = None) -> list[dict[str, Any]]:
    """The whole queue, in the order specialists should take it (`position` is the place in it)."""
    now = now or utcnow()
    ordered, by_id = _ordered_queue(session, now)
    thresholds = settings.sla_thresholds
    return [_queue_entry(by_id[entry.conversation_id], entry, position=position, now=now,
                         thresholds=thresholds)
            for position, entry in enumerate(ordered, start=1)]


def visible_to(entries: list[dict[str, Any]], staff: Staff) -> list[dict[str, Any]]:
    """The entries of the teams a specialist works (a supervisor: all)."""
    return [entry for entry in entries if works_team(role=staff.role, teams=staff.teams, team=entry["team"])]


async def status(*, services: Services, conversation_id: str) -> dict[str, Any]:
    return await services.run(status_in_session, settings=services.settings, conversation_id=conversation_id)


async def snapshot(*, services: Services, now: datetime | None = None) -> list[dict[str, Any]]:
    return await services.run(snapshot_in_session, settings=services.settings, now=now)
