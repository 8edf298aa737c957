"""Faults (issue 8): stop, kill or stall each part of the real stack mid-conversation and bring it back.

Every test asserts the same promises: the customer is told what is happening (never silence, never internals),
no customer message is lost or stored twice (acks, resends with the same client_id, the stored transcript),
no credit is applied twice, the queue is intact, and the next message gets a normal answer with no manual
step. The handoff service's kill -9 is `tests/handoff/test_restart.py`; here it is a graceful stop with a
queue.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
import websockets

from tests.faults.conftest import Postgres
from tests.faults.support import (
    Specialist,
    acked,
    answer_to,
    assert_nothing_lost_or_duplicated,
    assert_polite,
    said,
    widget_for,
)
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.postgres]
FAULT = "fault"


def money(amount: str | Decimal) -> str:
    return f"${Decimal(amount):,.2f}"


def api(stack: Stack, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {**stack.backend_headers(), **kwargs.pop("headers", {})}
    return httpx.request(method, f"{stack.backend_url}/api/v1{path}", headers=headers, timeout=10, **kwargs)


def total_due(stack: Stack, customer_id: int) -> Decimal:
    response = api(stack, "GET", f"/customers/{customer_id}/balance")
    response.raise_for_status()
    return Decimal(response.json()["total_due"])


async def off_loop(operation, *args, **kwargs) -> None:
    """Run a blocking stack operation (a restart waits for health) in a thread, so the test's open WebSockets
    keep answering the server's keepalive pings meanwhile."""
    await asyncio.to_thread(operation, *args, **kwargs)


async def transcript(stack: Stack, conversation_id: str) -> list[dict]:
    async with Specialist(stack, "sam", "sam-demo-pass") as supervisor:
        return (await supervisor.conversation(conversation_id))["messages"]


async def balance_across_a_fault(stack: Stack, customer_id: int, name: str, *, break_it, repair) -> str:
    """The customer asks for the balance before, during and after a fault. Before and after: the figure from
    the backend's API; during: a polite answer without it. Nothing lost or duplicated. Returns what was said
    during."""
    due = total_due(stack, customer_id)
    widget = widget_for(stack, customer_id, name)
    await widget.connect()
    before = await answer_to(widget, "what's my balance?")
    assert money(due) in said(before), before
    await break_it()
    try:
        during = await answer_to(widget, "what's my balance?")
    finally:
        await repair()
    after = await answer_to(widget, "and what is my balance now?")
    assert money(due) in said(after), after
    client_ids = [reply[0]["client_id"] for reply in (before, during, after)]
    assert_nothing_lost_or_duplicated(await transcript(stack, widget.conversation_id), client_ids)
    await widget.close()
    told = assert_polite(during)
    assert money(due) not in told, told
    return told


def kill(stack: Stack, part: str):
    return lambda: off_loop(stack.stop_service, part, sig=signal.SIGKILL)


def start(stack: Stack, part: str):
    return lambda: off_loop(stack.start_service, part)


# -- backend ---------------------------------------------------------------------------------------

@pytest.mark.trust_case(
    area=FAULT, case="Backend killed (kill -9) mid-conversation, then restarted",
    expected="the bot says the billing system is unreachable and offers a person; after the "
    "restart the same question is answered; nothing lost or duplicated",
)
async def test_backend_killed_mid_conversation(stack: Stack) -> None:
    told = await balance_across_a_fault(stack, 1, "Alice", break_it=kill(stack, "backend"),
                                        repair=start(stack, "backend"))
    assert "billing system" in told and "person" in told, told


