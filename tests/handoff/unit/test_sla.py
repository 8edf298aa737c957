"""SLA (issue 17): a queued chat past its team's threshold is marked in the queue and told to supervisors
once per wait (audited once); the clock is the test's (`now=`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handoff.assignments import claim, release
from handoff.conversations import escalation
from handoff.models import AuditEntry
from handoff.pubsub import QUEUE_CHANNEL
from handoff.queue import sla
from handoff.queue import status as queue_status
from tests.handoff.unit.support import add_staff, conversation, new_conversation


async def _escalate(services, reason):
    conversation_id = new_conversation(services)
    await escalation.perform(services=services, conversation_id=conversation_id, reason=reason, customer_id=4,
                             summary="wants a person")
    return conversation_id, conversation(services, conversation_id).queued_at


def _breached(entries):
    return {entry["conversation_id"]: entry["sla_breached"] for entry in entries}


def _sla_audit(services):
    return services.db.run_sync(lambda session: [
        (entry.actor, entry.target, entry.details)
        for entry in session.scalars(select(AuditEntry).where(AuditEntry.action == "sla_breach"))])


async def _marks(services, at):
    return _breached(await queue_status.snapshot(services=services, now=at))


async def test_the_queue_marks_a_chat_past_its_teams_threshold(services):
    assert services.settings.sla_thresholds == {"disputes": 300, "payments": 300, "general": 600}
    add_staff(services, "dana", teams="disputes,general")
    dispute, queued_at = await _escalate(services, "dispute")
    general, _ = await _escalate(services, "request_human")
    assert await _marks(services, queued_at + timedelta(seconds=299)) == {dispute: False, general: False}
    # disputes' 300 s passed, general's 600 s not
    assert await _marks(services, queued_at + timedelta(seconds=301)) == {dispute: True, general: False}
    assert await _marks(services, queued_at + timedelta(seconds=700)) == {dispute: True, general: True}


async def test_a_ticket_is_never_breached(services):
    ticket, queued_at = await _escalate(services, "dispute")  # nobody online: a ticket
    assert conversation(services, ticket).state == "ticket"
    entries = await queue_status.snapshot(services=services, now=queued_at + timedelta(hours=5))
    assert _breached(entries) == {ticket: False}
    assert await sla.alert_breaches(services=services, now=queued_at + timedelta(hours=5)) == []


async def test_supervisors_are_told_once_per_wait_and_it_is_audited_once(services, recorder):
    dana = add_staff(services, "dana", teams="disputes,general")
    dispute, queued_at = await _escalate(services, "dispute")
    recorder.drain()
    assert await sla.alert_breaches(services=services, now=queued_at + timedelta(seconds=200)) == []
    told = await sla.alert_breaches(services=services, now=queued_at + timedelta(seconds=310))
    assert told == [{"type": "sla_breach", "conversation_id": dispute, "team": "disputes",
                     "waiting_seconds": 310, "threshold_seconds": 300}]
    assert recorder.drain() == [(QUEUE_CHANNEL, {"kind": "sla_breach", "frame": told[0]})]
    assert await sla.alert_breaches(services=services, now=queued_at + timedelta(seconds=400)) == []
    assert recorder.drain() == []
    assert _sla_audit(services) == [("system", dispute, {"team": "disputes", "waiting_seconds": 310,
                                                         "threshold_seconds": 300})]

    # A new wait (claimed, then released back to the queue) can breach again.
    await claim.perform(services=services, conversation_id=dispute, staff=dana)
    await release.perform(services=services, conversation_id=dispute, staff=dana)
    requeued_at = conversation(services, dispute).queued_at
    again = await sla.alert_breaches(services=services, now=requeued_at + timedelta(seconds=305))
    assert [frame["conversation_id"] for frame in again] == [dispute]
    assert len(_sla_audit(services)) == 2


async def test_a_claimed_chat_is_not_told(services):
    dana = add_staff(services, "dana", teams="disputes,general")
    dispute, queued_at = await _escalate(services, "dispute")
    await claim.perform(services=services, conversation_id=dispute, staff=dana)
    assert await sla.alert_breaches(services=services, now=queued_at + timedelta(seconds=900)) == []
