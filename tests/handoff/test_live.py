"""The handoff service as a real uvicorn process: widget and console over real WebSockets."""

from __future__ import annotations

import httpx

from actions.identity import verify_assertion
from tests.handoff.conftest import IDENTITY_SECRET, Console, Widget, customer_token


async def test_bot_turn_redacts_and_passes_verified_identity(handoff, stand_in):
    widget = Widget(handoff.ws_url, customer_token(4, "David"))
    welcome = await widget.connect()
    assert welcome["state"] == "bot" and welcome["customer"] == {"first_name": "David"}
    greeting = await widget.wait_for(lambda f: f["type"] == "message" and f["sender"] == "bot")
    assert "David" in greeting["text"]

    client_id = await widget.send("my card is 4111 1111 1111 1111")
    ack = await widget.wait_for(lambda f: f["type"] == "ack")
    assert ack["client_id"] == client_id and ack["seq"] == greeting["seq"] + 1
    reply = await widget.wait_for(
        lambda f: f["type"] == "message" and f["sender"] == "bot" and f["seq"] > ack["seq"]
    )
    assert reply["text"] == "Echo: my card is **** **** **** 1111"
    sent = [m for m in stand_in.rasa_messages if m["sender"] == widget.conversation_id]
    assert sent[-1]["message"] == "my card is **** **** **** 1111"
    metadata = sent[-1]["metadata"]
    assert {k: metadata[k] for k in ("customer_id", "conversation_id", "channel")} == {
        "customer_id": 4, "conversation_id": widget.conversation_id, "channel": "chat",
    }
    # what the action server trusts: the identity assertion, signed for this conversation and customer
    turn = verify_assertion(
        metadata["identity"], conversation_id=widget.conversation_id, secret=IDENTITY_SECRET
    )
    assert turn is not None and turn.customer_id == 4
    await widget.close()


async def test_bad_token_is_refused_politely(handoff):
    widget = Widget(handoff.ws_url, "not-a-jwt")
    widget.socket = await __import__("websockets").connect(widget.url)
    error = await widget.wait_for(lambda f: f["type"] == "error")
    assert error["code"] == "invalid_token" and "Traceback" not in error["message"]


