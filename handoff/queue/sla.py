"""SLA (issue 17): a queued chat that waited past its team's threshold is told to supervisors once per wait.

Run by the housekeeping loop (handoff/main.py). The conditional UPDATE on `sla_alerted_at IS NULL` decides, so
two replicas sweeping at once tell (and audit) a breach once; a new wait (escalation, release, transfer to a
team) clears `sla_alerted_at`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from handoff.conversations import store
from handoff.conversations.states import State
from handoff.conversations.store.conversations import rows_changed, table_of
from handoff.db import utcnow
from handoff.models import Conversation
from handoff.pubsub import QUEUE_CHANNEL
from handoff.queue.status import sla_breached
from handoff.queue.teams import Team

if TYPE_CHECKING:
    from handoff.context import Services


def new_breaches_in_session(session: Session, *, thresholds: dict[str, int], now: datetime) -> list[dict[str,
                                                                                                        Any]]:
    """Mark and audit the queued chats past their team's threshold that were not told yet; their frames."""
    waiting = session.scalars(select(Conversation).where(
        Conversation.state == State.QUEUED, Conversation.sla_alerted_at.is_(None))).all()
    breaches = []
    for conversation in waiting:
        team = conversation.team or Team.GENERAL.value
        queued_at = conversation.queued_at or conversation.updated_at
        waiting_seconds = int((now - queued_at).total_seconds())
        if not sla_breached(state=conversation.state, team=team, waiting_seconds=waiting_seconds,
                            thresholds=thresholds):
            continue
        table = table_of(Conversation)
        won = rows_changed(session, update(table).where(
            table.c.id == conversation.id, table.c.state == State.QUEUED, table.c.sla_alerted_at.is_(None))
            .values(sla_alerted_at=now))
        if won != 1:
            continue  # taken meanwhile, or another replica told it
        frame = {"type": "sla_breach", "conversation_id": conversation.id, "team": team,
                 "waiting_seconds": waiting_seconds, "threshold_seconds": thresholds[team]}
        store.audit(session, actor="system", action="sla_breach", target=conversation.id,
                    details={"team": team, "waiting_seconds": waiting_seconds,
                             "threshold_seconds": thresholds[team]})
        breaches.append(frame)
    return breaches


async def alert_breaches(*, services: Services, now: datetime | None = None) -> list[dict[str, Any]]:
    """Tell supervisors' consoles (on the queue channel; the console socket forwards it to supervisors)."""
    breaches = await services.run(new_breaches_in_session, thresholds=services.settings.sla_thresholds,
                                  now=now or utcnow())
    for frame in breaches:
        await services.pubsub.publish(QUEUE_CHANNEL, {"kind": "sla_breach", "frame": frame})
    return breaches
