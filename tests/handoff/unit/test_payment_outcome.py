"""handoff/conversations/payment_outcome.py: the payment page's outcome is a system message, stored once per
event, pushed after the commit, and never shown in another customer's chat."""

from __future__ import annotations

import asyncio

import pytest

from handoff.conversations import customer_message, payment_outcome
from handoff.errors import ServiceError
from handoff.pubsub import conversation_channel
from tests.handoff.unit.support import new_conversation, queued_conversation, texts

SUMMARY = "Visa ending 4242 is saved as your payment method. $75.00 paid: posted. You now owe $0.00."
EVENT = "payment-page-" + "n" * 32


async def _outcome(services, conversation_id, *, event_id=EVENT, customer_id=6, summary=SUMMARY):
    return await payment_outcome.perform(services=services, event_id=event_id,
                                         conversation_id=conversation_id, customer_id=customer_id,
                                         summary=summary)


async def _followups_done(services):
    """The first delivery tells Rasa in a task of its own (its answer is stored after the summary)."""
    await asyncio.gather(*list(services.turns.in_flight))


def _pushed(recorder, conversation_id):
    return [event["frame"] for channel, event in recorder.drain()
            if channel == conversation_channel(conversation_id) and event["kind"] == "message"]


async def test_the_summary_is_stored_as_a_system_message_and_pushed(services, recorder):
    conversation_id = new_conversation(services, customer_id=6, name="Farid")
    stored = await _outcome(services, conversation_id)
    assert not stored.duplicate and stored.seq == 2
    assert texts(services, conversation_id)[-1] == ("system", SUMMARY)
    [frame] = _pushed(recorder, conversation_id)
    assert (frame["seq"], frame["sender"], frame["text"]) == (2, "system", SUMMARY)


async def test_a_repeated_event_stores_and_pushes_nothing(services, recorder):
    conversation_id = new_conversation(services, customer_id=6, name="Farid")
    first = await _outcome(services, conversation_id)
    await _followups_done(services)
    recorder.drain()
    again = await _outcome(services, conversation_id)
    await _followups_done(services)
    assert again.duplicate and again.seq == first.seq
    # the summary once, and the bot's follow-up once: Rasa is told only of the first delivery
    assert [sender for sender, _ in texts(services, conversation_id)] == ["bot", "system", "bot"]
    assert len(services.rasa.triggered) == 1
    assert _pushed(recorder, conversation_id) == []
    other = await _outcome(services, conversation_id, event_id="payment-page-" + "m" * 32)
    # another link's outcome is another message, after the bot's follow-up to the first
    assert not other.duplicate and other.seq == first.seq + 2


async def test_concurrent_deliveries_of_one_event_store_one_message(services, recorder):
    conversation_id = new_conversation(services, customer_id=6, name="Farid")
    results = await asyncio.gather(*[_outcome(services, conversation_id) for _ in range(5)])
    await _followups_done(services)
    assert sorted(result.duplicate for result in results) == [False, True, True, True, True]
    assert [sender for sender, _ in texts(services, conversation_id)] == ["bot", "system", "bot"]
    assert [frame["sender"] for frame in _pushed(recorder, conversation_id)] == ["system", "bot"]


async def test_a_customer_cannot_preempt_the_outcome_with_its_event_id_as_client_id(services, recorder):
    conversation_id = new_conversation(services, customer_id=6, name="Farid")
    await customer_message.perform(services=services, conversation_id=conversation_id, client_id=EVENT,
                                   text="hello", payload=None)
    stored = await _outcome(services, conversation_id)
    assert not stored.duplicate
    assert texts(services, conversation_id)[-1] == ("system", SUMMARY)


@pytest.mark.parametrize("owner", [4, "unknown"])
async def test_unknown_or_another_customers_conversation_is_404(services, recorder, owner):
    conversation_id = ("no-such-conversation" if owner == "unknown"
                       else new_conversation(services, customer_id=4))
    with pytest.raises(ServiceError) as refused:
        await _outcome(services, conversation_id, customer_id=6)
    assert (refused.value.status_code, refused.value.code) == (404, "conversation_not_found")
    if owner != "unknown":
        assert [sender for sender, _ in texts(services, conversation_id)] == ["bot"]
    assert _pushed(recorder, conversation_id) == []


async def test_an_anonymous_chat_verified_by_the_bot_gets_the_outcome(services, recorder):
    conversation_id = new_conversation(services, customer_id=None, name=None)
    stored = await _outcome(services, conversation_id)
    assert not stored.duplicate and texts(services, conversation_id)[-1] == ("system", SUMMARY)


async def test_while_a_specialist_has_the_chat_the_outcome_still_shows(services, recorder):
    conversation_id = queued_conversation(services, customer_id=6)
    await _outcome(services, conversation_id)
    assert texts(services, conversation_id)[-1] == ("system", SUMMARY)


async def test_card_numbers_in_a_summary_are_masked_before_storing(services, recorder):
    conversation_id = new_conversation(services, customer_id=6, name="Farid")
    await _outcome(services, conversation_id, summary="Card 4111 1111 1111 1111 saved.")
    assert texts(services, conversation_id)[-1] == ("system", "Card **** **** **** 1111 saved.")
