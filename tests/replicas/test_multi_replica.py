"""The stack as several replicas behind one address (issue 7, "more than one machine").

Two Rasa servers (PostgreSQL tracker store, Redis lock store), two action servers and two handoff
replicas (PostgreSQL, Redis pub/sub) behind HAProxy, all started from deploy/ (tests/support/replicas.py).
The tests run in this order on one topology (tests/replicas/conftest.py); the last one kills a replica
of each role.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from decimal import Decimal
from types import SimpleNamespace

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from tests.handoff.conftest import Console, Widget
from tests.replicas.customer import ReconnectingCustomer
from tests.support.chat import customer_token
from tests.support.replicas import Replicas

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

LOAD_SCRIPT = ["hi", "what's my balance", "when is my bill due", "did you get my payment", "thanks"]
BALANCE_TURN = 1
KILLED = ("rasa_1", "actions_1", "handoff_1")


def money(amount: str | Decimal) -> str:
    return f"${Decimal(amount):,.2f}"


def balance_of(replicas: Replicas, customer_id: int) -> dict:
    return httpx.get(f"{replicas.backend_url}/api/v1/customers/{customer_id}/balance",
                     headers=replicas.backend_headers(), timeout=10).json()


def texts(messages: list[dict]) -> str:
    return " ".join(m.get("text") or "" for m in messages)


def transcript(replicas: Replicas, conversation_id: str) -> list[dict]:
    """The handoff database's record of one conversation (shared by every handoff replica)."""
    with psycopg.connect(replicas.database_url("handoff", driver="postgresql"), row_factory=dict_row) as db:
        return db.execute("SELECT seq, sender, text, client_id, processed FROM messages "
                          "WHERE conversation_id = %s ORDER BY seq", (conversation_id,)).fetchall()


def rasa_user_turns(replicas: Replicas, conversation_id: str) -> list[str]:
    """What the Rasa servers wrote to the shared SQL tracker store: the user messages, in order."""
    with psycopg.connect(replicas.database_url("rasa", driver="postgresql")) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = %s AND type_name = 'user' ORDER BY id",
                          (conversation_id,)).fetchall()
    return [json.loads(data)["text"] for (data,) in rows]


# -- (a) one conversation through the balancer ------------------------------------------------------

async def test_a_conversation_through_the_balancer_uses_both_rasa_servers_and_real_numbers(
        replicas: Replicas) -> None:
    """An anonymous customer verifies over several turns (form state in the tracker) and gets the
    backend's balance; the turns are spread over both Rasa servers, so the conversation only holds
    together through the shared PostgreSQL tracker store."""
    before = replicas.lb_sessions()
    customer = ReconnectingCustomer(replicas.chat_ws_url)
    await customer.connect()
    try:
        await customer.say("what's my balance")
        await customer.say("ACC-100001")
        answer = await customer.say("94110")
    finally:
        await customer.close()
    expected = money(balance_of(replicas, 1)["total_due"])
    assert expected in texts(answer), answer
    served = {name: replicas.lb_sessions()[name] - before.get(name, 0) for name in ("rasa_1", "rasa_2")}
    assert all(count > 0 for count in served.values()), served
    assert rasa_user_turns(replicas, customer.conversation_id) == ["what's my balance", "ACC-100001", "94110"]
    assert not customer.duplicates and not customer.errors


# -- (b) a specialist on replica A, a customer on replica B ------------------------------------------

async def test_specialist_on_one_replica_claims_and_chats_with_a_customer_on_the_other(
        replicas: Replicas) -> None:
    replica_a = SimpleNamespace(url=replicas.replica_url("handoff_1"),
                                ws_url=replicas.replica_url("handoff_1").replace("http", "ws"))
    console = Console(replica_a, "dana", "dana-demo-pass")
    await console.login()
    await console.open_socket()  # dana is online (presence in the shared database)
    widget = Widget(replicas.replica_url("handoff_2").replace("http", "ws"),
                    customer_token(secret=replicas.env["CUSTOMER_JWT_SECRET"], customer_id=4, name="David"))
    try:
        await widget.connect()
        await widget.send("I want to talk to a person")
        await widget.wait_for(lambda f: f["type"] == "status" and f["state"] == "queued", timeout=60)
        # The queue event crossed replicas through Redis: replica A's console sees B's customer.
        queued = await console.wait_for(lambda f: f["type"] == "queue" and any(
            e["conversation_id"] == widget.conversation_id for e in f["entries"]), timeout=20)
        assert queued["type"] == "queue"
        await console.watch(widget.conversation_id)

        claim = await console.post(f"/api/console/conversations/{widget.conversation_id}/claim")
        assert claim.status_code == 200, claim.text
        status = await widget.wait_for(lambda f: f["type"] == "status" and f["state"] == "assigned",
                                       timeout=20)
        assert status.get("agent_name") == "Dana"
        # A second claim (another replica, another click) loses: the claim is a conditional UPDATE.
        async with httpx.AsyncClient(base_url=replicas.replica_url("handoff_2"), timeout=20) as replica_b:
            again = await replica_b.post(f"/api/console/conversations/{widget.conversation_id}/claim",
                                         headers={"Authorization": f"Bearer {console.token}"})
        assert again.status_code == 409, again.text

        # Live, both ways, across the replicas.
        await widget.send("Hi Dana, I was billed twice for the installation")
        seen = await console.wait_for(
            lambda f: f["type"] == "message" and f["message"]["sender"] == "customer"
            and "billed twice" in f["message"]["text"], timeout=20)
        assert seen["conversation_id"] == widget.conversation_id
        reply = await console.post(
            f"/api/console/conversations/{widget.conversation_id}/messages",
            {"text": "Hi David, I can see both installation fees.", "client_id": "dana-1"})
        assert reply.status_code in (200, 201), reply.text
        agent = await widget.wait_for(lambda f: f["type"] == "message" and f["sender"] == "agent", timeout=20)
        assert agent["text"] == "Hi David, I can see both installation fees."
        assert agent["agent_name"] == "Dana"
    finally:
        await widget.close()
        await console.close()
    stored = transcript(replicas, widget.conversation_id)
    assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1))
    assert any(m["sender"] == "agent" and "both installation fees" in m["text"] for m in stored)


