"""Access to the handoff service, tried like an attacker against the running process: roles on every route,
customer isolation on the widget socket, password/session storage and the append-only, exportable audit
log."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import hmac
import io
import json
import re
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from tests.handoff.access_support import (
    PASSWORDS,
    USER_OF,
    app_routes,
    claimed_dispute,
    queued_chat,
    refused_socket,
    settle_calls,
    signed_in,
    transcript_texts,
)
from tests.handoff.conftest import API_TOKEN, JWT_SECRET, Console, Widget, customer_token


def access(case: str, expected: str):
    return pytest.mark.trust_case(area="access", case=case, expected=expected)


# -- roles on every route -------------------------------------------------------------------------------

ANYONE = frozenset({"anyone"})
SERVICE = frozenset({"service token"})  # the action server's HANDOFF_API_TOKEN
STAFF = frozenset({"specialist", "supervisor", "trainer"})
CHATS = frozenset({"specialist", "supervisor"})
SUPERVISOR = frozenset({"supervisor"})
TRAINER = frozenset({"trainer"})
MODEL_OPERATORS = frozenset({"trainer", "supervisor"})  # retrain, ship and roll back from the page
CONVERSATION = "/api/console/conversations/{conversation_id}"


class Scoped(frozenset):
    """Roles, and which conversations they reach through the route (every conversation route names one)."""

    scope: str


def scoped(roles: frozenset, scope: str) -> Scoped:
    rule = Scoped(roles)
    rule.scope = scope
    return rule


# handoff/specialists/work_access.py: what a specialist's work needs; every read and watch is audited with
# why.
THEIR_WORK = scoped(
    CHATS, "waiting for a specialist (queued/ticket), assigned to them or handled by them; a supervisor any"
)
WAITING = scoped(CHATS, "waiting for a specialist (queued/ticket)")
ASSIGNED_TO_THEM = scoped(CHATS, "assigned to them; a supervisor any assigned chat")

# Who may use each route. A route missing here fails test_every_route_has_an_access_rule.
EXPECTED_ROLES = {
    ("GET", "/openapi.json"): ANYONE,
    ("GET", "/health"): ANYONE,
    ("GET", "/"): ANYONE,  # the demo website
    ("GET", "/console"): ANYONE,  # a static page that holds no data: it shows the sign-in form
    ("GET", "/demo/customers"): ANYONE,  # development only (404 otherwise)
    ("POST", "/demo/token"): ANYONE,  # development only: stands in for the company's own login
    ("MOUNT", "/static"): ANYONE,
    ("WS", "/ws/chat"): ANYONE,  # a customer: anonymous or with a verified JWT
    ("POST", "/api/escalations"): SERVICE,
    ("POST", "/api/payment-page/outcomes"): SERVICE,  # the backend, when the secure payment page completes
    # A mail provider's webhook: no bearer token, the body's HMAC signature (EMAIL_INBOUND_SECRET) is the
    # credential; its refusals (401 missing/wrong/stale) are tests/handoff/unit/test_email_inbound.py's.
    ("POST", "/api/email/inbound/{provider}"): ANYONE,
    ("POST", "/api/console/login"): ANYONE,
    ("POST", "/api/console/logout"): STAFF,
    ("GET", "/api/console/me"): STAFF,
    ("GET", "/api/console/queue"): CHATS,
    ("GET", "/api/console/my-chats"): CHATS,
    ("GET", "/api/console/staff"): CHATS,
    ("GET", CONVERSATION): THEIR_WORK,
    ("GET", CONVERSATION + "/account"): ASSIGNED_TO_THEM,
    ("POST", CONVERSATION + "/claim"): WAITING,
    ("POST", CONVERSATION + "/release"): ASSIGNED_TO_THEM,
    ("POST", CONVERSATION + "/transfer"): ASSIGNED_TO_THEM,
    ("POST", CONVERSATION + "/messages"): ASSIGNED_TO_THEM,
    ("POST", CONVERSATION + "/typing"): ASSIGNED_TO_THEM,
    ("POST", CONVERSATION + "/settle"): ASSIGNED_TO_THEM,
    ("POST", CONVERSATION + "/resolve"): ASSIGNED_TO_THEM,
    ("POST", CONVERSATION + "/payment-quotes"): ASSIGNED_TO_THEM,
    ("POST", CONVERSATION + "/payment-quotes/{quote_id}/confirm"): ASSIGNED_TO_THEM,
    ("POST", CONVERSATION + "/arrangements"): ASSIGNED_TO_THEM,
    ("POST", CONVERSATION + "/late-fee-waivers"): ASSIGNED_TO_THEM,  # the one-time waiver (issue 16)
    ("GET", CONVERSATION + "/documents"): ASSIGNED_TO_THEM,  # the account panel's documents (issue 19)
    ("POST", CONVERSATION + "/documents/links"): ASSIGNED_TO_THEM,
    ("GET", CONVERSATION + "/reminders"): ASSIGNED_TO_THEM,  # the account panel's reminders (issue 19)
    ("POST", CONVERSATION + "/notes"): THEIR_WORK,  # internal notes (issue 17)
    ("GET", CONVERSATION + "/credits"): THEIR_WORK,
    ("POST", CONVERSATION + "/credits"): ASSIGNED_TO_THEM,
    ("GET", CONVERSATION + "/canned-responses/{response_id}"): ASSIGNED_TO_THEM,
    ("GET", "/api/console/canned-responses"): CHATS,
    ("POST", "/api/console/canned-responses"): SUPERVISOR,
    ("POST", "/api/console/canned-responses/{response_id}"): SUPERVISOR,
    ("POST", "/api/console/canned-responses/{response_id}/delete"): SUPERVISOR,
    ("GET", "/api/console/credit-approvals"): SUPERVISOR,
    ("POST", "/api/console/credit-approvals/{credit_id}/approve"): SUPERVISOR,
    ("POST", "/api/console/credit-approvals/{credit_id}/reject"): SUPERVISOR,
    ("GET", "/api/console/presence"): CHATS,
    ("GET", "/api/console/search"): CHATS,  # results filtered by work_access
    ("POST", "/api/console/presence"): CHATS,
    ("WS", "/ws/console"): CHATS,
    ("GET", "/api/console/reports"): SUPERVISOR,
    ("GET", "/api/console/reports/export"): SUPERVISOR,
    ("GET", "/api/console/audit"): SUPERVISOR,
    ("GET", "/api/console/audit/export"): SUPERVISOR,
    ("GET", "/api/console/system-credits"): SUPERVISOR,
    ("POST", "/api/console/system-credits/{credit_id}/reverse"): SUPERVISOR,
    ("GET", "/api/console/bot-limits"): SUPERVISOR,
    ("POST", "/api/console/bot-limits"): SUPERVISOR,
    ("GET", "/api/console/training/review"): TRAINER,
    ("GET", "/api/console/training/intents"): TRAINER,
    ("POST", "/api/console/training/examples"): TRAINER,
    ("GET", "/api/console/training/jobs"): MODEL_OPERATORS,
    ("POST", "/api/console/training/jobs"): MODEL_OPERATORS,
}


# The console socket's frames that name a conversation, by the same rules.
# "seen" (read receipts) is taken only for a conversation this socket already watches, i.e. passed "watch".
CONSOLE_SOCKET_FRAMES = {"watch": THEIR_WORK, "unwatch": CHATS, "ping": CHATS, "seen": THEIR_WORK}


@access("A route added without an access rule", "the route-table test fails until the route is listed")
def test_every_route_has_an_access_rule():
    routes = set(app_routes())
    missing = sorted(routes - EXPECTED_ROLES.keys())
    assert not missing, f"routes without an entry in EXPECTED_ROLES: {missing}"
    assert not sorted(EXPECTED_ROLES.keys() - routes), "EXPECTED_ROLES lists routes the app no longer has"


def test_every_conversation_route_and_console_frame_names_its_scope():
    """A conversation route or console socket frame added without saying which conversations it reaches
    fails."""
    unscoped = [key for key, rule in EXPECTED_ROLES.items() if "{conversation_id}" in key[1]
                and not isinstance(rule, Scoped)]
    assert not unscoped, f"conversation routes without a scope: {unscoped}"
    source = (Path(__file__).resolve().parents[2] / "handoff/specialists/console_socket.py").read_text()
    frames_handled = re.findall(r'kind == "(\w+)"', source.split("async def console_socket(")[1])
    assert set(frames_handled) == set(CONSOLE_SOCKET_FRAMES)


@access("Every console, training and service route called anonymously and with each staff role",
        "401 without credentials, 403 for a role not in the table, never a 500")
async def test_every_http_route_enforces_its_roles(handoff):
    consoles = {role: await signed_in(handoff, username) for role, username in USER_OF.items()}
    checked = 0
    async with httpx.AsyncClient(base_url=handoff.url, timeout=20) as client:
        for (method, path), allowed in sorted(EXPECTED_ROLES.items()):
            if method in ("WS", "MOUNT") or allowed == ANYONE:
                continue
            url = path.replace("{conversation_id}", "no-such-chat")
            anonymous = await client.request(method, url, json={} if method == "POST" else None)
            assert anonymous.status_code == 401, (method, path, anonymous.text)
            assert anonymous.json()["error"]["code"] == "unauthorized"
            service = await client.request(method, url, json={} if method == "POST" else None,
                                           headers={"Authorization": f"Bearer {API_TOKEN}"})
            assert (service.status_code not in (401, 403)) == (allowed == SERVICE), (
                method, path, service.text,
            )
            for role, console in consoles.items():
                if path == "/api/console/logout":  # a fresh session each time: logging out ends it
                    console = await signed_in(handoff, USER_OF[role])
                answer = await console.http.request(method, url, json={} if method == "POST" else None)
                # 503 is fine: no tracker store yet
                assert answer.status_code != 500, (method, path, role, answer.text)
                if role in allowed:
                    assert answer.status_code not in (401, 403), (method, path, role, answer.text)
                else:
                    assert answer.status_code == (401 if allowed == SERVICE else 403), (method, path, role)
                    assert answer.json()["error"]["code"] in ("forbidden", "unauthorized")
                checked += 1
    assert checked >= 60
    for console in consoles.values():
        await console.close()


@access(
    "Console socket (/ws/console) opened anonymously or by a trainer",
    "closed 4401; specialists get the queue",
)
async def test_the_console_socket_is_for_chat_staff_only(handoff):
    tess, dana = await signed_in(handoff, "tess"), await signed_in(handoff, "dana")
    for token in ("", "forged-session-token", tess.token):
        frames, code, _reason = await refused_socket(f"{handoff.ws_url}/ws/console?token={token}")
        assert code == 4401 and frames[0]["code"] == "unauthorized"
    await dana.open_socket()
    await dana.close()
    await tess.close()


@access("Specialist opens the supervisor pages (report, its export, audit log, audit export)", "403 for each")
async def test_a_specialist_cannot_see_supervisor_pages(handoff):
    dana, sam = await signed_in(handoff, "dana"), await signed_in(handoff, "sam")
    range_ = {"start": "2000-01-01", "end": "2100-01-01"}
    for path, params in (("/api/console/reports", {}), ("/api/console/reports/export", {"table": "overall"}),
                         ("/api/console/audit", {}), ("/api/console/audit/export", range_)):
        refused = await dana.http.get(path, params=params)
        assert refused.status_code == 403
        assert refused.json()["error"]["message"] == "Only supervisors can see this page."
        assert (await sam.http.get(path, params=params)).status_code == 200
    await dana.close()
    await sam.close()


@access(
    "Trainer tries to claim a chat, settle a dispute or issue a credit", "403; nothing reaches the backend"
)
async def test_a_trainer_cannot_issue_credits_or_settle_disputes(handoff, stand_in):
    widget, dana = await claimed_dispute(handoff)
    tess = await signed_in(handoff, "tess")
    cid = widget.conversation_id
    for path, body in (("/settle", {"decision": "accepted", "credit_amount": "49.99", "note": "ok"}),
                       ("/settle", {"decision": "rejected", "note": "no"}), ("/claim", {}),
                       ("/messages", {"text": "hello"}), ("/resolve", {"outcome": "credit_issued"})):
        refused = await tess.post(f"/api/console/conversations/{cid}{path}", body)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["error"]["message"] == "Your role cannot work on chats."
    assert (await tess.http.get(f"/api/console/conversations/{cid}/account")).status_code == 403
    assert settle_calls(stand_in, widget.conversation_id) == []
    for console in (tess, dana):
        await console.close()
    await widget.close()


@access("Specialist acts in a chat another specialist claimed, or in a chat still with the bot "
        "(message, typing, settle, account)", "403/409; the customer sees nothing")
async def test_a_specialist_cannot_act_in_a_chat_they_do_not_own(handoff, stand_in):
    widget, dana = await claimed_dispute(handoff)
    bystander = await _chat(handoff, customer_token(1, "Alice"))  # with the bot, never escalated
    sam = await signed_in(handoff, "sam")
    erin = await another_specialist(handoff, "erin")
    for cid, expected in ((widget.conversation_id, 403), (bystander.conversation_id, 409)):
        for path, body in (("/messages", {"text": "hi from erin"}), ("/typing", {}), ("/release", {}),
                           ("/settle", {"decision": "accepted", "credit_amount": "1.00"}),
                           ("/resolve", {"outcome": "explained"}), ("/transfer", {"to_username": "erin"})):
            refused = await erin.post(f"/api/console/conversations/{cid}{path}", body)
            assert refused.status_code == expected, (cid, path, refused.text)
        assert (await erin.http.get(f"/api/console/conversations/{cid}/account")).status_code == expected
    # A supervisor may step in (the console offers it), and the customer then sees it.
    assert (await sam.post(f"/api/console/conversations/{widget.conversation_id}/typing")).status_code == 200
    await widget.wait_for(lambda f: f["type"] == "typing" and f.get("agent_name") == "Sam")
    assert not [f for f in widget.frames if f["type"] == "typing" and f.get("agent_name") == "Erin"]
    assert not [f for f in bystander.frames if f["type"] in ("typing", "status")]
    assert settle_calls(stand_in, widget.conversation_id) == []
    for console in (dana, sam, erin):
        await console.close()
    await widget.close()
    await bystander.close()


async def _audit_entries(handoff, conversation_id: str) -> list[tuple[str, str, str]]:
    """(actor, action, reason) of every look at one conversation, oldest first, read by the supervisor."""
    sam = await signed_in(handoff, "sam")
    entries = (await sam.http.get("/api/console/audit")).json()["entries"]
    await sam.close()
    looks = ("view_conversation", "watch_conversation")
    return [(e["actor"], e["action"], (e["details"] or {}).get("reason")) for e in entries[::-1]
            if e["target"] == conversation_id and e["action"].startswith(looks)]


@access(
    "Specialist reads the transcript of, or watches live, a chat that is not their work (with the bot, "
    "another specialist's, resolved by someone else)",
    "403 `not_your_chat` / a `not_your_chat` frame and nothing streamed; queued, their own, handled by them "
    "and (supervisor) any are allowed; every read and watch audited with its reason",
)
async def test_staff_read_and_watch_only_the_conversations_their_work_needs(handoff, stand_in):
    bot_only = await _chat(handoff, customer_token(1, "Alice"))  # never escalated
    await bot_only.send("what is my balance?")
    await bot_only.wait_for(lambda f: f["type"] == "message" and f["text"] == "Echo: what is my balance?")
    dana, erin, sam = await signed_in(handoff, "dana"), await another_specialist(handoff, "erin"), \
        await signed_in(handoff, "sam")
    path = f"/api/console/conversations/{bot_only.conversation_id}"
    for specialist in (dana, erin):
        refused = await specialist.http.get(path)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_your_chat", refused.text
        assert "balance" not in refused.text
    assert (await sam.http.get(path)).status_code == 200
    await erin.open_socket()
    await erin.watch(bot_only.conversation_id)
    refusal = await erin.wait_for(lambda f: f["type"] == "error")
    assert refusal["code"] == "not_your_chat" and refusal["conversation_id"] == bot_only.conversation_id
    await bot_only.send("and my card number?")
    await bot_only.wait_for(lambda f: f["type"] == "message" and f["text"] == "Echo: and my card number?")
    await erin.socket.send(json.dumps({"type": "ping"}))
    await erin.wait_for(lambda f: f["type"] == "pong")  # the socket stays open ...
    assert not [f for f in erin.frames if f.get("conversation_id") == bot_only.conversation_id
                and f["type"] != "error"], "... and streamed nothing of that chat"

    queued = await queued_chat(handoff)
    cid = queued.conversation_id
    # waiting: anyone may read it
    assert (await erin.http.get(f"/api/console/conversations/{cid}")).status_code == 200
    assert (await dana.post(f"/api/console/conversations/{cid}/claim")).status_code == 200
    assert (await dana.http.get(f"/api/console/conversations/{cid}")).status_code == 200
    assert (await erin.http.get(f"/api/console/conversations/{cid}")).status_code == 403  # Dana's now
    await erin.watch(cid)
    assert (await erin.wait_for(lambda f: f["type"] == "error" and f.get("conversation_id") == cid))[
        "code"] == "not_your_chat"
    resolved = await dana.post(f"/api/console/conversations/{cid}/resolve", {"outcome": "explained"})
    assert resolved.status_code == 200
    assert (await dana.http.get(f"/api/console/conversations/{cid}")).status_code == 200  # she handled it
    assert (await erin.http.get(f"/api/console/conversations/{cid}")).status_code == 403

    assert await _audit_entries(handoff, bot_only.conversation_id) == [
        ("specialist:dana", "view_conversation_refused", "not_their_work"),
        ("specialist:erin", "view_conversation_refused", "not_their_work"),
        ("supervisor:sam", "view_conversation", "supervisor"),
        ("specialist:erin", "watch_conversation_refused", "not_their_work")]
    assert await _audit_entries(handoff, cid) == [
        ("specialist:erin", "view_conversation", "waiting_for_a_specialist"),
        ("specialist:dana", "view_conversation", "assigned_to_them"),
        ("specialist:erin", "view_conversation_refused", "not_their_work"),
        ("specialist:erin", "watch_conversation_refused", "not_their_work"),
        ("specialist:dana", "view_conversation", "handled_by_them"),
        ("specialist:erin", "view_conversation_refused", "not_their_work")]
    for console in (dana, erin, sam):
        await console.close()
    await bot_only.close()
    await queued.close()


@access("Console socket `watch` of a queued chat, one's own, or (supervisor) any",
        "streamed live, and each watch is in the audit log with its reason")
async def test_allowed_watches_stream_and_are_audited(handoff, stand_in):
    bot_only = await _chat(handoff, customer_token(1, "Alice"))
    queued = await queued_chat(handoff)
    dana, sam = await signed_in(handoff, "dana"), await signed_in(handoff, "sam")
    await dana.open_socket()
    await sam.open_socket()
    await dana.watch(queued.conversation_id)
    await sam.watch(bot_only.conversation_id)
    await asyncio.sleep(0.3)  # the watches are set up before the customers speak
    await queued.send("anyone there?")
    await bot_only.send("hello bot")
    seen = await dana.wait_for(
        lambda f: f["type"] == "message" and f["conversation_id"] == queued.conversation_id
    )
    assert seen["message"]["text"] == "anyone there?"
    await sam.wait_for(lambda f: f["type"] == "message" and f["conversation_id"] == bot_only.conversation_id)
    assert await _audit_entries(handoff, queued.conversation_id) == [
        ("specialist:dana", "watch_conversation", "waiting_for_a_specialist")]
    assert await _audit_entries(handoff, bot_only.conversation_id) == [
        ("supervisor:sam", "watch_conversation", "supervisor")]
    for console in (dana, sam):
        await console.close()
    await bot_only.close()
    await queued.close()


async def another_specialist(handoff, username: str) -> Console:
    """A second specialist account, created with the service's own code (as `create-user` does), signed in."""
    from handoff.db import Database
    from handoff.specialists.auth import create_user

    password = f"{username}-test-pass"

    def create() -> None:
        db = Database(handoff.env["HANDOFF_DATABASE_URL"])
        try:
            with db.session() as session:
                create_user(session, username=username, password=password, display_name=username.title(),
                            role="specialist")
        finally:
            db.dispose()

    await asyncio.to_thread(create)
    console = Console(handoff, username, password)
    await console.login()
    return console