async def test_escalation_claim_live_chat_settle_resolve_and_csat(handoff, stand_in):
    dana = Console(handoff, "dana", "dana-demo-pass")
    await dana.login()
    await dana.open_socket()
    widget = Widget(handoff.ws_url, customer_token(4, "David"))
    await widget.connect()

    await widget.send("I want to dispute the installation fee")
    status = await widget.wait_for(lambda f: f["type"] == "status" and f["state"] == "queued")
    assert status["position"] == 1 and status["eta_seconds"] > 0
    await widget.wait_for(
        lambda f: f["type"] == "message" and f["sender"] == "bot" and "specialist" in f["text"]
    )
    queue = await dana.wait_for(lambda f: f["type"] == "queue" and f["entries"])
    entry = queue["entries"][0]
    assert entry["conversation_id"] == widget.conversation_id and entry["dispute_amount"] == "49.99"
    assert queue["new_chat"] == widget.conversation_id

    # While queued, nothing reaches the bot.
    rasa_count = len(stand_in.rasa_messages)
    await dana.watch(widget.conversation_id)
    await widget.send("hello? is anyone there")
    await widget.wait_for(lambda f: f["type"] == "ack")
    seen = await dana.wait_for(lambda f: f["type"] == "message" and f["message"]["sender"] == "customer")
    assert seen["message"]["text"] == "hello? is anyone there"

    claimed = await dana.post(f"/api/console/conversations/{widget.conversation_id}/claim")
    assert claimed.status_code == 200
    joined = await widget.wait_for(lambda f: f["type"] == "message" and f["sender"] == "system")
    assert joined["text"] == "Dana from Billing has joined the chat."
    assigned = await widget.wait_for(lambda f: f["type"] == "status" and f["state"] == "assigned")
    assert assigned["agent_name"] == "Dana"

    detail = (await dana.http.get(f"/api/console/conversations/{widget.conversation_id}")).json()
    assert detail["context"]["line_item"]["description"] == "Installation fee"
    assert detail["context"]["explanation"] == {"summary": "Billed twice."} and detail["dispute_id"] == 77
    assert [m["sender"] for m in detail["messages"]][:3] == ["bot", "customer", "bot"]
    account = (await dana.http.get(f"/api/console/conversations/{widget.conversation_id}/account")).json()
    assert account["balance"]["data"]["total_due"] == "149.97"
    assert account["invoices"]["data"][0]["line_items"][0]["amount"] == "49.99"
    staff_reads = [c for c in stand_in.backend_calls
                   if c["method"] == "GET" and "/reminders" not in c["path"]]
    assert {c["actor"] for c in staff_reads} == {"specialist:dana"}  # the widget's own read: system:widget

    await dana.post(f"/api/console/conversations/{widget.conversation_id}/typing")
    await widget.wait_for(lambda f: f["type"] == "typing" and f["sender"] == "agent")
    sent = await dana.post(f"/api/console/conversations/{widget.conversation_id}/messages",
                           {"text": "Hi David, I see the double charge.", "client_id": "agent-1"})
    assert sent.status_code == 200
    agent_line = await widget.wait_for(lambda f: f["type"] == "message" and f["sender"] == "agent")
    assert agent_line["agent_name"] == "Dana" and agent_line["text"] == "Hi David, I see the double charge."
    await widget.send("thanks, please refund it")
    await dana.wait_for(
        lambda f: f["type"] == "message" and f["message"]["text"] == "thanks, please refund it"
    )
    assert len(stand_in.rasa_messages) == rasa_count, (
        "a customer message reached the bot during the human phase"
    )

    for _ in range(2):  # a double click must not credit twice: same idempotency key
        settled = await dana.post(
            f"/api/console/conversations/{widget.conversation_id}/settle",
            {"decision": "accepted", "note": "Duplicate charge", "credit_amount": "49.99"},
        )
        assert settled.status_code == 200 and settled.json()["dispute"]["credit"]["amount"] == "49.99"
    settles = [c for c in stand_in.backend_calls if c["path"].endswith("/settle")]
    assert len({c["idempotency_key"] for c in settles}) == 1 and settles[0]["actor"] == "specialist:dana"
    await widget.wait_for(lambda f: f["type"] == "message" and f["sender"] == "system"
                          and "a credit of $49.99 was applied to your account" in f["text"])

    resolved = await dana.post(f"/api/console/conversations/{widget.conversation_id}/resolve",
                               {"outcome": "credit_issued"})
    assert resolved.status_code == 200
    await widget.wait_for(lambda f: f["type"] == "message" and "has left the chat" in f["text"])
    csat = await widget.wait_for(lambda f: f["type"] == "message" and f["sender"] == "bot" and f["buttons"])
    assert [b["title"] for b in csat["buttons"]] == ["1", "2", "3", "4", "5"]
    await widget.wait_for(lambda f: f["type"] == "status" and f["state"] == "bot")
    cid, events = stand_in.tracker_events[-1]
    assert cid == widget.conversation_id
    assert [(e["metadata"]["sender"], e["text"]) for e in events] == [
        ("customer", "hello? is anyone there"), ("agent", "Hi David, I see the double charge."),
        ("customer", "thanks, please refund it")]
    assert stand_in.triggered[-1][1] == {
        "name": "EXTERNAL_handoff_resolved",
        "entities": {"handoff_outcome": "credit_issued", "agent_name": "Dana"},
    }

    await widget.send("4", payload=csat["buttons"][3]["payload"])
    await widget.wait_for(lambda f: f["type"] == "message" and f["text"] == "Thanks for your rating!")
    detail = (await dana.http.get(f"/api/console/conversations/{widget.conversation_id}")).json()
    assert detail["csat_score"] == 4 and detail["state"] == "bot"

    sam = Console(handoff, "sam", "sam-demo-pass")
    await sam.login()
    overall = (await sam.http.get("/api/console/reports")).json()["overall"]  # today's
    assert overall["conversations"] == 1 and overall["escalated"] == 1 and overall["csat_average"] == 4.0
    assert overall["handling_median_seconds"] is not None
    audit = (await sam.http.get("/api/console/audit")).json()["entries"]
    actions = {(e["actor"], e["action"]) for e in audit}
    assert {("specialist:dana", "claim"), ("specialist:dana", "view_account"), ("specialist:dana", "resolve"),
            ("specialist:dana", "dispute_accepted")} <= actions
    assert (await dana.http.get("/api/console/reports")).status_code == 403
    await widget.close()
    await dana.close()
    await sam.close()