# -- (c) load across the replicas, one of each role killed mid-run ----------------------------------

async def test_load_run_survives_killing_a_rasa_an_action_and_a_handoff_replica(replicas: Replicas) -> None:
    conversations = 10
    secret = replicas.env["CUSTOMER_JWT_SECRET"]
    customer_ids = [1 + i % 8 for i in range(conversations)]
    customers = [ReconnectingCustomer(replicas.chat_ws_url,
                                      customer_token(secret=secret, customer_id=cid, name="Load"))
                 for cid in customer_ids]
    answers: list[list[list[dict]]] = [[] for _ in customers]
    first_turns_done = 0
    everyone_started = asyncio.Event()

    async def converse(index: int) -> None:
        nonlocal first_turns_done
        customer = customers[index]
        await customer.connect()
        for turn, text in enumerate(LOAD_SCRIPT):
            answers[index].append(await customer.say(text))
            if turn == 0:
                first_turns_done += 1
                if first_turns_done == len(customers):
                    everyone_started.set()
            await asyncio.sleep(0)

    async def chaos() -> dict[str, int]:
        await asyncio.wait_for(everyone_started.wait(), timeout=180)
        served = replicas.lb_sessions()
        # All ten conversations are in the middle of their run: kill one replica of each role.
        await asyncio.gather(*(asyncio.to_thread(replicas.kill, name) for name in KILLED))
        return served

    started = time.monotonic()
    results = await asyncio.gather(chaos(), *(converse(i) for i in range(len(customers))),
                                   return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures
    served_before_kill = results[0]
    for name in KILLED:
        assert served_before_kill[name] > 0, f"{name} served nothing before the kill: {served_before_kill}"

    # The balancer's health checks took the dead servers out and kept the others.
    status = replicas.wait_lb(lambda s: all(s[n] == "DOWN" for n in KILLED), timeout=20)
    assert all(status[n] == "UP" for n in ("rasa_2", "actions_2", "handoff_2")), status
    # The customers of the killed handoff replica were cut off and came back through the balancer.
    assert sum(c.drops for c in customers) > 0, "no customer was connected to the killed handoff replica"

    for customer, customer_id, turns in zip(customers, customer_ids, answers, strict=True):
        stored = transcript(replicas, customer.conversation_id)
        await customer.read_until_seq(stored[-1]["seq"])
        await customer.close()
        context = f"conversation {customer.conversation_id} (customer {customer_id})"
        seqs = [m["seq"] for m in stored]
        assert seqs == list(range(1, len(seqs) + 1)), f"{context}: seqs {seqs}"
        # Every customer message stored exactly once, in order, and answered by the bot.
        said = [m for m in stored if m["sender"] == "customer"]
        assert [m["client_id"] for m in said] == list(customer.sent), context
        assert [m["text"] for m in said] == LOAD_SCRIPT, context
        assert all(m["processed"] for m in said), context
        for this, following in zip(said, [*said[1:], None], strict=True):
            end = following["seq"] if following else seqs[-1] + 1
            between = [m for m in stored if this["seq"] < m["seq"] < end]
            assert any(m["sender"] == "bot" for m in between), \
                f"{context}: {this['text']!r} unanswered: {stored}"
        # No "assistant isn't reachable" / "couldn't answer" apology: every turn reached the bot.
        assert not [m for m in stored if m["sender"] == "system"], f"{context}: {stored}"
        # Acks: each message acked with its stored seq (a resend after reconnecting gets the same seq).
        stored_seq = {m["client_id"]: m["seq"] for m in said}
        assert {cid: seqs_acked for cid, seqs_acked in customer.acks.items()} == \
            {cid: {seq} for cid, seq in stored_seq.items()}, context
        # The widget was shown every stored message exactly once, across its connections.
        assert not customer.duplicates, f"{context}: shown twice: {customer.duplicates}"
        assert sorted(customer.messages) == seqs, context
        # Real numbers from the backend, whichever replicas served the turn.
        assert money(balance_of(replicas, customer_id)["total_due"]) in texts(turns[BALANCE_TURN]), \
            f"{context}: {turns[BALANCE_TURN]}"
        assert not customer.errors, f"{context}: {customer.errors}"
        # Rasa's shared tracker store holds every turn (a turn replayed after a crash may appear twice).
        assert Counter(LOAD_SCRIPT) <= Counter(rasa_user_turns(replicas, customer.conversation_id)), context
    sys.stdout.write(
        f"\nload run: {len(customers)} conversations x {len(LOAD_SCRIPT)} turns in "
        f"{time.monotonic() - started:.1f} s; reconnections: {sum(c.drops for c in customers)}\n"
    )

