"""Payments in the chat end to end (issue 16): the real stack (widget socket, handoff, Rasa with the trained
model, action server, backend with the simulated processor). Expected figures come from the backend's API.

Farid pays his past due (after a new card is saved, as the secure page would); Hiro, whose bill is not yet
due, promises to pay it; Farid's promise is outside policy (his overdue bill is past the window): a person."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.support.billing_api import api, money
from tests.support.chat import ChatClient, customer_token
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FARID = 6
HIRO = 8


def long_date(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


async def open_chat(stack: Stack, customer_id: int) -> ChatClient:
    chat = ChatClient(
        stack.chat_ws_url,
        token=customer_token(secret=stack.env["CUSTOMER_JWT_SECRET"], customer_id=customer_id),
    )
    await chat.connect()
    return chat


def buttons(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        b
        for f in frames
        if f.get("type") == "message" and f.get("sender") == "bot"
        for b in f.get("buttons") or []
    ]


def bot_text(frames: list[dict[str, Any]]) -> str:
    return " ".join(ChatClient.texts(frames))


async def test_hiro_sets_up_a_promise_to_pay(stack: Stack) -> None:
    promise = api(stack, f"/customers/{HIRO}/arrangement-options")["promise_to_pay"]
    assert promise["eligible"], promise
    earliest, latest = (
        date.fromisoformat(promise["earliest_date"]),
        date.fromisoformat(promise["latest_date"]),
    )
    pay_by = min(earliest + timedelta(days=10), latest)
    chat = await open_chat(stack, HIRO)
    try:
        question = await chat.say(f"let me pay my bill on {pay_by:%B} {pay_by.day}")
        assert money(promise["minimum_amount"]) in bot_text(question)
        assert long_date(pay_by) in bot_text(question)
        assert api(stack, f"/customers/{HIRO}/arrangements") == []  # nothing before the yes
        yes = next(b for b in buttons(question) if b["payload"] == "/affirm")
        done = await chat.say(yes["title"], payload=yes["payload"])
        assert long_date(pay_by) in bot_text(done) and "Done" in bot_text(done)
    finally:
        await chat.close()
    (made,) = api(stack, f"/customers/{HIRO}/arrangements")
    assert (made["kind"], made["status"], made["pay_by"]) == ("promise_to_pay", "active", pay_by.isoformat())
    assert Decimal(made["amount"]) == Decimal(promise["minimum_amount"])


async def test_a_promise_outside_policy_goes_to_a_specialist(stack: Stack) -> None:
    promise = api(stack, f"/customers/{FARID}/arrangement-options")["promise_to_pay"]
    assert not promise["eligible"]  # his overdue bill is past the policy's window
    chat = await open_chat(stack, FARID)
    try:
        reply = await chat.say("can i pay the overdue amount next week?")
    finally:
        await chat.close()
    assert promise["reasons"][0]["message"].rstrip(".") in bot_text(reply)
    assert any(f.get("type") == "status" and f.get("state") in ("queued", "ticket") for f in reply)
    assert api(stack, f"/customers/{FARID}/arrangements") == []


def save_new_card(stack: Stack) -> None:
    """Farid's card on file has expired: a new one is saved first, as the secure payment page does."""
    card = httpx.post(
        f"{stack.backend_url}/sim-processor/v1/payment_methods",
        timeout=10,
        data={
            "type": "card",
            "card[number]": "4242424242424242",
            "card[exp_month]": "12",
            "card[exp_year]": "2034",
            "card[cvc]": "123",
        },
    )
    card.raise_for_status()
    saved = httpx.post(
        f"{stack.backend_url}/api/v1/customers/{FARID}/payment-methods",
        timeout=10,
        json={"token": card.json()["id"], "make_default": True},
        headers={
            **stack.backend_headers(),
            "X-Actor": "specialist:dana",
            "Idempotency-Key": "e2e-farid-new-card",
        },
    )
    saved.raise_for_status()


async def test_farid_pays_his_past_due_once_after_confirming(stack: Stack) -> None:
    save_new_card(stack)
    before = api(stack, f"/customers/{FARID}/balance")
    past_due, total_due = Decimal(before["past_due"]), Decimal(before["total_due"])
    assert past_due > 0
    chat = await open_chat(stack, FARID)
    try:
        question = await chat.say(f"pay the {money(past_due)} that's overdue")
        text = bot_text(question)
        assert money(past_due) in text and "Visa ending 4242" in text and money(total_due - past_due) in text
        assert api(stack, f"/customers/{FARID}/balance")["total_due"] == before["total_due"]  # nothing yet
        yes = next(b for b in buttons(question) if b["payload"] == "/affirm")
        done = await chat.say(yes["title"], payload=yes["payload"])
        assert money(total_due - past_due) in bot_text(done)
        await chat.say("yes")  # the confirmation resent as text: answered, never paid again
    finally:
        await chat.close()
    paid = [p for p in api(stack, f"/customers/{FARID}/payments") if p.get("source") == "bot"]
    assert [Decimal(p["amount"]) for p in paid] == [past_due]
    assert Decimal(api(stack, f"/customers/{FARID}/balance")["total_due"]) == total_due - past_due
