"""handoff/conversations/lifecycle.py: start or resume at hello, disconnects, abandoned queued customers."""

from __future__ import annotations

from datetime import timedelta

from handoff.conversations import lifecycle, store
from handoff.db import utcnow
from handoff.pubsub import QUEUE_CHANNEL, conversation_channel
from tests.handoff.unit.support import conversation, queued_conversation, texts


async def test_a_new_conversation_greets_the_customer_by_name(services):
    started = await lifecycle.start(services=services, customer_id=1, customer_name="Alice",
                                    conversation_id=None)
    assert started.state == "bot" and started.customer_connected_at is not None
    assert texts(services, started.id) == [("bot", f"Hi Alice! {lifecycle.GREETING_TEXT}")]


async def test_a_customer_resumes_their_own_conversation_but_never_another_ones(services):
    alices = await lifecycle.start(services=services, customer_id=1, customer_name="Alice",
                                   conversation_id=None)
    again = await lifecycle.start(services=services, customer_id=1, customer_name="Alice",
                                  conversation_id=alices.id)
    bobs = await lifecycle.start(services=services, customer_id=2, customer_name="Bob",
                                 conversation_id=alices.id)
    assert again.id == alices.id and bobs.id != alices.id


async def test_a_queued_customer_gone_past_the_grace_period_is_abandoned_and_welcomed_back(services,
                                                                                           recorder):
    conversation_id = queued_conversation(services, customer_id=4)
    connected_at = conversation(services, conversation_id).customer_connected_at
    await lifecycle.disconnected(services=services, conversation_id=conversation_id,
                                 connected_at=connected_at)
    assert await lifecycle.sweep_abandoned(services=services) == []  # still within the grace period
    long_ago = utcnow() - timedelta(seconds=services.settings.abandon_grace_seconds + 1)
    services.db.run_sync(store.update_conversation, conversation_id=conversation_id,
                         customer_disconnected_at=long_ago)
    recorder.drain()

    abandoned = await lifecycle.sweep_abandoned(services=services)

    assert [change.conversation_id for change in abandoned] == [conversation_id]
    assert conversation(services, conversation_id).state == "abandoned"
    assert texts(services, conversation_id)[-1] == ("system", lifecycle.LEFT_WHILE_WAITING_TEXT)
    assert [(ch, event["kind"]) for ch, event in recorder.drain()] == [
        (conversation_channel(conversation_id), "conversation_changed"), (QUEUE_CHANNEL, "queue")]
    back = await lifecycle.start(services=services, customer_id=4, customer_name="David",
                                 conversation_id=conversation_id)
    assert back.state == "bot" and back.customer_disconnected_at is None
    assert texts(services, conversation_id)[-1] == ("system", lifecycle.WELCOME_BACK_TEXT)


async def test_an_old_connection_closing_does_not_mark_a_newer_one_gone(services):
    first = await lifecycle.start(services=services, customer_id=1, customer_name="Alice",
                                  conversation_id=None)
    second = await lifecycle.start(services=services, customer_id=1, customer_name="Alice",
                                   conversation_id=first.id)
    await lifecycle.disconnected(services=services, conversation_id=first.id,
                                 connected_at=first.customer_connected_at)
    assert conversation(services, first.id).customer_disconnected_at is None
    await lifecycle.disconnected(services=services, conversation_id=first.id,
                                 connected_at=second.customer_connected_at)
    assert conversation(services, first.id).customer_disconnected_at is not None