@pytest.mark.trust_case(
    area=FAULT, case="Credit retried with the same Idempotency-Key after a backend kill -9",
    expected="the retry answers 200 with the same credit; the balance drops once",
)
def test_a_credit_retried_across_a_backend_restart_is_applied_once(stack: Stack) -> None:
    invoices = api(stack, "GET", "/customers/2/invoices").json()
    lines = api(stack, "GET", f"/customers/2/invoices/{invoices[0]['number']}").json()["line_items"]
    plan = next(line for line in lines if line["charge_type"] == "plan")
    request = {"json": {"amount": "7.25", "reason": "Goodwill for the outage", "line_item_id": plan["id"]},
               "headers": {"X-Actor": "specialist:dana", "Idempotency-Key": f"fault-{uuid.uuid4()}"}}
    before = total_due(stack, 2)

    first = api(stack, "POST", "/customers/2/credits", **request)
    assert first.status_code == 201, first.text
    stack.restart("backend", sig=signal.SIGKILL)  # the caller never learns whether its answer arrived
    retried = api(stack, "POST", "/customers/2/credits", **request)

    assert retried.status_code == 200, retried.text
    assert retried.json()["id"] == first.json()["id"]
    assert total_due(stack, 2) == before - Decimal("7.25")


# -- a settlement while the backend stalls, then restarts ----------------------------------------------

async def open_installation_dispute(stack: Stack) -> Any:
    """David disputes the installation fee billed twice; the bot opens the dispute and queues the chat."""
    widget = widget_for(stack, 4, "David")
    await widget.connect()
    reply = await answer_to(widget, "I was charged twice for the installation")
    buttons = [b for f in reply if f["type"] == "message" for b in f.get("buttons") or []]
    installation = next((b for b in buttons if "Installation" in b["title"]), None)
    if installation is not None:
        reply = await answer_to(widget, installation["title"], payload=installation["payload"])
    # the first message already says what is wrong, so the bot asks to confirm, not for a reason
    assert "wrong with" not in said(reply), reply
    confirm = next(b for f in reply if f["type"] == "message" for b in f.get("buttons") or []
                   if "Yes" in b["title"])
    reply = await answer_to(widget, confirm["title"], payload=confirm["payload"])
    assert any(f["type"] == "status" and f["state"] == "queued" for f in reply), reply
    return widget


@pytest.mark.trust_case(
    area=FAULT, case="Backend stalls during a dispute settlement, then is killed and restarted",
    expected="the specialist is told the billing system is not reachable (no stack trace); "
    "the retry issues exactly one credit; a further retry returns the same credit",
)
async def test_settlement_during_a_backend_stall_credits_once(stack: Stack) -> None:
    widget = await open_installation_dispute(stack)
    before = total_due(stack, 4)
    dispute = next(d for d in api(stack, "GET", "/customers/4/disputes").json()
                   if d["conversation_id"] == widget.conversation_id)
    async with Specialist(stack) as dana:
        claimed = await dana.post(f"/api/console/conversations/{widget.conversation_id}/claim")
        assert claimed.status_code == 200, claimed.text
        settle = {
            "decision": "accepted", "note": "Installation billed twice", "credit_amount": dispute["amount"],
        }
        path = f"/api/console/conversations/{widget.conversation_id}/settle"

        stack.pause("backend")
        try:
            stalled = await dana.post(path, settle)
        finally:
            await off_loop(
                stack.stop_service, "backend", sig=signal.SIGKILL
            )  # the request it held dies with it
        assert stalled.status_code in (502, 503, 504), stalled.text
        error = stalled.json()["error"]
        assert error["code"] == "backend_unavailable"
        assert error["message"] == "The billing system is not reachable right now."

        await off_loop(stack.start_service, "backend")
        settled = await dana.post(path, settle)
        assert settled.status_code == 200, settled.text
        credit = settled.json()["dispute"]["credit"]
        again = await dana.post(path, settle)  # a double click, or a retry after a lost answer
        assert again.status_code == 200, again.text
        assert again.json()["dispute"]["credit"]["id"] == credit["id"]
        assert total_due(stack, 4) == before - Decimal(dispute["amount"])
        disputes = api(stack, "GET", "/customers/4/disputes").json()
        assert [d["credit"]["id"] for d in disputes if d.get("credit")] == [credit["id"]]

        resolved = await dana.post(f"/api/console/conversations/{widget.conversation_id}/resolve",
                                   {"outcome": "credit_issued"})
        assert resolved.status_code == 200, resolved.text
    # The customer is back with the bot, which answers normally.
    await widget.wait_for(lambda f: f["type"] == "status" and f["state"] == "bot", timeout=30)
    after = await answer_to(widget, "what's my balance?")
    assert money(before - Decimal(dispute["amount"])) in said(after), after
    await widget.close()


