"""handoff/conversations/turns.py: a customer message's bot turn, claimed by one worker and answered once."""

from __future__ import annotations

import asyncio

from handoff.conversations import customer_message, store, turns
from handoff.conversations.payloads import HUMAN_REQUEST_PAYLOAD
from handoff.db import utcnow
from tests.handoff.unit.support import conversation, new_conversation, texts


async def _stored(services, conversation_id, text="what do I owe?", client_id="c-1", payload=None):
    stored = await customer_message.perform(services=services, conversation_id=conversation_id,
                                            client_id=client_id, text=text, payload=payload)
    return stored.message.id


async def test_the_bot_answers_and_the_answer_is_published(services, rasa, recorder):
    conversation_id = new_conversation(services)
    message_id = await _stored(services, conversation_id, text="//check_balance please")
    recorder.drain()
    assert await turns.perform(services=services, conversation_id=conversation_id, message_id=message_id)
    assert rasa.sent == [{"conversation_id": conversation_id, "text": "check_balance please",
                          "customer_id": 4}]
    assert rasa.channels == ["chat"]
    assert texts(services, conversation_id)[-1] == ("bot", "Your balance is $42.00.")
    assert [event["frame"]["text"] for _, event in recorder.drain()] == ["Your balance is $42.00."]
    # Answered: running it again (another tab) sends nothing to Rasa.
    assert await turns.perform(services=services, conversation_id=conversation_id, message_id=message_id)
    assert len(rasa.sent) == 1


async def test_rasa_unreachable_offers_a_person(services, rasa):
    rasa.down = True
    conversation_id = new_conversation(services)
    message_id = await _stored(services, conversation_id)
    await turns.perform(services=services, conversation_id=conversation_id, message_id=message_id)
    last = services.db.run_sync(store.messages_after, conversation_id=conversation_id, after_seq=0)[-1]
    assert (last.sender, last.text) == ("system", turns.UNREACHABLE_BOT_TEXT)
    assert last.buttons == [{"title": "Talk to a person", "payload": HUMAN_REQUEST_PAYLOAD}]


async def test_a_silent_bot_never_leaves_the_customer_in_silence(services, rasa):
    rasa.replies = []
    conversation_id = new_conversation(services)
    message_id = await _stored(services, conversation_id)
    await turns.perform(services=services, conversation_id=conversation_id, message_id=message_id)
    assert texts(services, conversation_id)[-1] == ("system", turns.SILENT_BOT_TEXT)


async def test_talk_to_a_person_escalates_here_and_never_reaches_rasa(services, rasa):
    rasa.down = True
    conversation_id = new_conversation(services)
    await turns.perform(services=services, conversation_id=conversation_id,
                        message_id=await _stored(services, conversation_id))
    rasa.sent.clear()
    message_id = await _stored(services, conversation_id, text="Talk to a person", client_id="c-2",
                               payload=HUMAN_REQUEST_PAYLOAD)
    assert await turns.perform(services=services, conversation_id=conversation_id, message_id=message_id)
    assert rasa.sent == []
    # Nobody is online (the unit settings make a ticket then).
    assert conversation(services, conversation_id).state == "ticket"
    assert conversation(services, conversation_id).escalation_reason == "request_human"


async def test_a_turn_another_worker_holds_is_waited_for_and_a_lapsed_one_is_taken_over(services, rasa):
    conversation_id = new_conversation(services)
    message_id = await _stored(services, conversation_id)
    now = utcnow()
    assert services.db.run_sync(store.claim_message, message_id=message_id, claimant="other-replica", now=now,
                                stale_before=now)
    assert not await turns.perform(services=services, conversation_id=conversation_id, message_id=message_id)
    assert rasa.sent == []
    # The other worker died: its claim is older than turn_claim_seconds.
    services.db.run_sync(store.renew_claim, message_id=message_id, claimant="other-replica",
                         now=now.replace(year=now.year - 1))
    assert await turns.perform(services=services, conversation_id=conversation_id, message_id=message_id)
    assert len(rasa.sent) == 1


async def test_turns_run_oldest_first_and_a_started_turn_outlives_its_socket(services, rasa):
    conversation_id = new_conversation(services)
    first = await _stored(services, conversation_id, text="first", client_id="c-1")
    second = await _stored(services, conversation_id, text="second", client_id="c-2")
    # The second message's worker runs the conversation's oldest unanswered turn first, then its own.
    task = turns.start(services=services, conversation_id=conversation_id, message_id=second)
    assert await asyncio.wait_for(task, 5)
    assert [call["text"] for call in rasa.sent] == ["first", "second"]
    assert services.db.run_sync(store.get_message, message_id=first).processed
    assert not services.turns.in_flight


async def test_at_shutdown_a_turn_in_flight_gives_its_claim_back(services, rasa):
    rasa.block = asyncio.Event()  # Rasa never answers
    conversation_id = new_conversation(services)
    message_id = await _stored(services, conversation_id)
    task = turns.start(services=services, conversation_id=conversation_id, message_id=message_id)
    await asyncio.wait_for(rasa.reached.wait(), 5)
    await services.turns.stop(grace_seconds=0.05)
    assert task.cancelled()
    message = services.db.run_sync(store.get_message, message_id=message_id)
    assert (message.processed, message.claimed_by) == (False, None)  # a reconnect runs it at once