@access("Visitor without a session opens the console", "the sign-in form; every console API answers 401")
async def test_unauthenticated_visitors_get_the_sign_in_form_and_401(handoff):
    async with httpx.AsyncClient(base_url=handoff.url) as client:
        page = await client.get("/console")
        assert page.status_code == 200 and 'data-testid="login-form"' in page.text
        assert "Alice" not in page.text and "ACC-" not in page.text
        me = await client.get("/api/console/me")
        assert me.status_code == 401
        assert me.json() == {"error": {"code": "unauthorized", "message": "Please log in."}}


@access(
    "Customer JWT and staff session in the sockets' `?token=` (accepted, refused, and a plain HTTP request)",
    "never written to the service's log: access and connection lines show `token=[redacted]`",
)
async def test_tokens_in_the_query_string_never_reach_the_log(handoff):
    customer = customer_token(2, "Ben")
    widget = await _chat(handoff, customer)
    await widget.send("hello")
    await widget.wait_for(lambda f: f["type"] == "message" and f["text"] == "Echo: hello")
    await widget.close()
    dana = await signed_in(handoff, "dana")
    await dana.open_socket()
    await dana.close()
    expired = forged_tokens()["expired"]
    frames, code, _reason = await refused_socket(f"{handoff.ws_url}/ws/chat?token={expired}")
    assert code == 4401 and frames[0]["code"] == "invalid_token"
    async with httpx.AsyncClient(base_url=handoff.url) as client:  # not an upgrade: the access log's line
        await client.get("/ws/chat", params={"token": customer, "x": "1"})
        await client.get("/health", params={"access_token": customer})
    await asyncio.sleep(0.5)  # the server writes its lines after answering
    log = (handoff.workdir / f"handoff-{handoff.port}.log").read_text()
    for secret in (customer, dana.token, expired, customer.split(".")[1]):
        assert secret not in log
    assert log.count("/ws/chat?token=[redacted]") >= 3 and "/ws/console?token=[redacted]" in log
    assert "/health?access_token=[redacted]" in log


