"""handoff/assignments/resolve.py: Rasa hears the human phase; the bot takes over and asks for a rating."""

from __future__ import annotations

import pytest

from handoff.assignments import agent_message, claim, resolve
from handoff.conversations import customer_message
from handoff.conversations.payloads import CSAT_BUTTONS
from handoff.errors import ServiceError
from handoff.pubsub import QUEUE_CHANNEL, conversation_channel
from tests.handoff.unit.support import add_staff, conversation, queued_conversation, texts


async def _resolved_chat(services, dana):
    conversation_id = queued_conversation(services)
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    await customer_message.perform(services=services, conversation_id=conversation_id, client_id="c-1",
                                   text="why $49.99?", payload=None)
    await agent_message.perform(services=services, conversation_id=conversation_id, staff=dana,
                                text="That is the activation fee.", client_id=None)
    return conversation_id


async def test_rasa_hears_the_human_phase_and_answers_the_customer(services, rasa, recorder):
    dana = add_staff(services, "dana")
    conversation_id = await _resolved_chat(services, dana)
    recorder.drain()
    await resolve.perform(services=services, conversation_id=conversation_id, staff=dana, outcome="explained")

    assert conversation(services, conversation_id).state == "bot"
    assert conversation(services, conversation_id).resolution_outcome == "explained"
    [(_, events)] = rasa.appended
    assert [(e["text"], e["metadata"]["sender"], e["metadata"]["name"]) for e in events] == [
        ("why $49.99?", "customer", "David"), ("That is the activation fee.", "agent", "Dana")]
    assert rasa.triggered == [(conversation_id, "EXTERNAL_handoff_resolved",
                               {"handoff_outcome": "explained", "agent_name": "Dana"})]
    assert texts(services, conversation_id)[-2:] == [
        ("system", "Dana has left the chat. You're back with the Acme assistant."),
        ("bot", "Glad we could help! How was it?")]
    channel = conversation_channel(conversation_id)
    assert [(ch, event["kind"]) for ch, event in recorder.drain()] == [
        (channel, "message"), (channel, "status"), (channel, "conversation_changed"),
        (QUEUE_CHANNEL, "queue"),
        (channel, "message"), (channel, "status"), (channel, "conversation_changed")]


async def test_with_rasa_down_the_service_asks_for_the_rating_itself(services, rasa):
    rasa.down = True
    dana = add_staff(services, "dana")
    conversation_id = await _resolved_chat(services, dana)
    change = await resolve.perform(services=services, conversation_id=conversation_id, staff=dana,
                                   outcome="credit_issued")
    [question] = change.messages
    assert (question.text, question.buttons) == (resolve.RATING_QUESTION, CSAT_BUTTONS)
    assert conversation(services, conversation_id).state == "bot"


async def test_a_bad_outcome_is_refused_before_anything_changes(services):
    dana = add_staff(services, "dana")
    conversation_id = await _resolved_chat(services, dana)
    with pytest.raises(ServiceError) as refused:
        await resolve.perform(services=services, conversation_id=conversation_id, staff=dana, outcome="fixed")
    assert (refused.value.status_code, refused.value.code) == (422, "bad_outcome")
    assert conversation(services, conversation_id).state == "assigned"
