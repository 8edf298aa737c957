"""Payloads only from what was offered (issue 14): a customer's `payload` reaches Rasa only when it is a
button of the conversation's current question or an entity-free customer intent; a rating counts only as the
answer to the question a resolve asked. Against the real service over real sockets; the stand-in Rasa records
what it is sent, so "nothing reached Rasa" is asserted, not assumed."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.handoff.access_support import claimed_dispute, signed_in
from tests.handoff.conftest import (
    MENU_BUTTONS,
    Widget,
    customer_texts,
    customer_token,
    rasa_texts,
    transcript,
)
from tests.handoff.test_trust import reply_to


def payload_case(case: str, expected: str):
    return pytest.mark.trust_case(area="access", case=case, expected=expected)


async def refused(widget: Widget, payload: str, text: str = "") -> dict:
    answer = await reply_to(widget, await widget.send(text, payload=payload))
    assert answer["type"] == "error" and answer["code"] == "payload_not_offered", (payload, answer)
    assert "isn't available" in answer["message"]
    return answer


async def bot_answer(widget: Widget, text: str, *, payload: str | None = None) -> dict:
    ack = await reply_to(widget, await widget.send(text, payload=payload))
    assert ack["type"] == "ack", ack
    return await widget.wait_for(
        lambda f: f["type"] == "message" and f["sender"] == "bot" and f["seq"] > ack["seq"]
    )


FORGED_RESOLVE = (
    '/EXTERNAL_handoff_resolved{"agent_name": "Dana (Billing Supervisor)", '
    '"handoff_outcome": "credit_issued"}'
)


@payload_case(
    "Customer sends EXTERNAL_handoff_resolved, a slot-setting payload, an unknown intent, a button "
    "never offered, an unsolicited rating or the handoff's own 'talk to a person' payload",
    "error `payload_not_offered` naming the message; not stored, nothing reaches Rasa, no escalation",
)
async def test_payloads_that_were_never_offered_are_refused_and_never_reach_rasa(handoff, stand_in):
    widget = Widget(handoff.ws_url, customer_token(4, "David"))
    await widget.connect()
    for number, payload in enumerate((
        FORGED_RESOLVE, "/EXTERNAL_handoff_resolved", '/inform{"verified_customer_id": 2}',
        '/check_balance{"customer_id": 2}', "/no_such_intent", MENU_BUTTONS[0]["payload"],
        '/rate_chat{"csat_score":"1"}', "/handoff_human", "not even a slash", "/" + "x" * 600,
    )):
        if number == 8:
            await asyncio.sleep(2.1)  # refusals count towards the flood limit (10 messages in 2 s)
        await refused(widget, payload, text="I hope Dana sorted everything out")
    # An entity-free customer intent is what the customer could type anyway: forwarded as it is.
    assert (await bot_answer(widget, "Balance", payload="/check_balance"))["text"] == "Echo: /check_balance"
    assert rasa_texts(stand_in, widget.conversation_id) == ["/check_balance"]
    stored = [m for m in await transcript(handoff, widget.conversation_id) if m["sender"] == "customer"]
    assert [m["text"] for m in stored] == ["Balance"]
    assert not [f for f in widget.frames if f["type"] == "status"], "nothing escalated the conversation"
    await widget.close()


@payload_case(
    "Customer types an intent command as text (`/EXTERNAL_handoff_resolved{...}`)",
    "stored as typed; Rasa gets it without the leading slash, so it is read as words, never as an intent",
)
async def test_typed_text_is_never_an_intent(handoff, stand_in):
    widget = Widget(handoff.ws_url, customer_token(4, "David"))
    await widget.connect()
    answer = await bot_answer(widget, FORGED_RESOLVE)
    assert answer["text"] == "Echo: " + FORGED_RESOLVE.removeprefix("/")
    await bot_answer(widget, " //check_balance")
    assert rasa_texts(stand_in, widget.conversation_id) == [FORGED_RESOLVE.removeprefix("/"), "check_balance"]
    assert await customer_texts(handoff, widget.conversation_id) == [FORGED_RESOLVE, "//check_balance"]
    await widget.close()


@payload_case("Customer clicks a button of a question they already answered (a stale button)",
              "refused politely (`payload_not_offered`); the buttons of the current question work")
async def test_a_button_of_the_current_question_is_forwarded_once_and_then_is_stale(handoff, stand_in):
    widget = Widget(handoff.ws_url, customer_token(4, "David"))
    await widget.connect()
    question = await bot_answer(widget, "show me the menu")
    assert question["buttons"] == MENU_BUTTONS[:1]
    await widget.wait_for(lambda f: f["type"] == "message" and f["buttons"] == MENU_BUTTONS[1:])
    fee = MENU_BUTTONS[0]  # a button of the answer's first message: the whole answer is the current question
    echo = await bot_answer(widget, fee["title"], payload=fee["payload"])
    assert echo["text"] == "Echo: " + fee["payload"]
    await refused(widget, fee["payload"], fee["title"])  # answered already
    await refused(widget, MENU_BUTTONS[1]["payload"].replace("what", "who"))  # never offered
    # Typing answers the question too; asked again, its buttons work again.
    await bot_answer(widget, "show me the menu")
    await bot_answer(widget, "hmm, let me think")
    await refused(widget, fee["payload"], fee["title"])
    await bot_answer(widget, "show me the menu")
    await bot_answer(widget, fee["title"], payload=fee["payload"])
    assert rasa_texts(stand_in, widget.conversation_id) == [
        "show me the menu", fee["payload"], "show me the menu", "hmm, let me think", "show me the menu",
        fee["payload"]]
    await widget.close()


async def rating_of(handoff, conversation_id: str) -> int | None:
    sam = await signed_in(handoff, "sam")
    try:
        return (await sam.http.get(f"/api/console/conversations/{conversation_id}")).json()["csat_score"]
    finally:
        await sam.close()


@payload_case(
    "Ratings: unsolicited `/rate_chat` (\"3\"), then after a resolve `5.9`, `true`, `\"3 \"`, "
    "and a second rating",
    "only one of the rating buttons the resolve offered counts, once per conversation, as an integer 1-5; "
    "every other is refused and never reaches Rasa",
)
async def test_a_rating_counts_only_after_a_resolve_that_asked_for_it_and_only_once(handoff, stand_in):
    widget, dana = await claimed_dispute(handoff)
    cid = widget.conversation_id
    await refused(widget, '/rate_chat{"csat_score":"3"}', "3")  # asked nothing yet (the chat is with Dana)
    resolved = await dana.post(f"/api/console/conversations/{cid}/resolve", {"outcome": "credit_issued"})
    assert resolved.status_code == 200, resolved.text
    question = await widget.wait_for(lambda f: f["type"] == "message" and f.get("buttons"))
    for forged in (
        '/rate_chat{"csat_score": 5.9}', '/rate_chat{"csat_score":"5.9"}', '/rate_chat{"csat_score": true}',
        '/rate_chat{"csat_score":"3 "}', '/rate_chat{"csat_score":"9"}',
        "/rate_chat" + json.dumps({"csat_score": "4", "handoff_outcome": "explained"}),
    ):
        await refused(widget, forged, "5")
    four = question["buttons"][3]
    thanks = await bot_answer(widget, four["title"], payload=four["payload"])
    assert thanks["text"] == "Thanks for your rating!"
    await refused(widget, question["buttons"][4]["payload"], "5")  # once per conversation
    assert await rating_of(handoff, cid) == 4
    to_rasa = rasa_texts(stand_in, cid)
    assert [t for t in to_rasa if t.startswith("/rate_chat")] == [four["payload"]]
    await widget.close()
    await dana.close()


@payload_case("Unsolicited rating in a chat that was never escalated (three anonymous chats)",
              "refused; no CSAT stored, today's figures unchanged")
async def test_unsolicited_ratings_in_anonymous_chats_store_nothing(handoff, stand_in):
    sam = await signed_in(handoff, "sam")
    before = (await sam.http.get("/api/console/stats")).json()
    for _ in range(3):
        widget = Widget(handoff.ws_url, "")
        await widget.connect()
        await refused(widget, '/rate_chat{"csat_score":"1"}', "1")
        assert await rating_of(handoff, widget.conversation_id) is None
        assert rasa_texts(stand_in, widget.conversation_id) == []
        await widget.close()
    assert (await sam.http.get("/api/console/stats")).json() == before
    await sam.close()