async def test_release_transfer_and_roles(handoff, stand_in):
    dana, sam = Console(handoff, "dana", "dana-demo-pass"), Console(handoff, "sam", "sam-demo-pass")
    await dana.login()
    await sam.login()
    await sam.open_socket()
    widget = Widget(handoff.ws_url, "")
    await widget.connect()
    await widget.send("I want a human")
    await widget.wait_for(lambda f: f["type"] == "status" and f["state"] == "queued")
    cid = widget.conversation_id
    assert (await dana.post(f"/api/console/conversations/{cid}/claim")).status_code == 200
    second = await sam.post(f"/api/console/conversations/{cid}/claim")
    assert second.status_code == 409 and "Dana" in second.json()["error"]["message"]
    assert (await dana.post(f"/api/console/conversations/{cid}/release")).status_code == 200
    await widget.wait_for(lambda f: f["type"] == "status" and f["state"] == "queued")
    assert (await dana.post(f"/api/console/conversations/{cid}/claim")).status_code == 200
    moved = await dana.post(f"/api/console/conversations/{cid}/transfer", {"to_username": "sam"})
    assert moved.status_code == 200
    await sam.wait_for(lambda f: f["type"] == "transferred_to_you" and f["conversation_id"] == cid)
    await widget.wait_for(
        lambda f: f["type"] == "message" and f["text"] == "Sam from Billing has joined the chat."
    )
    # Dana no longer owns it.
    assert (await dana.post(f"/api/console/conversations/{cid}/messages", {"text": "hi"})).status_code == 403

    tess = Console(handoff, "tess", "tess-demo-pass")
    await tess.login()
    assert (await tess.http.get("/api/console/queue")).status_code == 403
    async with httpx.AsyncClient(base_url=handoff.url) as client:
        bad = await client.post("/api/console/login", json={"username": "dana", "password": "wrong"})
        assert bad.status_code == 401 and bad.json()["error"]["code"] == "bad_credentials"
        unauthorized = await client.post(
            "/api/escalations", json={"conversation_id": cid, "reason": "dispute"}
        )
        assert unauthorized.status_code == 401
    for console in (dana, sam, tess):
        await console.close()
    await widget.close()


async def test_rasa_unreachable_offers_a_human(handoff, stand_in):
    widget = Widget(handoff.ws_url, customer_token(1, "Alice"))
    await widget.connect()
    stand_in.rasa_down = True
    try:
        await widget.send("what is my balance")
        offer = await widget.wait_for(lambda f: f["type"] == "message" and f["sender"] == "system")
        assert "isn't reachable" in offer["text"] and offer["buttons"][0]["payload"] == "/handoff_human"
        await widget.send(offer["buttons"][0]["title"], payload=offer["buttons"][0]["payload"])
        status = await widget.wait_for(lambda f: f["type"] == "status")
        assert status["state"] == "queued"
    finally:
        stand_in.rasa_down = False
    await widget.close()


async def test_ticket_when_nobody_is_online(make_handoff, stand_in):
    handoff = make_handoff(extra_env={"HANDOFF_TICKET_WHEN_NOBODY_ONLINE": "true",
                                      "HANDOFF_BUSINESS_HOURS": "mon-sun 00:00-24:00"})
    widget = Widget(handoff.ws_url, customer_token(2, "Ben"))
    await widget.connect()
    await widget.send("I want a human please")
    status = await widget.wait_for(lambda f: f["type"] == "status" and f["state"] == "ticket")
    assert status["ticket_number"].startswith("TCK-") and "email" in status["contact"]
    note = await widget.wait_for(lambda f: f["type"] == "message" and f["sender"] == "system")
    assert status["ticket_number"] in note["text"]
    # The ticket waits in the queue for the next shift, and the next specialist can pick it up.
    dana = Console(handoff, "dana", "dana-demo-pass")
    await dana.login()
    queue = (await dana.http.get("/api/console/queue")).json()["entries"]
    assert queue[0]["state"] == "ticket" and queue[0]["ticket_number"] == status["ticket_number"]
    assert (await dana.post(f"/api/console/conversations/{widget.conversation_id}/claim")).status_code == 200
    await widget.wait_for(lambda f: f["type"] == "status" and f["state"] == "assigned")
    await dana.close()
    await widget.close()


async def test_pages_and_demo_token(handoff):
    async with httpx.AsyncClient(base_url=handoff.url) as client:
        page = await client.get("/")
        assert "Acme Utilities — Billing" in page.text and 'data-testid="customer-picker"' in page.text
        assert "<script>" not in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert (await client.get("/console")).status_code == 200
        assert (await client.get("/static/widget.js")).status_code == 200
        minted = (await client.post("/demo/token", json={"customer_id": 3})).json()
        from handoff.conversations.customer_token import verify_customer_token
        from tests.handoff.conftest import JWT_SECRET
        assert verify_customer_token(minted["token"], secret=JWT_SECRET).customer_id == 3
        assert (await client.post("/demo/token", json={"customer_id": 99})).status_code == 404
