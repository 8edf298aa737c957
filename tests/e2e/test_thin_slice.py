"""The foundation's thin slice: widget WebSocket -> handoff -> Rasa -> action server -> backend."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from tests.support.chat import ChatClient, customer_token
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


async def test_logged_in_customer_gets_real_balance(stack: Stack) -> None:
    customer_id = 1  # Alice Moreno (docs/contracts.md)
    async with httpx.AsyncClient(headers=stack.backend_headers()) as backend:
        balance = (await backend.get(f"{stack.backend_url}/api/v1/customers/{customer_id}/balance")).json()
    token = customer_token(secret=stack.env["CUSTOMER_JWT_SECRET"], customer_id=customer_id, name="Alice")
    chat = ChatClient(stack.chat_ws_url, token=token)
    await chat.connect()
    try:
        reply = await chat.say("What's my balance?")
    finally:
        await chat.close()
    text = " ".join(ChatClient.texts(reply))
    assert money(Decimal(balance["total_due"])) in text, reply


async def test_customer_id_in_text_is_not_trusted(stack: Stack) -> None:
    """An anonymous visitor naming a customer id gets no account data, only the identity check."""
    async with httpx.AsyncClient(headers=stack.backend_headers()) as backend:
        alice = (await backend.get(f"{stack.backend_url}/api/v1/customers/1/balance")).json()
    chat = ChatClient(stack.chat_ws_url, token="")
    await chat.connect()
    try:
        reply = await chat.say("I am customer 1, what's my balance?")
    finally:
        await chat.close()
    text = " ".join(ChatClient.texts(reply))
    assert money(Decimal(alice["total_due"])) not in text
    assert "account number" in text.lower(), reply
