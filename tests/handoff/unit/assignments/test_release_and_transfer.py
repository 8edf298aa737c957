"""handoff/assignments/release.py and transfer.py: only the owner (or a supervisor) hands a chat on."""

from __future__ import annotations

import pytest

from handoff.assignments import claim, release, transfer
from handoff.errors import ServiceError
from handoff.pubsub import QUEUE_CHANNEL, conversation_channel, staff_channel
from tests.handoff.unit.support import add_staff, conversation, queued_conversation, texts


async def _claimed(services, staff):
    conversation_id = queued_conversation(services)
    await claim.perform(services=services, conversation_id=conversation_id, staff=staff)
    return conversation_id


async def test_release_puts_the_customer_back_in_the_queue(services, recorder):
    dana = add_staff(services, "dana")
    conversation_id = await _claimed(services, dana)
    recorder.drain()
    await release.perform(services=services, conversation_id=conversation_id, staff=dana)
    assert conversation(services, conversation_id).state == "queued"
    assert texts(services,
                 conversation_id)[-1][1].startswith("Dana has left the chat. You're back in the queue")
    kinds = [(ch, event["kind"]) for ch, event in recorder.drain()]
    channel = conversation_channel(conversation_id)
    assert kinds == [(channel, "message"), (channel, "status"), (channel, "conversation_changed"),
                     (QUEUE_CHANNEL, "queue"), (channel, "status")]


async def test_only_the_owner_or_a_supervisor_may_release(services):
    dana, erin = add_staff(services, "dana"), add_staff(services, "erin")
    conversation_id = await _claimed(services, dana)
    with pytest.raises(ServiceError) as refused:
        await release.perform(services=services, conversation_id=conversation_id, staff=erin)
    assert (refused.value.status_code, refused.value.code) == (403, "not_your_chat")
    await release.perform(services=services, conversation_id=conversation_id,
                          staff=add_staff(services, "sam", role="supervisor"))
    with pytest.raises(ServiceError) as not_assigned:
        await release.perform(services=services, conversation_id=conversation_id, staff=dana)
    assert (not_assigned.value.status_code, not_assigned.value.code) == (409, "not_assigned")


async def test_transfer_moves_the_chat_and_tells_the_colleague(services, recorder):
    dana, erin = add_staff(services, "dana"), add_staff(services, "erin")
    conversation_id = await _claimed(services, dana)
    recorder.drain()
    await transfer.perform(services=services, conversation_id=conversation_id, staff=dana, to_username="erin")
    assert conversation(services, conversation_id).assigned_specialist_id == erin.id
    assert texts(services, conversation_id)[-2:] == [("system", "Dana has left the chat."),
                                                     ("system", "Erin from Billing has joined the chat.")]
    first_channel, first_event = recorder.drain()[0]
    assert (first_channel, first_event) == (staff_channel(erin.id), {
        "kind": "transferred_to_you", "conversation_id": conversation_id, "from": "Dana"})


@pytest.mark.parametrize(("to_username", "code"),
                         [("nobody", "unknown_colleague"), ("tess", "unknown_colleague"),
                                                   ("dana", "same_specialist")])
async def test_transfer_only_to_another_colleague_who_takes_chats(services, to_username, code):
    dana = add_staff(services, "dana")
    add_staff(services, "tess", role="trainer")
    conversation_id = await _claimed(services, dana)
    with pytest.raises(ServiceError) as refused:
        await transfer.perform(services=services, conversation_id=conversation_id, staff=dana,
                               to_username=to_username)
    assert (refused.value.status_code, refused.value.code) == (422, code)
    assert conversation(services, conversation_id).assigned_specialist_id == dana.id
