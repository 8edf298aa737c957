"""POST /api/payment-page/outcomes on a real handoff process: the backend's own sender (the body it really
sends) reaches a customer's open widget over a real WebSocket, once; the route's refusals."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx

from backend.payment_page.notify import OUTCOME_PATH, send_outcome
from backend.payment_page.schemas import CompletionOut
from tests.handoff.conftest import API_TOKEN, Widget, customer_token

SUMMARY = "Visa ending 4242 is saved as your payment method. $75.00 paid now (posted). You owe $0.00."


def _backend_body(conversation_id: str, *, customer_id: int = 6, nonce: str = "a" * 32) -> dict:
    """What backend/payment_page/service.py sends: the page's completion answer plus the three ids."""
    outcome = CompletionOut(
        status="completed", method={"id": 3, "masked": "Visa ending 4242 (expires 12/2030)"},
        payment={"id": 9, "amount": "75.00", "currency": "USD", "status": "posted",
                 "expected_post_date": None, "failure_message": None},
        autopay={"enabled": True, "next_autopay_date": "2026-01-01"}, total_due=Decimal("0.00"),
        currency="USD", summary=SUMMARY)
    return {"event_id": f"payment-page-{nonce}", "conversation_id": conversation_id,
            "customer_id": customer_id, **outcome.model_dump(mode="json")}


async def _send(handoff, body: dict) -> bool:
    return await asyncio.to_thread(send_outcome, handoff_url=handoff.url, api_token=API_TOKEN, body=body)


async def test_the_outcome_reaches_the_open_widget_once_and_rasa_is_told(handoff, stand_in):
    widget = Widget(handoff.ws_url, customer_token(6, "Farid"))
    await widget.connect()
    greeting = await widget.wait_for(lambda f: f["type"] == "message" and f["sender"] == "bot")
    assert await _send(handoff, _backend_body(widget.conversation_id))
    shown = await widget.wait_for(lambda f: f["type"] == "message" and f["sender"] == "system")
    assert shown["text"] == SUMMARY and shown["seq"] == greeting["seq"] + 1
    # Rasa is told once (trigger_intent with the page's payment and autopay), and its answer follows
    followup = await widget.wait_for(
        lambda f: f["type"] == "message" and f["sender"] == "bot" and f["seq"] > shown["seq"])
    assert followup["seq"] == shown["seq"] + 1 and followup["buttons"][0]["payload"] == "/change_autopay"
    assert stand_in.triggered == [(widget.conversation_id, {
        "name": "EXTERNAL_payment_page_completed",
        "entities": {"page_payment": "posted", "page_autopay": "on"},
    })]
    # the backend retries: the same event again is taken (200), stores nothing and tells Rasa nothing
    async with httpx.AsyncClient(base_url=handoff.url, timeout=10) as client:
        again = await client.post(OUTCOME_PATH, json=_backend_body(widget.conversation_id),
                                  headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert again.status_code == 200
    assert again.json() == {"stored": True, "duplicate": True, "seq": shown["seq"]}
    # a later frame proves nothing else arrived in between (the Widget asserts no seq is delivered twice)
    await widget.send("thanks")
    echo = await widget.wait_for(lambda f: f["type"] == "message" and f["text"] == "Echo: thanks")
    system = [f["seq"] for f in widget.frames if f["type"] == "message" and f["sender"] == "system"]
    assert system == [shown["seq"]]
    assert echo["seq"] == followup["seq"] + 2
    assert len(stand_in.triggered) == 1
    await widget.close()


async def test_rasa_down_the_summary_is_still_shown(handoff, stand_in):
    widget = Widget(handoff.ws_url, customer_token(6, "Farid"))
    await widget.connect()
    await widget.wait_for(lambda f: f["type"] == "message" and f["sender"] == "bot")
    stand_in.rasa_down = True
    body = _backend_body(widget.conversation_id, nonce="b" * 32)
    body["autopay"] = None  # the page left autopay as it was
    try:
        assert await _send(handoff, body)
        shown = await widget.wait_for(lambda f: f["type"] == "message" and f["sender"] == "system")
        assert shown["text"] == SUMMARY
        for _ in range(50):  # the task that tells Rasa runs after the answer
            if stand_in.triggered:
                break
            await asyncio.sleep(0.1)
        assert stand_in.triggered == [(widget.conversation_id, {
            "name": "EXTERNAL_payment_page_completed",
            "entities": {"page_payment": "posted", "page_autopay": "unchanged"},
        })]
    finally:
        stand_in.rasa_down = False
    await widget.send("thanks")
    await widget.wait_for(lambda f: f["type"] == "message" and f["text"] == "Echo: thanks")
    senders = [f["sender"] for f in widget.frames if f["type"] == "message"]
    assert senders == ["bot", "system", "customer", "bot"]
    await widget.close()


async def test_refusals_token_body_and_other_customers_chat(handoff):
    widget = Widget(handoff.ws_url, customer_token(4, "David"))
    await widget.connect()
    body = _backend_body(widget.conversation_id, customer_id=6)
    good = {"Authorization": f"Bearer {API_TOKEN}"}
    async with httpx.AsyncClient(base_url=handoff.url, timeout=10) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": API_TOKEN}):
            refused = await client.post(OUTCOME_PATH, json=body, headers=headers)
            assert refused.status_code == 401
        other_customer = await client.post(OUTCOME_PATH, json=body, headers=good)
        assert other_customer.status_code == 404
        assert other_customer.json()["error"]["code"] == "conversation_not_found"
        unknown = await client.post(OUTCOME_PATH, json=_backend_body("f" * 32), headers=good)
        assert unknown.status_code == 404
        for broken in ({**body, "event_id": "page-1"}, {**body, "summary": "  "},
                       {k: v for k, v in body.items() if k != "customer_id"}):
            invalid = await client.post(OUTCOME_PATH, json=broken, headers=good)
            assert invalid.status_code == 422 and invalid.json()["error"]["code"] == "invalid_request"
    assert not [f for f in widget.frames if f["type"] == "message" and f["sender"] == "system"]
    await widget.close()
