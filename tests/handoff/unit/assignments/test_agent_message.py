"""handoff/assignments/agent_message.py and agent_typing.py: the owner writes; a retry never stores twice."""

from __future__ import annotations

import pytest

from handoff.assignments import agent_message, agent_typing, claim
from handoff.errors import ServiceError
from handoff.pubsub import conversation_channel
from tests.handoff.unit.support import add_staff, queued_conversation, texts


async def test_the_owner_writes_and_a_retried_client_id_is_stored_once(services, recorder):
    dana = add_staff(services, "dana")
    conversation_id = queued_conversation(services)
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    recorder.drain()
    sent = await agent_message.perform(services=services, conversation_id=conversation_id, staff=dana,
                                       text="  Your card 4111 1111 1111 1111 is fine. ", client_id="a-1")
    again = await agent_message.perform(services=services, conversation_id=conversation_id, staff=dana,
                                        text="Your card is fine.", client_id="a-1")
    assert sent.messages[0].seq == again.messages[0].seq
    message = sent.messages[0]
    assert (message.sender, message.agent_name, message.human_phase) == ("agent", "Dana", True)
    assert "4111 1111 1111 1111" not in message.text and message.text == message.text.strip()
    assert [sender for sender, _ in texts(services, conversation_id)].count("agent") == 1
    assert {(ch, event["frame"]["seq"]) for ch, event in recorder.drain()} == {
        (conversation_channel(conversation_id), message.seq)}


async def test_an_empty_message_or_someone_elses_chat_is_refused(services):
    dana, erin = add_staff(services, "dana"), add_staff(services, "erin")
    conversation_id = queued_conversation(services)
    with pytest.raises(ServiceError) as not_yet:
        await agent_message.perform(services=services, conversation_id=conversation_id, staff=dana, text="hi",
                                    client_id=None)
    assert not_yet.value.code == "not_assigned"
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    with pytest.raises(ServiceError) as empty:
        await agent_message.perform(services=services, conversation_id=conversation_id, staff=dana,
                                    text="   ",
                                    client_id=None)
    assert (empty.value.status_code, empty.value.code) == (422, "empty_message")
    with pytest.raises(ServiceError) as other:
        await agent_typing.perform(services=services, conversation_id=conversation_id, staff=erin)
    assert other.value.code == "not_your_chat"


async def test_the_owner_typing_is_shown_in_the_widget(services, recorder):
    dana = add_staff(services, "dana")
    conversation_id = queued_conversation(services)
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    recorder.drain()
    await agent_typing.perform(services=services, conversation_id=conversation_id, staff=dana)
    assert recorder.drain() == [(conversation_channel(conversation_id),
                                 {"kind": "typing", "sender": "agent", "agent_name": "Dana"})]