# -- passwords and sessions at rest ------------------------------------------------------------------------

@access(
    "Staff database stolen: password hashes and session rows",
    "argon2id hashes; sessions only as HMAC digests",
)
async def test_passwords_and_sessions_are_stored_only_as_hashes(handoff):
    dana = await signed_in(handoff, "dana")
    path = handoff.env["HANDOFF_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        hashes = dict(db.execute("SELECT username, password_hash FROM staff_users"))
        digests = [row[0] for row in db.execute("SELECT token_hash FROM staff_sessions")]
    for username, stored in hashes.items():
        assert stored.startswith("$argon2id$") and PASSWORDS[username] not in stored
    secret = handoff.env.get("HANDOFF_SESSION_SECRET", "dev-handoff-session-secret")
    assert dana.token not in digests
    assert hmac.new(secret.encode(), dana.token.encode(), hashlib.sha256).hexdigest() in digests
    async with httpx.AsyncClient(base_url=handoff.url) as client:  # a stolen digest is not a session
        for digest in digests:
            stolen = await client.get("/api/console/me", headers={"Authorization": f"Bearer {digest}"})
            assert stolen.status_code == 401
    await dana.close()


# -- customer isolation on the widget socket --------------------------------------------------------------

def forged_tokens() -> dict[str, str]:
    now = datetime.now(UTC)
    claims = {"sub": "2", "name": "Ben", "exp": now + timedelta(minutes=30)}
    return {
        "signed with another key": jwt.encode(
            claims, "attacker-secret-which-is-long-enough!!", algorithm="HS256"
        ),
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "expired": jwt.encode({**claims, "exp": now - timedelta(seconds=5)}, JWT_SECRET, algorithm="HS256"),
        "no expiry": jwt.encode({"sub": "2", "name": "Ben"}, JWT_SECRET, algorithm="HS256"),
        "customer id not a number": jwt.encode({**claims, "sub": "2 OR 1=1"}, JWT_SECRET, algorithm="HS256"),
        "negative customer id": jwt.encode({**claims, "sub": "-2"}, JWT_SECRET, algorithm="HS256"),
        "payload edited after signing": _tampered(
            jwt.encode({**claims, "sub": "1"}, JWT_SECRET, algorithm="HS256")
        ),
        "not a JWT": "not-a-jwt",
    }


def _tampered(token: str) -> str:
    import base64

    header, _payload, signature = token.split(".")
    claims = json.dumps({"sub": "2", "exp": 4102444800}).encode()
    forged = base64.urlsafe_b64encode(claims).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@access("Forged (other key, alg none, edited payload), expired or malformed customer JWT",
        "invalid_token error, socket closed 4401, no conversation")
async def test_forged_and_expired_customer_tokens_are_refused(handoff, stand_in):
    for name, token in forged_tokens().items():
        frames, code, _reason = await refused_socket(f"{handoff.ws_url}/ws/chat?token={token}")
        assert code == 4401, name
        assert frames == [{"type": "error", "code": "invalid_token",
                           "message": "Your sign-in has expired. Please reload the page."}], name
    assert stand_in.rasa_messages == [] or all(
        m["metadata"]["customer_id"] != 2 for m in stand_in.rasa_messages
    )


async def _chat(handoff, token: str, conversation_id: str | None = None) -> Widget:
    widget = Widget(handoff.ws_url, token, conversation_id=conversation_id)
    await widget.connect()
    return widget


@access("Customer A (JWT) or an anonymous visitor resumes customer B's conversation_id (another sender id)",
        "a new conversation; none of B's messages replayed")
async def test_another_customers_conversation_id_starts_a_new_conversation(handoff, stand_in):
    ben = await _chat(handoff, customer_token(2, "Ben"))
    secret = "Ben's private question about invoice INV-2026-000222"
    await ben.send(secret)
    await ben.wait_for(lambda f: f["type"] == "message" and f["text"] == "Echo: " + secret)
    await ben.close()

    for token in (customer_token(1, "Alice"), ""):
        intruder = Widget(handoff.ws_url, token, conversation_id=ben.conversation_id, last_seq=0)
        welcome = await intruder.connect()
        assert welcome["conversation_id"] != ben.conversation_id
        await intruder.send("show me the earlier messages")
        await intruder.wait_for(lambda f: f["type"] == "message" and f["text"].startswith("Echo: show me"))
        assert all(secret not in json.dumps(frame) for frame in intruder.frames)
        await intruder.close()
    # Ben's own token resumes it (the control), and his transcript has nothing of the intruders.
    again = Widget(handoff.ws_url, customer_token(2, "Ben"), conversation_id=ben.conversation_id, last_seq=0)
    assert (await again.connect())["conversation_id"] == ben.conversation_id
    await again.wait_for(lambda f: f["type"] == "message" and f["text"] == secret)
    await again.close()
    texts = await transcript_texts(handoff, ben.conversation_id)
    assert secret in texts and not any("earlier messages" in t for t in texts)
    senders = {m["sender"]: m["metadata"]["customer_id"] for m in stand_in.rasa_messages
               if "earlier messages" in m["message"]}
    assert ben.conversation_id not in senders and set(senders.values()) <= {1, None}


@access("Customer A's WebSocket frames name customer B's conversation (message, typing, hello)",
        "stored only in A's own conversation; B sees nothing")
async def test_frames_naming_another_conversation_stay_in_the_senders_conversation(handoff, stand_in):
    ben = await _chat(handoff, customer_token(2, "Ben"))
    alice = await _chat(handoff, customer_token(1, "Alice"))
    injected = f"injected-{uuid.uuid4().hex[:8]}"
    await alice.socket.send(json.dumps({"type": "message", "client_id": "c1", "text": injected,
                                        "conversation_id": ben.conversation_id, "customer_id": 2}))
    ack = await alice.wait_for(lambda f: f["type"] == "ack" and f["client_id"] == "c1")
    await alice.socket.send(json.dumps({"type": "typing", "conversation_id": ben.conversation_id}))
    await alice.socket.send(json.dumps({"type": "hello", "conversation_id": ben.conversation_id}))
    again = await alice.wait_for(lambda f: f["type"] == "error")
    assert again["code"] == "already_started"
    await alice.wait_for(lambda f: f["type"] == "message" and f["text"] == "Echo: " + injected)
    assert ack["seq"] > 0
    assert injected in await transcript_texts(handoff, alice.conversation_id)
    assert injected not in await transcript_texts(handoff, ben.conversation_id)
    assert not any(injected in json.dumps(frame) for frame in ben.frames)
    to_rasa = next(m for m in stand_in.rasa_messages if m["message"] == injected)
    assert to_rasa["sender"] == alice.conversation_id and to_rasa["metadata"]["customer_id"] == 1
    await alice.close()
    await ben.close()


# -- the audit log ------------------------------------------------------------------------------------------

@access(
    "Changing or deleting audit entries through the application", "no PUT/PATCH/DELETE route exists at all"
)
def test_the_application_has_no_route_that_changes_or_deletes_anything_in_bulk():
    methods = {method for method, _path in app_routes()}
    assert methods <= {"GET", "POST", "WS", "MOUNT"}
    assert [path for method, path in app_routes() if "audit" in path] == [
        "/api/console/audit", "/api/console/audit/export"]
    assert {method for method, path in app_routes() if "audit" in path} == {"GET"}


def _tamper(database_url: str) -> list[str]:
    """Try UPDATE, DELETE (and TRUNCATE on PostgreSQL) on audit_log; returns the database's refusals."""
    engine = create_engine(database_url)
    refusals = []
    statements = ["UPDATE audit_log SET actor = 'nobody'", "DELETE FROM audit_log"]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_log")
    try:
        for statement in statements:
            with pytest.raises(DBAPIError) as refused, engine.begin() as connection:
                connection.execute(text(statement))
            refusals.append(str(refused.value.orig))
        with engine.begin() as connection:  # appending still works
            connection.execute(
                text("INSERT INTO audit_log (at, actor, action) VALUES (:at, 'test', 'probe')"),
                {"at": datetime.now(UTC)},
            )
            return [*refusals, str(connection.execute(text("SELECT count(*) FROM audit_log")).scalar())]
    finally:
        engine.dispose()


@access(
    "Audit entries updated or deleted directly in the database (SQLite)", "refused by a trigger: append-only"
)
async def test_the_database_refuses_to_change_the_audit_log_sqlite(handoff):
    dana = await signed_in(handoff, "dana")  # writes a `login` entry
    *refusals, count = _tamper(handoff.env["HANDOFF_DATABASE_URL"])
    assert refusals == ["audit_log is append-only"] * 2 and int(count) >= 2
    await dana.close()


@pytest.mark.postgres
@access("Audit entries updated, deleted or truncated directly in the database (PostgreSQL)",
        "refused by a trigger: append-only")
async def test_the_database_refuses_to_change_the_audit_log_postgres(make_handoff, postgres_url):
    handoff = make_handoff(database_url=postgres_url)
    dana = await signed_in(handoff, "dana")
    *refusals, count = _tamper(postgres_url)
    assert len(refusals) == 3 and all("audit_log is append-only" in r for r in refusals)
    assert int(count) >= 2
    await dana.close()


@access("Supervisor exports the audit log for a date range (CSV and JSON)",
        "only entries in [start, end), oldest first; the export itself is audited")
async def test_a_supervisor_exports_the_audit_log_for_a_date_range(handoff):
    async with httpx.AsyncClient(base_url=handoff.url) as client:
        await client.post("/api/console/login", json={"username": "mallory", "password": "guess"})
    sam = await signed_in(handoff, "sam")
    now = datetime.now(UTC)
    window = {"start": (now - timedelta(hours=1)).isoformat(), "end": (now + timedelta(hours=1)).isoformat()}
    exported = await sam.http.get("/api/console/audit/export", params=window)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["content-disposition"].startswith('attachment; filename="handoff-audit-')
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert list(rows[0]) == ["id", "at", "actor", "action", "target", "details"]
    assert [(r["actor"], r["action"], r["target"]) for r in rows] == [
        ("anonymous:mallory", "login_failed", "username:mallory"),
        ("supervisor:sam", "login", "username:sam"),
    ]
    assert json.loads(rows[0]["details"]) == {"client_ip": "127.0.0.1"}

    as_json = (await sam.http.get("/api/console/audit/export", params={**window, "format": "json"})).json()
    assert as_json["count"] == len(as_json["entries"]) == 3  # + the CSV export, itself audited
    assert [e["action"] for e in as_json["entries"]] == ["login_failed", "login", "audit_export"]
    assert as_json["entries"][-1]["details"]["format"] == "csv"
    assert as_json["entries"][-1]["details"]["entries"] == 2
    # The range is half-open and applies: a window before everything is empty, one ending at sam's login
    # instant excludes it.
    past = {"start": "2001-01-01", "end": "2001-01-02", "format": "json"}
    assert (await sam.http.get("/api/console/audit/export", params=past)).json()["entries"] == []
    until_login = {"start": window["start"], "end": as_json["entries"][1]["at"], "format": "json"}
    assert [e["action"] for e in (await sam.http.get("/api/console/audit/export", params=until_login)).json()[
        "entries"]] == ["login_failed"]
    await sam.close()


@access("Audit export with a bad range (end before start, not a date, missing)", "422 with a clear message")
async def test_an_audit_export_with_a_bad_range_is_a_clear_422(handoff):
    sam = await signed_in(handoff, "sam")
    for params, message in (
        ({"start": "2026-02-01", "end": "2026-01-01"}, "end must be after start."),
        ({"start": "yesterday", "end": "2026-01-01"}, "start: Input should be a valid datetime"),
        ({"end": "2026-01-01"}, "start: Field required"),
        ({"start": "2026-01-01", "end": "2026-01-02", "format": "xlsx"},
         "format: Input should be 'csv' or 'json'"),
    ):
        refused = await sam.http.get("/api/console/audit/export", params=params)
        assert refused.status_code == 422, params
        assert refused.json()["error"]["message"].startswith(message), refused.json()
    await sam.close()


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_quoted():
    from handoff.specialists.audit_export import _cell

    assert [_cell(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "plain", None, {"a": 1})] == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "plain", "", '{"a": 1}']