# -- action server ----------------------------------------------------------------------------------

@pytest.mark.trust_case(
    area=FAULT, case="Action server killed (kill -9) mid-conversation, then restarted",
    expected="the customer is told the assistant cannot answer right now (never silence); "
    "after the restart the same question is answered; nothing lost or duplicated",
)
async def test_action_server_killed_mid_conversation(stack: Stack) -> None:
    told = await balance_across_a_fault(stack, 3, "Carla", break_it=kill(stack, "actions"),
                                        repair=start(stack, "actions"))
    assert "couldn't answer" in told and "person" in told, told


# -- Rasa ---------------------------------------------------------------------------------------------

@pytest.mark.trust_case(
    area=FAULT, case="Rasa killed (kill -9) mid-conversation, then restarted",
    expected="the customer is told the assistant is unreachable and offered a person; after "
    "the restart the conversation goes on where it was (still verified)",
)
async def test_rasa_killed_mid_conversation(stack: Stack) -> None:
    balance = api(stack, "GET", "/customers/1/balance").json()
    widget = widget_for(stack)  # an anonymous visitor who verifies in chat
    await widget.connect()
    replies = [await answer_to(widget, text) for text in ("what's my balance?", "ACC-100001", "94110")]
    assert money(balance["total_due"]) in said(replies[-1])

    await off_loop(stack.stop_service, "rasa", sig=signal.SIGKILL)
    during = await answer_to(widget, "what's my balance?")
    told = assert_polite(during)
    assert "isn't reachable" in told and "person" in told, told
    assert [b["payload"] for f in during if f["type"] == "message" for b in f.get("buttons") or []] == [
        "/handoff_human"]

    await off_loop(stack.start_service, "rasa")
    after = await answer_to(widget, "what's my balance?")
    assert money(balance["total_due"]) in said(after), after  # the tracker kept the verification
    client_ids = [reply[0]["client_id"] for reply in (*replies, during, after)]
    assert_nothing_lost_or_duplicated(await transcript(stack, widget.conversation_id), client_ids)
    await widget.close()


# -- handoff service ----------------------------------------------------------------------------------

async def ask_for_a_person(stack: Stack, customer_id: int, name: str):
    widget = widget_for(stack, customer_id, name)
    await widget.connect()
    reply = await answer_to(widget, "I want to talk to a person")
    assert any(f["type"] == "status" and f["state"] == "queued" for f in reply), reply
    return widget


@pytest.mark.trust_case(
    area=FAULT, case="Handoff service stopped with customers queued, then restarted",
    expected="the queue is intact and in order; customers reconnect, get the missed "
    "messages once and their queue position; a resend is acked once; a specialist "
    "claims and sees every message",
)
async def test_handoff_restart_keeps_the_queue_and_every_message(stack: Stack) -> None:
    grace = await ask_for_a_person(stack, 7, "Grace")
    hiro = await ask_for_a_person(stack, 8, "Hiro")
    waiting = await acked(grace, "my autopay amount looks wrong")
    async with Specialist(stack) as dana:
        queue_before = [(e["conversation_id"], e["position"]) for e in await dana.queue()]
    assert [cid for cid, _ in queue_before][-2:] == [grace.conversation_id, hiro.conversation_id]

    await off_loop(stack.stop_service, "handoff")
    await grace.close()
    await hiro.close()
    await off_loop(stack.start_service, "handoff")

    resumed = widget_for(stack, 7, "Grace", conversation_id=grace.conversation_id, last_seq=grace.last_seq)
    welcome = await resumed.connect()
    assert (welcome["conversation_id"], welcome["state"]) == (grace.conversation_id, "queued")
    status = await resumed.wait_for(lambda f: f["type"] == "status")
    assert status["position"] == dict(queue_before)[grace.conversation_id]
    # Unsure whether its last message arrived, the widget sends it again with the same client_id.
    resent = await acked(resumed, "my autopay amount looks wrong", client_id=waiting["client_id"])
    assert resent["seq"] == waiting["seq"]
    typed_later = await acked(resumed, "are you still there?")

    async with Specialist(stack) as dana:
        assert [(e["conversation_id"], e["position"]) for e in await dana.queue()] == queue_before
        claimed = await dana.post(f"/api/console/conversations/{grace.conversation_id}/claim")
        assert claimed.status_code == 200, claimed.text
        messages = (await dana.conversation(grace.conversation_id))["messages"]
        await dana.post(
            f"/api/console/conversations/{grace.conversation_id}/resolve", {"outcome": "explained"}
        )
    assert_nothing_lost_or_duplicated(messages, [waiting["client_id"], typed_later["client_id"]])
    await resumed.wait_for(lambda f: f["type"] == "message" and "joined the chat" in f["text"])
    await resumed.close()


