"""End to end: a customer chats through the real stack; the review reads what Rasa stored."""

from __future__ import annotations

import pytest

from tests.support.chat import ChatClient
from tests.support.stack import Stack
from trainer.review import find_review_messages

pytestmark = pytest.mark.e2e


async def test_a_question_followed_by_asking_for_a_human_is_reviewed(stack: Stack) -> None:
    chat = ChatClient(stack.chat_ws_url)
    await chat.connect()
    try:
        await chat.say("why does the zorblax thing on my statement keep changing")
        await chat.say("i want to talk to a human")
    finally:
        await chat.close()
    database_url = f"sqlite:///{stack.env['RASA_TRACKER_SQLITE']}"
    messages = find_review_messages(database_url=database_url, threshold=0.6)
    question = [m for m in messages if m.text == "why does the zorblax thing on my statement keep changing"]
    assert len(question) == 1, [m.text for m in messages]
    assert "then_asked_for_human" in question[0].reasons
    assert question[0].sender_id == chat.conversation_id
    assert [line.text for line in question[0].transcript if line.flagged] == [question[0].text]
    # Everything the customer typed is in the tracker, so a threshold above 1 lists both messages.
    everything = {m.text for m in find_review_messages(database_url=database_url, threshold=1.01)}
    assert {
        "why does the zorblax thing on my statement keep changing", "i want to talk to a human",
    } <= everything
