"""handoff/assignments/claim.py (the 50-claim race: tests/handoff/test_concurrency.py)."""

from __future__ import annotations

import pytest

from handoff.assignments import claim
from handoff.errors import ServiceError
from handoff.pubsub import QUEUE_CHANNEL, conversation_channel
from tests.handoff.unit.support import add_staff, conversation, queued_conversation, texts


async def test_a_claim_assigns_the_chat_says_who_joined_and_tells_everyone(services, recorder):
    dana = add_staff(services, "dana")
    conversation_id = queued_conversation(services)
    change = await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    claimed = conversation(services, conversation_id)
    assert (claimed.state, claimed.assigned_specialist_id) == ("assigned", dana.id)
    assert texts(services, conversation_id)[-1] == ("system", "Dana from Billing has joined the chat.")
    assert change.status_changed and change.queue_changed and change.conversation_changed
    channel = conversation_channel(conversation_id)
    events = recorder.drain()
    assert [(ch, event["kind"]) for ch, event in events] == [
        (channel, "message"), (channel, "status"), (channel, "conversation_changed"),
        (QUEUE_CHANNEL, "queue")]
    assert events[1][1]["frame"] == {"type": "status", "state": "assigned", "agent_name": "Dana"}
    assert events[3][1]["entries"] == []


async def test_the_second_claim_is_told_who_was_first(services):
    dana, sam = add_staff(services, "dana"), add_staff(services, "sam", role="supervisor")
    conversation_id = queued_conversation(services)
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    with pytest.raises(ServiceError) as late:
        await claim.perform(services=services, conversation_id=conversation_id, staff=sam)
    assert (late.value.status_code, late.value.code) == (409, "already_claimed")
    assert late.value.message == "Too late: this chat is assigned. Dana already took it."


async def test_a_trainer_cannot_claim_and_an_unknown_chat_is_404(services):
    tess = add_staff(services, "tess", role="trainer")
    conversation_id = queued_conversation(services)
    with pytest.raises(ServiceError) as refused:
        await claim.perform(services=services, conversation_id=conversation_id, staff=tess)
    assert (refused.value.status_code, refused.value.code) == (403, "forbidden")
    with pytest.raises(ServiceError) as unknown:
        await claim.perform(services=services, conversation_id="nope", staff=add_staff(services, "dana"))
    assert unknown.value.status_code == 404
