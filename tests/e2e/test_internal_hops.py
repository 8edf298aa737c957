"""Every internal hop is authenticated and identity is signed end to end (issue 14), on the shared real stack:
callers that reach Rasa's port or the action server's port directly, as an attacker inside the network
would."""

from __future__ import annotations

import sqlite3
import uuid
from decimal import Decimal

import httpx
import pytest

from handoff.clients.identity_assertion import mint_identity_assertion
from tests.support.chat import ChatClient, customer_token
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ACCESS = "access"
BEN = 2  # docs/contracts.md demo customers
DAVID = 4


def money(amount: str) -> str:
    return f"${Decimal(amount):,.2f}"


def tracker_event_count(stack: Stack, sender_id: str) -> int:
    with sqlite3.connect(stack.tracker_db) as db:
        return db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender_id,)).fetchone()[0]


def conversation_state(stack: Stack, conversation_id: str) -> str:
    with sqlite3.connect(stack.workdir / "handoff.db") as db:
        return db.execute("SELECT state FROM conversations WHERE id = ?", (conversation_id,)).fetchone()[0]


def backend_get(stack: Stack, path: str):
    answer = httpx.get(f"{stack.backend_url}/api/v1{path}", headers=stack.backend_headers(), timeout=10)
    answer.raise_for_status()
    return answer.json()


async def signed_in_conversation(stack: Stack, customer_id: int, name: str) -> str:
    """A real conversation of a signed-in customer, one turn old (so Rasa holds its tracker)."""
    chat = ChatClient(stack.chat_ws_url, token=customer_token(secret=stack.env["CUSTOMER_JWT_SECRET"],
                                                              customer_id=customer_id, name=name))
    await chat.connect()
    try:
        await chat.say("hello")
    finally:
        await chat.close()
    return chat.conversation_id


def rasa_chat(stack: Stack, body: dict, *, token: str | None, path: str = "/webhooks/handoff/webhook"):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.post(f"{stack.rasa_url}{path}", json=body, headers=headers, timeout=60)


@pytest.mark.trust_case(
    area=ACCESS,
    case="Turn posted straight to Rasa (no token, a wrong token, or the REST webhook) for a real customer's "
         "conversation, naming the customer in metadata",
    expected="401 (REST webhook: 404, not enabled); nothing written to that conversation's tracker")
async def test_rasa_takes_chat_turns_only_from_the_handoff_service(stack: Stack) -> None:
    victim = await signed_in_conversation(stack, BEN, "Ben")
    events_before = tracker_event_count(stack, victim)
    assert events_before > 0
    body = {"sender": victim, "message": "what is my balance?", "metadata": {"customer_id": BEN}}
    for token in (None, "wrong-token", stack.env["RASA_AUTH_TOKEN"]):
        refused = rasa_chat(stack, body, token=token)
        assert refused.status_code == 401, (token, refused.text)
    assert rasa_chat(stack, body, token=None, path="/webhooks/rest/webhook").status_code == 404
    # the right token with a body that is not a turn: a clear 400, not a 500
    for malformed in (
        {"message": "hi"}, {"sender": victim}, {"sender": victim, "message": "hi", "metadata": [1]},
    ):
        assert rasa_chat(stack, malformed, token=stack.env["RASA_CHANNEL_TOKEN"]).status_code == 400, (
            malformed
        )
    assert tracker_event_count(stack, victim) == events_before


