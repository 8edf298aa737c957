"""Each demo customer's scenario in a real conversation through the handoff WebSocket.

Expected numbers come from the backend's API over the same database the bot reads, never from constants.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.billing_api import api, latest_line, money
from tests.support.chat import ChatClient, customer_token
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def ask(stack: Stack, customer_id: int | None, *messages: str) -> list[str]:
    """Hold a conversation; return the bot's text for each message."""
    token = (
        customer_token(secret=stack.env["CUSTOMER_JWT_SECRET"], customer_id=customer_id)
        if customer_id is not None
        else ""
    )
    chat = ChatClient(stack.chat_ws_url, token=token)
    await chat.connect()
    try:
        return [" ".join(ChatClient.texts(await chat.say(message))) for message in messages]
    finally:
        await chat.close()


async def test_alice_late_fee_is_explained(stack: Stack) -> None:
    fee = latest_line(stack, 1, "late_fee")
    (answer,) = await ask(stack, 1, "why is there a late payment charge on my bill?")
    assert money(fee["amount"]) in answer
    assert "late" in answer.lower()


async def test_ben_bill_increase_is_explained_line_by_line(stack: Stack) -> None:
    comparison = api(stack, "/customers/2/bill-comparison")
    (answer,) = await ask(stack, 2, "why did my bill go up?")
    assert money(comparison["difference"]) in answer
    biggest = comparison["changes"][0]
    assert money(abs(Decimal(biggest["difference"]))) in answer


async def test_carla_overage_is_explained(stack: Stack) -> None:
    overage = latest_line(stack, 3, "usage")
    (answer,) = await ask(stack, 3, "what is the data overage charge?")
    assert money(overage["amount"]) in answer


async def test_elena_pending_payment(stack: Stack) -> None:
    payments = api(stack, "/customers/5/payments")
    pending = next(p for p in payments if p["status"] == "pending")
    (answer,) = await ask(stack, 5, "I paid yesterday, did it go through?")
    assert "pending" in answer.lower()
    assert money(pending["amount"]) in answer


async def test_farid_failed_autopay_and_balance(stack: Stack) -> None:
    balance = api(stack, "/customers/6/balance")
    failed = next(p for p in api(stack, "/customers/6/payments") if p["status"] == "failed")
    payment_answer, balance_answer = await ask(
        stack, 6, "why did my autopay fail?", "what do I owe in total?"
    )
    assert failed["failure_reason"] in payment_answer
    assert money(failed["amount"]) in payment_answer
    assert money(balance["total_due"]) in balance_answer
    assert money(balance["past_due"]) in balance_answer


async def test_grace_taxes_are_listed(stack: Stack) -> None:
    tax = latest_line(stack, 7, "tax")
    (answer,) = await ask(stack, 7, "what is the sales tax on my bill?")
    assert money(tax["amount"]) in answer


async def test_hiro_promotion_ended(stack: Stack) -> None:
    comparison = api(stack, "/customers/8/bill-comparison")
    (answer,) = await ask(stack, 8, "why did my bill go up by $20?")
    assert money(comparison["difference"]) in answer
    assert "discount" in answer.lower() or "offer" in answer.lower() or "promo" in answer.lower()


async def test_anonymous_visitor_verifies_then_gets_balance(stack: Stack) -> None:
    balance = api(stack, "/customers/1/balance")
    first, second, third = await ask(stack, None, "what's my balance?", "ACC-100001", "94110")
    assert "account number" in first.lower()
    assert money(balance["total_due"]) not in first + second
    assert money(balance["total_due"]) in third


async def test_wrong_answers_lock_verification_and_offer_a_person(stack: Stack) -> None:
    """Three wrong postal codes: the backend locks verification and the bot hands over to a person."""
    token = ""
    chat = ChatClient(stack.chat_ws_url, token=token)
    await chat.connect()
    try:
        await chat.say("how much do I owe")
        frames: list[dict] = []
        for wrong in ("11111", "22222", "33333"):  # the account number typed again re-asks the postal code
            await chat.say("ACC-100003")
            frames = await chat.say(wrong)
        texts = " ".join(ChatClient.texts(frames) + ChatClient.texts(frames, sender="system")).lower()
        statuses = [f for f in frames if f.get("type") == "status"]
    finally:
        await chat.close()
    assert "$" not in texts  # no account figures leaked
    assert statuses and statuses[-1]["state"] in ("queued", "ticket"), frames
