"""handoff/specialists/presence.py: an away specialist stays signed in but is not counted as online, so with
nobody else online an escalation makes a ticket; back online, the next one queues. Both changes are
audited."""

from __future__ import annotations

from sqlalchemy import select

from handoff.conversations import escalation
from handoff.db import utcnow
from handoff.models import AuditEntry
from handoff.specialists import presence, queries
from tests.handoff.unit.support import add_staff, new_conversation


async def _escalate(services) -> str:
    conversation_id = new_conversation(services)
    escalated = await escalation.perform(services=services, conversation_id=conversation_id,
                                         reason="request_human", customer_id=4, summary="wants a person")
    return escalated.answer["state"]


async def test_an_away_specialist_is_not_counted_online(services):
    dana = add_staff(services, "dana")
    assert services.db.run_sync(presence.status_of, staff=dana) == "online"
    assert services.db.run_sync(presence.set_status, staff=dana, status="away") == "away"
    assert await _escalate(services) == "ticket"  # nobody online: Dana is away
    colleagues = services.db.run_sync(queries.colleagues, seen_since=utcnow().replace(year=2000))
    assert [(c["username"], c["online"], c["away"]) for c in colleagues] == [("dana", True, True)]

    services.db.run_sync(presence.set_status, staff=dana, status="online")
    assert await _escalate(services) == "queued"
    services.db.run_sync(presence.set_status, staff=dana, status="online")  # no change: not audited again
    audited = services.db.run_sync(lambda s: [e.action for e in s.scalars(
        select(AuditEntry).where(AuditEntry.action.like("presence_%")).order_by(AuditEntry.id))])
    assert audited == ["presence_away", "presence_online"]
