"""handoff/conversations/read_receipts.py (issue 17): a console's `seen` reaches the customer's widget as a
`read` frame up to a seq; after a reconnect the widget's `read` is derived from the stored messages (what a
specialist answered), and a bot answer never marks a message read."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from fastapi import WebSocket

from handoff.assignments import agent_message, claim
from handoff.conversations import customer_message, read_receipts, store
from handoff.conversations.widget_socket import CustomerConnection
from handoff.pubsub import conversation_channel
from tests.handoff.unit.support import add_staff, new_conversation, queued_conversation


class FakeSocket:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_json(self, frame: dict[str, Any]) -> None:
        self.sent.append(frame)


async def _customer_says(services, conversation_id: str, client_id: str, text: str) -> int:
    await customer_message.perform(services=services, conversation_id=conversation_id, client_id=client_id,
                                   text=text, payload=None)
    message = services.db.run_sync(lambda s: store.find_message_by_client_id(
        s, conversation_id=conversation_id, client_id=client_id))
    return int(message.seq)


async def test_a_seen_seq_reaches_the_widget_as_a_read_frame(services):
    conversation_id = queued_conversation(services)
    seq = await _customer_says(services, conversation_id, "c-1", "is anyone there?")
    socket = FakeSocket()
    connection = CustomerConnection(websocket=cast(WebSocket, socket), services=services,
                                    conversation_id=conversation_id, last_seq=seq)
    subscription = await services.pubsub.subscribe(conversation_channel(conversation_id))
    listening = asyncio.create_task(connection.listen(subscription))
    try:
        await read_receipts.seen(services=services, conversation_id=conversation_id, seq=seq)
        for _ in range(100):
            if socket.sent:
                break
            await asyncio.sleep(0.01)
    finally:
        listening.cancel()
        await subscription.close()
    assert socket.sent == [{"type": "read", "seq": seq}]


async def test_after_a_reconnect_what_a_specialist_answered_is_read_and_bot_answers_are_not(services):
    conversation_id = new_conversation(services)
    asked = await _customer_says(services, conversation_id, "c-1", "why is my bill high?")
    services.db.run_sync(lambda s: store.append_message(s, conversation_id=conversation_id, sender="bot",
                                                        text="Your bill went up because..."))
    assert await read_receipts.replay(services=services, conversation_id=conversation_id) is None

    queued = queued_conversation(services)
    first = await _customer_says(services, queued, "q-1", "hello?")
    second = await _customer_says(services, queued, "q-2", "still there?")
    dana = add_staff(services, "dana")
    await claim.perform(services=services, conversation_id=queued, staff=dana)
    assert await read_receipts.replay(services=services, conversation_id=queued) is None  # nobody answered
    await agent_message.perform(services=services, conversation_id=queued, staff=dana, text="Hi, I'm here.",
                                client_id=None)
    later = await _customer_says(services, queued, "q-3", "great")
    assert first < second < later and asked
    assert await read_receipts.replay(services=services, conversation_id=queued) == {"type": "read",
                                                                                     "seq": second}


@pytest.mark.parametrize(("seq", "expected"), [(1, 1), (2**31 - 1, 2**31 - 1), (0, None), (-3, None),
                                               (2**31, None), (True, None), ("5", None), (None, None)])
def test_a_seen_frame_names_a_plausible_seq(seq, expected):
    assert read_receipts.seen_seq_of({"type": "seen", "seq": seq}) == expected


async def test_the_read_position_is_stored_so_a_reconnect_shows_what_was_seen_before_any_answer(services):
    conversation_id = queued_conversation(services)
    first = await _customer_says(services, conversation_id, "s-1", "hello?")
    assert await read_receipts.replay(services=services, conversation_id=conversation_id) is None
    await read_receipts.seen(services=services, conversation_id=conversation_id, seq=first)
    later = await _customer_says(services, conversation_id, "s-2", "anyone?")
    assert await read_receipts.replay(services=services, conversation_id=conversation_id) == {
        "type": "read", "seq": first}  # seen, not answered: still read after a reload
    await read_receipts.seen(services=services, conversation_id=conversation_id, seq=first - 1 or 1)
    await read_receipts.seen(services=services, conversation_id=conversation_id, seq=2**31 - 1)
    assert await read_receipts.replay(services=services, conversation_id=conversation_id) == {
        "type": "read", "seq": later}  # never lowered, never past the last message
