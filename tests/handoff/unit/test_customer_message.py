"""handoff/conversations/customer_message.py: stored once, redacted, payloads only as offered, one rating."""

from __future__ import annotations

import pytest

from handoff.assignments import claim, resolve
from handoff.conversations import customer_message, store
from handoff.conversations.payloads import PayloadNotOffered
from handoff.pubsub import conversation_channel
from tests.handoff.unit.support import add_staff, conversation, new_conversation, queued_conversation, texts


async def test_a_message_is_stored_once_and_shown_to_the_other_tabs(services, recorder):
    conversation_id = new_conversation(services)
    first = await customer_message.perform(services=services, conversation_id=conversation_id,
                                           client_id="c-1",
                                           text="  what do I owe?  ", payload=None)
    again = await customer_message.perform(services=services, conversation_id=conversation_id,
                                           client_id="c-1",
                                           text="what do I owe?", payload=None)
    assert first.created and not again.created and again.message.seq == first.message.seq
    assert texts(services, conversation_id)[-1] == ("customer", "what do I owe?")
    assert not first.message.processed  # the bot still has to answer it (turns.py)
    published = recorder.drain()
    assert [(ch, event["frame"]["client_id"]) for ch, event in published] == [
        (conversation_channel(conversation_id), "c-1")]  # the resend publishes nothing


async def test_card_numbers_are_redacted_before_storing(services):
    conversation_id = new_conversation(services)
    stored = await customer_message.perform(services=services, conversation_id=conversation_id,
                                            client_id="c-2",
                                            text="my card is 4111 1111 1111 1111", payload=None)
    assert "4111 1111 1111 1111" not in stored.message.text


async def test_while_a_human_has_the_chat_the_message_is_already_answered(services):
    conversation_id = queued_conversation(services)
    stored = await customer_message.perform(services=services, conversation_id=conversation_id,
                                            client_id="c-3",
                                            text="hello?", payload=None)
    assert stored.message.processed and stored.message.human_phase


async def test_a_payload_that_was_not_offered_is_refused_and_not_stored(services, recorder):
    conversation_id = new_conversation(services)
    with pytest.raises(PayloadNotOffered):
        await customer_message.perform(services=services, conversation_id=conversation_id, client_id="c-4",
                                       text="x", payload='/explain_charge{"line_item_id": "99"}')
    assert texts(services, conversation_id) == [("bot", "Hi! How can I help?")]
    assert recorder.drain() == []
    allowed = await customer_message.perform(services=services, conversation_id=conversation_id,
                                             client_id="c-5",
                                             text="balance", payload="/check_balance")
    assert allowed.message.payload == "/check_balance"


async def resolved_asking_for_a_rating(services, rasa) -> str:
    """A chat Dana resolved; the service itself asks the rating question (Rasa is down)."""
    rasa.down = True
    dana = add_staff(services, "dana")
    conversation_id = queued_conversation(services)
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    await resolve.perform(services=services, conversation_id=conversation_id, staff=dana, outcome="explained")
    return conversation_id


async def test_a_rating_counts_once_and_only_after_a_resolve_asked_for_it(services, rasa):
    conversation_id = await resolved_asking_for_a_rating(services, rasa)
    five = '/rate_chat{"csat_score":"5"}'
    await customer_message.perform(services=services, conversation_id=conversation_id, client_id="r-1",
                                   text="5", payload=five)
    assert conversation(services, conversation_id).csat_score == 5
    with pytest.raises(PayloadNotOffered):  # the question was answered: its buttons are stale now
        await customer_message.perform(services=services, conversation_id=conversation_id, client_id="r-2",
                                       text="1", payload='/rate_chat{"csat_score":"1"}')
    assert conversation(services, conversation_id).csat_score == 5
    assert services.db.run_sync(store.find_message_by_client_id, conversation_id=conversation_id,
                                client_id="r-2") is None


@pytest.mark.parametrize("typed", ["4/5", "4 out of 5", " 4 stars! ", "4."])
async def test_a_rating_typed_in_words_counts_like_the_button(services, rasa, typed):
    conversation_id = await resolved_asking_for_a_rating(services, rasa)
    stored = await customer_message.perform(services=services, conversation_id=conversation_id,
                                            client_id="t-1", text=typed, payload=None)
    assert stored.message.payload == '/rate_chat{"csat_score":"4"}'
    assert stored.message.text == typed.strip()  # what the customer wrote is kept
    assert conversation(services, conversation_id).csat_score == 4
    # the question is answered now: a second typed score is only text
    later = await customer_message.perform(services=services, conversation_id=conversation_id,
                                           client_id="t-2", text="1/5", payload=None)
    assert later.message.payload is None and conversation(services, conversation_id).csat_score == 4


@pytest.mark.parametrize("typed", ["6/5", "4 out of 10", "4 but the wait was long", "four"])
async def test_text_that_is_not_only_a_score_stays_text(services, rasa, typed):
    conversation_id = await resolved_asking_for_a_rating(services, rasa)
    stored = await customer_message.perform(services=services, conversation_id=conversation_id,
                                            client_id="t-3", text=typed, payload=None)
    assert stored.message.payload is None and conversation(services, conversation_id).csat_score is None


async def test_a_score_typed_during_the_human_phase_is_only_text(services):
    conversation_id = queued_conversation(services)
    stored = await customer_message.perform(services=services, conversation_id=conversation_id,
                                            client_id="t-4", text="5", payload=None)
    assert stored.message.payload is None and stored.message.human_phase