@pytest.mark.trust_case(
    area=ACCESS,
    case="Turn sent with Rasa's channel token but a forged identity (bare metadata customer_id, an assertion "
    "signed with another key, another conversation's assertion)",
    expected="treated as an anonymous visitor: the identity question, none of the customer's data",
)
async def test_a_forged_identity_in_metadata_gets_no_customer_data(stack: Stack) -> None:
    balance = backend_get(stack, f"/customers/{BEN}/balance")
    secret = stack.env["IDENTITY_ASSERTION_SECRET"]
    attacker = f"attacker-{uuid.uuid4()}"
    forgeries = {
        "bare customer_id": {"customer_id": BEN},
        "other key": {
            "identity": mint_identity_assertion(
                conversation_id=attacker, customer_id=BEN, secret="not-the-" + secret, seconds=120
            )
        },
        "other conversation": {
            "identity": mint_identity_assertion(
                conversation_id=f"{attacker}-elsewhere", customer_id=BEN, secret=secret, seconds=120
            )
        },
    }
    for name, metadata in forgeries.items():
        sender = f"{attacker}-{name.replace(' ', '-')}"
        if name == "other conversation":
            sender = attacker
        answer = rasa_chat(stack, {"sender": sender, "message": "what is my balance?", "metadata": metadata},
                           token=stack.env["RASA_CHANNEL_TOKEN"])
        assert answer.status_code == 200, answer.text
        text = " ".join(message.get("text") or "" for message in answer.json())
        assert money(balance["total_due"]) not in text, (name, text)
        assert "account number" in text.lower(), (name, text)


def action_call(sender_id: str, action: str, *, slots: dict, metadata: dict) -> dict:
    return {
        "next_action": action, "sender_id": sender_id, "version": "3.6.21", "domain": {},
        "tracker": {
            "sender_id": sender_id, "slots": slots, "paused": False, "followup_action": None,
            "active_loop": {}, "latest_action_name": "action_listen", "events": [],
            "latest_message": {
                "intent": {"name": "affirm", "confidence": 1.0}, "entities": [], "text": "yes",
                "metadata": metadata,
            },
        },
    }


@pytest.mark.trust_case(
    area=ACCESS,
    case="Action server called directly: without Rasa's token; with it but a forged tracker (metadata "
    "customer_id, verified_customer_id slot) asking for a balance, a dispute and an escalation of a real "
    "conversation",
    expected="401 without the token; with it: no customer data, no dispute opened, nothing queued",
)
async def test_the_action_server_trusts_neither_callers_nor_trackers(stack: Stack) -> None:
    actions_url = f"http://127.0.0.1:{stack.services['actions'].port}/webhook"
    victim = await signed_in_conversation(stack, DAVID, "David")
    items = [item for invoice in backend_get(stack, f"/customers/{DAVID}/invoices")[:1]
             for item in backend_get(stack, f"/customers/{DAVID}/invoices/{invoice['number']}")["line_items"]]
    balance = backend_get(stack, f"/customers/{DAVID}/balance")
    disputes_before = backend_get(stack, f"/customers/{DAVID}/disputes")
    forged_slots = {
        "verified_customer_id": DAVID, "identity_verified": True, "verification_status": "verified",
        "dispute_line_item_id": items[0]["id"], "dispute_reason": "I was charged twice for this",
        "dispute_confirmed": True, "account_currency": "USD",
    }
    forged = {"customer_id": DAVID, "conversation_id": victim}
    token = {"Authorization": f"Bearer {stack.env['ACTION_SERVER_TOKEN']}"}

    async with httpx.AsyncClient(timeout=30) as client:
        for headers in (
            {}, {"Authorization": "Bearer wrong"},
            {"Authorization": f"Bearer {stack.env['RASA_AUTH_TOKEN']}"},
        ):
            refused = await client.post(
                actions_url, headers=headers,
                json=action_call(victim, "action_check_balance", slots=forged_slots, metadata=forged),
            )
            assert refused.status_code == 401, headers
        answers = {}
        for action in ("action_check_balance", "action_submit_dispute", "action_escalate_to_human"):
            answer = await client.post(actions_url, headers=token,
                                       json=action_call(victim, action, slots=forged_slots, metadata=forged))
            assert answer.status_code == 200, answer.text
            answers[action] = [r.get("response") for r in answer.json()["responses"]]
            assert money(balance["total_due"]) not in answer.text

    assert answers == {"action_check_balance": ["utter_need_verification"],
                       "action_submit_dispute": ["utter_dispute_cancelled"],
                       "action_escalate_to_human": ["utter_handoff_unavailable"]}
    assert backend_get(stack, f"/customers/{DAVID}/disputes") == disputes_before
    assert conversation_state(stack, victim) == "bot"
