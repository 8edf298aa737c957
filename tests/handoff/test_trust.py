"""Trust: staff sign-in throttling and hostile customer chat input, against the real service over real
sockets.

The stand-in Rasa records every message it receives, so "nothing reached Rasa" is asserted, not assumed.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid

import httpx
import pytest
import websockets

from handoff.conversations.input_limits import FloodGuard, clean_text
from tests.handoff.conftest import Widget, customer_texts, customer_token, rasa_texts, transcript
from tests.support.browser import chromium
from tests.support.demo_page import pick_demo_customer, sign_in_to_console

BAD_INPUT = "bad input"
LOCKED = re.compile(r"^Too many failed sign-ins; try again in \d+ minutes?\.$")


# -- helpers ------------------------------------------------------------------------------------------

async def reply_to(widget: Widget, client_id: str) -> dict:
    """The ack or error frame the service sent about one customer message."""
    return await widget.wait_for(lambda f: f["type"] in ("ack", "error") and f.get("client_id") == client_id)


async def accepted_and_answered(widget: Widget, text: str) -> None:
    """The message is acked and the (stand-in) bot's next echo is exactly that text. Waiting for the next
    echo, not for the expected one, makes a changed text (e.g. redacted) fail here with both texts, not as a
    timeout."""
    assert (await reply_to(widget, await widget.send(text)))["type"] == "ack"
    echo = await widget.wait_for(lambda f: f["type"] == "message" and f["sender"] == "bot"
                                 and f["text"].startswith("Echo: "))
    assert echo["text"] == "Echo: " + text


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/console/login", json={"username": username, "password": password})


# -- staff sign-in throttling --------------------------------------------------------------------------

async def test_five_failed_logins_lock_the_username_even_for_the_right_password(handoff):
    async with httpx.AsyncClient(base_url=handoff.url) as client:
        for _ in range(5):
            wrong = await login(client, "dana", "not-her-password")
            assert wrong.status_code == 401
            assert wrong.json()["error"]["code"] == "bad_credentials"
        locked = await login(client, "dana", "dana-demo-pass")
        assert locked.status_code == 429
        assert locked.json()["error"]["code"] == "too_many_failed_logins"
        assert LOCKED.match(locked.json()["error"]["message"]), locked.json()
        assert "15 minutes" in locked.json()["error"]["message"]
        # Another username from the same address is not affected (5 < the per-IP limit of 20).
        supervisor = await login(client, "sam", "sam-demo-pass")
        assert supervisor.status_code == 200
        entries = (await client.get("/api/console/audit", headers={
            "Authorization": f"Bearer {supervisor.json()['token']}"})).json()["entries"]
    lockouts = [e for e in entries if e["action"] == "login_locked"]
    assert len(lockouts) == 1
    assert lockouts[0]["target"] == "username:dana"
    assert lockouts[0]["details"]["reason"] == "username"
    assert lockouts[0]["details"]["client_ip"] == "127.0.0.1"
    # the readable log folds identical consecutive entries into one with their count
    failed = [e for e in entries if e["action"] == "login_failed" and e["target"] == "username:dana"]
    assert sum(e["count"] for e in failed) == 5


async def test_a_successful_login_resets_the_username_counter(handoff):
    async with httpx.AsyncClient(base_url=handoff.url) as client:
        for _ in range(4):
            assert (await login(client, "dana", "typo")).status_code == 401
        assert (await login(client, "dana", "dana-demo-pass")).status_code == 200
        for _ in range(4):
            assert (await login(client, "dana", "typo")).status_code == 401
        # Eight failures in the window, but only four since the last success.
        assert (await login(client, "dana", "dana-demo-pass")).status_code == 200
        for _ in range(5):
            assert (await login(client, "dana", "typo")).status_code == 401
        assert (await login(client, "dana", "dana-demo-pass")).status_code == 429


async def test_twenty_failures_from_one_address_lock_every_username_from_it(handoff):
    async with httpx.AsyncClient(base_url=handoff.url) as client:
        # Password spraying: few tries per username, so only the per-address limit can catch it.
        for attempt in range(20):
            answer = await login(client, f"guess{attempt % 7}", "password123")
            assert answer.status_code == 401, answer.json()
        for username, password in (("sam", "sam-demo-pass"), ("dana", "dana-demo-pass")):
            locked = await login(client, username, password)
            assert locked.status_code == 429
            assert LOCKED.match(locked.json()["error"]["message"])


async def test_a_lock_survives_a_restart_of_the_service(handoff):
    async with httpx.AsyncClient(base_url=handoff.url) as client:
        for _ in range(5):
            assert (await login(client, "tess", "wrong")).status_code == 401
        assert (await login(client, "tess", "tess-demo-pass")).status_code == 429
    handoff.stop()
    handoff.start()  # a new process on the same database: nothing was kept in memory
    async with httpx.AsyncClient(base_url=handoff.url) as client:
        locked = await login(client, "tess", "tess-demo-pass")
        assert locked.status_code == 429
        assert LOCKED.match(locked.json()["error"]["message"])


# -- customer chat input --------------------------------------------------------------------------------

@pytest.mark.trust_case(
    area=BAD_INPUT,
    case="Empty and whitespace-only chat message",
    expected="error `empty_message` with a polite text; nothing stored or sent to the bot",
)
async def test_empty_and_whitespace_messages_are_refused_politely_and_never_stored(handoff, stand_in):
    widget = Widget(handoff.ws_url, customer_token(1, "Alice"))
    await widget.connect()
    for text in ("", "   ", " \n\t \n", "\x00\x07"):
        refused = await reply_to(widget, await widget.send(text))
        assert refused["type"] == "error" and refused["code"] == "empty_message"
        assert refused["message"]
    fine = await widget.send("hello there")
    assert (await reply_to(widget, fine))["type"] == "ack"
    await widget.wait_for(lambda f: f["type"] == "message" and f["text"] == "Echo: hello there")
    assert rasa_texts(stand_in, widget.conversation_id) == ["hello there"]
    assert await customer_texts(handoff, widget.conversation_id) == ["hello there"]
    await widget.close()


@pytest.mark.trust_case(
    area=BAD_INPUT,
    case="Chat message of 2,001 characters, and a 100 KB frame",
    expected="error `message_too_long` (keep it under 2,000 characters) naming the message's `client_id`; "
    "not stored, not sent to the bot; 2,000 characters accepted",
)
async def test_too_long_messages_are_refused_without_being_stored(handoff, stand_in):
    widget = Widget(handoff.ws_url, customer_token(2, "Ben"))
    await widget.connect()
    just_over = await reply_to(widget, await widget.send("x" * 2001))
    assert just_over["code"] == "message_too_long"
    assert "2,000 characters" in just_over["message"]
    # 100 KB: refused for its size before it is handled, but named, so the widget knows which message it was.
    huge_id = uuid.uuid4().hex
    await widget.socket.send(json.dumps({"type": "message", "client_id": huge_id, "text": "y" * 100_000}))
    huge = await reply_to(widget, huge_id)
    assert huge["code"] == "message_too_long" and "2,000 characters" in huge["message"]
    at_limit = "z" * 2000
    assert (await reply_to(widget, await widget.send(at_limit)))["type"] == "ack"
    await widget.wait_for(lambda f: f["type"] == "message" and f["text"] == "Echo: " + at_limit)
    assert rasa_texts(stand_in, widget.conversation_id) == [at_limit]
    assert await customer_texts(handoff, widget.conversation_id) == [at_limit]
    await widget.close()


@pytest.mark.trust_case(area=BAD_INPUT, case="Control characters (NUL, ESC, BEL, DEL, CR)",
                         expected="stripped before storage and the bot; the rest of the message kept")
@pytest.mark.trust_case(area=BAD_INPUT, case="Emoji, ZWJ sequences and right-to-left text",
                         expected="stored and sent to the bot unchanged")
async def test_control_characters_are_stripped_but_emoji_and_right_to_left_text_kept(handoff, stand_in):
    widget = Widget(handoff.ws_url, customer_token(3, "Carla"))
    await widget.connect()
    dirty = "line one\x00\x1b[31m\x07\r\nline\ttwo\x7f"
    international = "שלום, مرحبا 👋🏽 family 👨\u200d👩\u200d👧 \u200fend"
    for text in (dirty, international):
        assert (await reply_to(widget, await widget.send(text)))["type"] == "ack"
    await widget.wait_for(lambda f: f["type"] == "message" and f["text"] == "Echo: " + international)
    cleaned = "line one[31m\nline\ttwo"
    assert rasa_texts(stand_in, widget.conversation_id) == [cleaned, international]
    assert await customer_texts(handoff, widget.conversation_id) == [cleaned, international]
    await widget.close()


@pytest.mark.trust_case(
    area=BAD_INPUT,
    case="A hello naming a conversation id with NUL, 10 KB or odd characters, or a last_seq beyond 64 bits",
    expected="a new conversation that works (SQLite and PostgreSQL)",
)
@pytest.mark.parametrize("database", ["sqlite", "postgres"])
async def test_hostile_hello_starts_a_new_working_conversation(make_handoff, stand_in, database, request):
    url = request.getfixturevalue("postgres_url") if database == "postgres" else None
    service = make_handoff(database_url=url)
    for odd_id, last_seq in (("abc\x00def", 0), ("x" * 10_000, 0), ("../../etc/passwd", 0), ("ok-id", 2**70)):
        widget = Widget(service.ws_url, customer_token(1, "Alice"), conversation_id=odd_id, last_seq=last_seq)
        welcome = await widget.connect()
        assert welcome["type"] == "welcome" and welcome["conversation_id"] != odd_id
        assert (await reply_to(widget, await widget.send("hello there")))["type"] == "ack"
        await widget.wait_for(lambda f: f["type"] == "message" and f["text"] == "Echo: hello there")
        await widget.close()


@pytest.mark.trust_case(area=BAD_INPUT, case="Unreadable or unknown WebSocket frames",
                         expected="error `bad_frame`; the socket stays open and the next message is answered")
async def test_malformed_and_unknown_frames_get_bad_frame_and_the_socket_stays_open(handoff, stand_in):
    widget = Widget(handoff.ws_url, customer_token(4, "David"))
    await widget.connect()
    for raw in ("{not json", "[]", "42", '{"no_type": true}', '{"type": 5}', '{"type": "dance"}',
                json.dumps({"type": "<script>"})):
        await widget.socket.send(raw)
        error = await widget.wait_for(lambda f: f["type"] == "error")
        assert error["code"] == "bad_frame", (raw, error)
        assert error["message"]
    still_open = await widget.send("still here?")
    assert (await reply_to(widget, still_open))["type"] == "ack"
    await widget.wait_for(lambda f: f["type"] == "message" and f["text"] == "Echo: still here?")
    assert rasa_texts(stand_in, widget.conversation_id) == ["still here?"]
    await widget.close()


def service_log(handoff) -> str:
    return (handoff.workdir / f"handoff-{handoff.port}.log").read_text(errors="replace")


def assert_no_error_logged(handoff) -> None:
    log = service_log(handoff)
    assert "Traceback" not in log and "ERROR" not in log, log[-3000:]


NESTED_1500 = "[" * 1500 + "]" * 1500


@pytest.mark.trust_case(
    area=BAD_INPUT,
    case="Binary frame, a payload nested 1,500 deep, a frame nested 1,500 deep, and message fields of the "
    "wrong type (text, payload, client_id)",
    expected="error `bad_frame` (with the message's `client_id` when it has one), the socket stays open and "
    "the next message is answered; no traceback in the log",
)
async def test_binary_deep_and_wrong_shape_frames_get_bad_frame_and_the_socket_stays_open(handoff, stand_in):
    widget = Widget(handoff.ws_url, customer_token(5, "Elena"))
    await widget.connect()
    await widget.socket.send(b"\x00\x01 binary")
    assert (await widget.wait_for(lambda f: f["type"] == "error"))["code"] == "bad_frame"
    await widget.socket.send(
        '{"type": "message", "client_id": "deep-1", "text": "hi", "payload": ' + NESTED_1500 + "}"
    )
    assert (await widget.wait_for(lambda f: f["type"] == "error"))["code"] == "bad_frame"
    await widget.socket.send(NESTED_1500)
    assert (await widget.wait_for(lambda f: f["type"] == "error"))["code"] == "bad_frame"
    for number, wrong in enumerate((
        {"text": {"nested": "object"}}, {"text": "hi", "payload": 5},
        {"text": ["a"], "payload": "/greet"}, {"text": "hi", "payload": {"a": 1}},
    )):
        client_id = f"wrong-shape-{number}"
        await widget.socket.send(json.dumps({"type": "message", "client_id": client_id, **wrong}))
        refused = await reply_to(widget, client_id)
        assert refused["type"] == "error" and refused["code"] == "bad_frame", (wrong, refused)
    await widget.socket.send(json.dumps({"type": "message", "client_id": ["list"], "text": "hi"}))
    assert (await widget.wait_for(lambda f: f["type"] == "error"))["code"] == "bad_client_id"
    await accepted_and_answered(widget, "still here after all that?")
    assert rasa_texts(stand_in, widget.conversation_id) == ["still here after all that?"]
    await widget.close()
    # A binary hello is no hello: the polite refusal, no traceback.
    frames, code = [], None
    async with websockets.connect(f"{handoff.ws_url}/ws/chat?token=") as socket:
        await socket.send(b"\xff\xfe")
        try:
            while True:
                frames.append(json.loads(await socket.recv()))
        except websockets.ConnectionClosed as closed:
            code = closed.rcvd.code
    assert code == 4400 and frames[0]["code"] == "hello_expected"
    assert_no_error_logged(handoff)


@pytest.mark.trust_case(
    area=BAD_INPUT,
    case="A text frame that is not UTF-8 (before and after the hello)",
    expected="closed 1007 (invalid data); no traceback in the log; a new connection works",
)
async def test_invalid_utf8_is_closed_1007_without_a_traceback(handoff, stand_in):
    for say_hello_first in (True, False):
        async with websockets.connect(f"{handoff.ws_url}/ws/chat?token=") as socket:
            if say_hello_first:
                await socket.send(json.dumps({"type": "hello", "conversation_id": None, "last_seq": 0}))
                assert json.loads(await socket.recv())["type"] == "welcome"
            await socket.send(b'{"type": "message", "client_id": "u1", "text": "caf\xe9 \xff"}', text=True)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await socket.recv()
        assert closed.value.rcvd is None or closed.value.rcvd.code == 1007
        assert closed.value.sent is not None and closed.value.sent.code == 1007
    widget = Widget(handoff.ws_url, customer_token(5, "Elena"))
    await widget.connect()
    await accepted_and_answered(widget, "a fresh start")
    await widget.close()
    await asyncio.sleep(0.5)  # the service logs a closed connection after the client sees it
    assert_no_error_logged(handoff)


@pytest.mark.trust_case(
    area=BAD_INPUT,
    case="Console socket: binary frame, a frame nested 1,500 deep, unparseable JSON",
    expected="error `bad_frame`, the console socket stays open (ping answered); no traceback",
)
async def test_the_console_socket_answers_bad_frames_and_stays_open(handoff):
    from tests.handoff.access_support import signed_in

    dana = await signed_in(handoff, "dana")
    await dana.open_socket()
    for raw in (b"\x00binary", NESTED_1500, "{not json", '{"no_type": 1}'):
        await dana.socket.send(raw)
        assert (await dana.wait_for(lambda f: f["type"] == "error"))["code"] == "bad_frame", raw
    await dana.socket.send(json.dumps({"type": "ping"}))
    await dana.wait_for(lambda f: f["type"] == "pong")
    await dana.close()
    assert_no_error_logged(handoff)


@pytest.mark.trust_case(area=BAD_INPUT, case="HTML/script in a chat message (stored, echoed)",
                         expected="stored, sent to the bot and echoed as the same plain text")
async def test_html_and_script_text_is_stored_and_echoed_as_the_same_plain_text(handoff, stand_in):
    widget = Widget(handoff.ws_url, customer_token(6, "Farid"))
    await widget.connect()
    html = "<script>alert('x')</script> <img src=x onerror=alert(1)> &amp; \"quoted\" <b>bold</b>"
    client_id = await widget.send(html)
    ack = await reply_to(widget, client_id)
    assert ack["type"] == "ack"
    echoed = await widget.wait_for(lambda f: f["type"] == "message" and f.get("client_id") == client_id)
    assert echoed["text"] == html
    await widget.wait_for(lambda f: f["type"] == "message" and f["text"] == "Echo: " + html)
    assert rasa_texts(stand_in, widget.conversation_id) == [html]
    stored = [m for m in await transcript(handoff, widget.conversation_id) if m["sender"] == "customer"]
    assert [m["text"] for m in stored] == [html]
    await widget.close()


@pytest.mark.trust_case(
    area=BAD_INPUT,
    case="Flood: 30 messages at once from one customer",
    expected="first 10 accepted, the rest `rate_limited` with a polite message and never stored; another "
    "customer is answered meanwhile; usable again after a pause",
)
async def test_a_flood_is_rate_limited_without_hurting_other_customers(handoff, stand_in):
    flooder = Widget(handoff.ws_url, customer_token(7, "Grace"))
    bystander = Widget(handoff.ws_url, customer_token(1, "Alice"))
    await flooder.connect()
    await bystander.connect()

    client_ids = [uuid.uuid4().hex for _ in range(30)]
    for number, client_id in enumerate(client_ids):
        await flooder.send(f"flood {number}", client_id=client_id)
    # Another customer's conversation is answered while the flood is being handled.
    normal = await bystander.send("my balance please")
    assert (await reply_to(bystander, normal))["type"] == "ack"
    await bystander.wait_for(lambda f: f["type"] == "message" and f["text"] == "Echo: my balance please")

    replies = {client_id: await reply_to(flooder, client_id) for client_id in client_ids}
    accepted = [n for n, c in enumerate(client_ids) if replies[c]["type"] == "ack"]
    limited = [n for n, c in enumerate(client_ids) if replies[c]["type"] == "error"]
    assert accepted == list(range(10)), "the first ten in the window are accepted"
    assert limited == list(range(10, 30))
    for number in limited:
        error = replies[client_ids[number]]
        assert error["code"] == "rate_limited"
        assert error["message"] == "You're sending messages very fast; please wait a moment."
    await flooder.wait_for(lambda f: f["type"] == "message" and f["text"] == "Echo: flood 9", timeout=20)

    # After a pause the same connection is usable again.
    await asyncio.sleep(2.2)
    after = await flooder.send("sorry, calm now")
    assert (await reply_to(flooder, after))["type"] == "ack"
    await flooder.wait_for(lambda f: f["type"] == "message" and f["text"] == "Echo: sorry, calm now")

    accepted = [*(f"flood {n}" for n in range(10)), "sorry, calm now"]
    assert rasa_texts(stand_in, flooder.conversation_id) == accepted
    assert await customer_texts(handoff, flooder.conversation_id) == accepted
    assert rasa_texts(stand_in, bystander.conversation_id) == ["my balance please"]
    await flooder.close()
    await bystander.close()


@pytest.mark.trust_case(area=BAD_INPUT, case="JSON (protocol frames, identity fields) typed as chat text",
                         expected="stored and sent to the bot as plain text; identity and state unchanged")
async def test_json_typed_as_text_is_only_text(handoff, stand_in):
    widget = Widget(handoff.ws_url, customer_token(1, "Alice"))
    await widget.connect()
    impostor = Widget(handoff.ws_url, customer_token(2, "Ben"))
    await impostor.connect()
    texts = [
        json.dumps({"type": "hello", "conversation_id": impostor.conversation_id, "last_seq": 0}),
        # An id of the same kind that starts like an IBAN ("eb34..."), as about one in 18 random ids does.
        json.dumps({"type": "hello", "conversation_id": "eb345e43716240b997c7b7a5c00c2174", "last_seq": 0}),
        json.dumps({"customer_id": 2, "payload": '/rate_chat{"csat_score":"1"}', "state": "resolved"}),
        '{"unterminated": [1, 2',
    ]
    for text in texts:
        await accepted_and_answered(widget, text)
    sent = [m for m in stand_in.rasa_messages if m["sender"] == widget.conversation_id]
    assert [m["message"] for m in sent] == texts
    assert {m["metadata"]["customer_id"] for m in sent} == {1}, (
        "identity comes from the token, never the text"
    )
    assert await customer_texts(handoff, widget.conversation_id) == texts
    # Nothing reached the other customer's conversation.
    assert [m for m in await transcript(handoff, impostor.conversation_id) if m["sender"] == "customer"] == []
    assert not [f for f in widget.frames if f["type"] == "status"], "the conversation never left the bot"
    await widget.close()
    await impostor.close()


@pytest.mark.trust_case(area=BAD_INPUT, case="SQL-looking chat text (DROP TABLE, OR 1=1, comment tricks)",
                         expected="stored and answered as plain text; every table still works afterwards")
async def test_sql_looking_text_is_stored_verbatim_and_breaks_nothing(handoff, stand_in):
    widget = Widget(handoff.ws_url, customer_token(3, "Carla"))
    await widget.connect()
    texts = [
        "'; DROP TABLE messages; --",
        "1' OR '1'='1",
        "Robert'); DELETE FROM staff_users WHERE ('a'='a",
        "ACC-100003\" UNION SELECT password_hash FROM staff_users /*",
    ]
    for text in texts:
        await accepted_and_answered(widget, text)
    assert rasa_texts(stand_in, widget.conversation_id) == texts
    assert await customer_texts(handoff, widget.conversation_id) == texts
    # The tables those texts name are intact: staff can sign in, a new conversation stores messages.
    async with httpx.AsyncClient(base_url=handoff.url) as client:
        assert (await login(client, "dana", "dana-demo-pass")).status_code == 200
    other = Widget(handoff.ws_url, customer_token(4, "David"))
    await other.connect()
    await accepted_and_answered(other, "still fine?")
    await widget.close()
    await other.close()


SCRIPT_TEXT = ("<script>window.__pwned = 'script'</script><img src=x onerror=\"window.__pwned = 'img'\">"
               "<b>bold</b> &lt;escaped&gt;")


@pytest.mark.browser
@pytest.mark.trust_case(
    area=BAD_INPUT,
    case="HTML/script in a chat message, in the browser (widget and console)",
    expected="shown as the same literal text in the widget and the specialist console; no element created, "
    "no script run",
)
def test_html_and_script_are_shown_as_text_in_the_widget_and_the_console(handoff):
    with chromium() as browser:
        context = browser.new_context()
        page = context.new_page()
        page.goto(handoff.url + "/")
        pick_demo_customer(page, 4, "David")
        page.click("[data-testid=chat-launcher]")
        page.wait_for_selector("[data-testid=chat-connection][data-state=connected]")
        page.fill("[data-testid=chat-input]", SCRIPT_TEXT)
        page.click("[data-testid=chat-send]")
        page.wait_for_selector("[data-testid=chat-message][data-sender=customer][data-status=sent]")
        page.wait_for_selector("[data-testid=chat-message][data-sender=bot] >> text=Echo:")
        text = "[data-testid=chat-message-text]"  # the message itself, without its speaker label and time
        shown = page.locator(f"[data-testid=chat-message][data-sender=customer] {text}").all_text_contents()
        assert SCRIPT_TEXT in shown
        answer = page.locator(f"[data-testid=chat-message][data-sender=bot] {text}").last.text_content()
        assert answer == "Echo: " + SCRIPT_TEXT
        panel = "[data-testid=chat-panel]"
        assert page.locator(f"{panel} img, {panel} b, {panel} script").count() == 0
        page.fill("[data-testid=chat-input]", "I want to dispute this")
        page.click("[data-testid=chat-send]")
        page.wait_for_selector("[data-testid=chat-status][data-state=queued]")

        console = context.new_page()
        sign_in_to_console(console, handoff.url, "dana", "dana-demo-pass")
        console.wait_for_selector("[data-testid=queue-item][data-reason=dispute]")
        console.click("[data-testid=queue-claim]")
        console.wait_for_selector("[data-testid=conversation-view][data-state=assigned]")
        line = console.wait_for_selector(
            "[data-testid=transcript-message][data-sender=customer] >> text=<script>"
        )
        assert SCRIPT_TEXT in line.text_content()
        transcript_view = "[data-testid=conversation-transcript]"
        markup = f"{transcript_view} img, {transcript_view} b, {transcript_view} script"
        assert console.locator(markup).count() == 0
        assert page.evaluate("window.__pwned") is None
        assert console.evaluate("window.__pwned") is None


# -- the pure pieces ----------------------------------------------------------------------------------

def test_clean_text_keeps_newlines_tabs_and_format_characters():
    assert clean_text("a\x00b\x1fc\x7fd\u0085e") == "abcde"
    assert clean_text("one\r\ntwo\rthree\tfour") == "one\ntwo\nthree\tfour"
    # \u202b...\u202c embeds right-to-left text: the Arabic word for "hello"
    joined = "👩\u200d💻 \u202b\u0645\u0631\u062d\u0628\u0627\u202c \ufeff"
    assert clean_text(joined) == joined
    assert clean_text("bad \ud800 surrogate") == "bad  surrogate"


def test_flood_guard_window_slides():
    now = [0.0]
    guard = FloodGuard(max_messages=3, per_seconds=2.0, clock=lambda: now[0])
    assert [guard.allow() for _ in range(4)] == [True, True, True, False]
    now[0] = 1.9
    assert guard.allow() is False
    now[0] = 2.0  # the first three left the window
    assert [guard.allow() for _ in range(4)] == [True, True, True, False]