# -- PostgreSQL ---------------------------------------------------------------------------------------

@pytest.mark.trust_case(area=FAULT, case="PostgreSQL connections of the handoff service and the backend "
                                         "terminated (pg_terminate_backend) mid-conversation",
                         expected="the next messages are answered normally (connections re-established); "
                                  "nothing lost or duplicated")
async def test_terminated_database_connections_are_replaced(stack: Stack, postgres: Postgres) -> None:
    due = total_due(stack, 5)
    widget = widget_for(stack, 5, "Elena")
    await widget.connect()
    before = await answer_to(widget, "what's my balance?")
    assert money(due) in said(before)

    assert postgres.terminate_connections("handoff") > 0
    assert postgres.terminate_connections("backend") > 0
    after = await answer_to(widget, "what's my balance?")
    assert money(due) in said(after), after
    assert_nothing_lost_or_duplicated(await transcript(stack, widget.conversation_id),
                                      [before[0]["client_id"], after[0]["client_id"]])
    await widget.close()


@pytest.mark.trust_case(area=FAULT, case="PostgreSQL stops serving the handoff database mid-conversation",
                         expected="the customer is told the message could not be saved and will be sent on "
                                  "reconnect; after recovery the resend (same client_id) is stored once and "
                                  "answered; the queue is intact")
async def test_handoff_database_outage(stack: Stack, postgres: Postgres) -> None:
    due = total_due(stack, 6)
    widget = widget_for(stack, 6, "Farid")
    await widget.connect()
    before = await answer_to(widget, "what's my balance?")
    assert money(due) in said(before), before
    async with Specialist(stack, "sam", "sam-demo-pass") as sam:
        queue_before = [(e["conversation_id"], e["position"]) for e in await sam.queue()]

        postgres.refuse_connections("handoff")
        try:
            refused = await answer_to(widget, "what's my balance?", quiet=0.5)
            error = refused[0]
            assert error["type"] == "error" and error["code"] == "temporarily_unavailable", refused
            assert_polite(refused)
            # Reconnecting while the database is still down: told the same, politely.
            retry = widget_for(
                stack, 6, "Farid", conversation_id=widget.conversation_id, last_seq=widget.last_seq
            )
            with pytest.raises(websockets.ConnectionClosed):
                await retry.connect()
            assert [f["code"] for f in retry.frames if f["type"] == "error"] == ["temporarily_unavailable"]
        finally:
            postgres.serve_again("handoff")

        resumed = widget_for(
            stack, 6, "Farid", conversation_id=widget.conversation_id, last_seq=widget.last_seq
        )
        await resumed.connect()
        after = await answer_to(resumed, "what's my balance?", client_id=error["client_id"])
        assert after[0]["type"] == "ack"
        assert money(due) in said(after), after
        assert [(e["conversation_id"], e["position"]) for e in await sam.queue()] == queue_before
    assert_nothing_lost_or_duplicated(await transcript(stack, widget.conversation_id),
                                      [before[0]["client_id"], error["client_id"]])
    await resumed.close()


@pytest.mark.trust_case(
    area=FAULT, case="PostgreSQL stops serving the backend database mid-conversation",
    expected="the bot says the billing system is unreachable; answered normally once the database is back",
)
async def test_backend_database_outage(stack: Stack, postgres: Postgres) -> None:
    async def refuse() -> None:
        postgres.refuse_connections("backend")

    async def serve() -> None:
        postgres.serve_again("backend")

    told = await balance_across_a_fault(stack, 8, "Hiro", break_it=refuse, repair=serve)
    assert "billing system" in told, told
