"""Fixtures for the handoff tests: real uvicorn processes, real SQLite/PostgreSQL, real WebSockets.

Rasa and the backend are not under test here, so a small stand-in HTTP server plays both (it escalates
through the real /api/escalations like the action server does). The lead's tests/e2e run the real stack.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.stack import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
API_TOKEN = "test-handoff-token"
JWT_SECRET = "test-customer-jwt-secret-at-least-32-bytes"
RASA_CHANNEL_TOKEN = "test-rasa-channel-token"
IDENTITY_SECRET = "test-identity-assertion-secret-of-32-bytes"


# -- stand-in for Rasa (REST channel + HTTP API) and the backend --------------------------------

MENU_BUTTONS = [{"title": "Activation fee", "payload": '/explain_charge{"line_item_id": "42"}'},
                {"title": "Something else", "payload": "/what_can_you_do"}]


# The backend's billing-activity report (docs/contracts.md, "Supervisor reports") for the supervisor page.
BILLING_ACTIVITY = {
    "start": "2026-01-01T00:00:00+00:00", "end": "2026-01-02T00:00:00+00:00",
    "credits": {"count": 2, "by_reason": [
        {"reason": "dispute", "currency": "USD", "count": 1, "amount": "49.99"},
        {"reason": "goodwill", "currency": "USD", "count": 1, "amount": "1050.00"}], "by_issuer": []},
    "disputes": {"opened": 1, "by_outcome": [{"outcome": "accepted", "currency": "USD", "count": 1,
                                              "amount": "49.99"}], "by_resolver": []},
    "payments": {"by_source": [{"source": "specialist", "status": "posted", "currency": "USD", "count": 1,
                                "amount": "85.00"}], "by_actor": []},
}

_LIMITS = {"max_credit": "100.00", "max_credit_12_months": "150.00", "min_confidence": 0.9}
_SYSTEM_CREDIT = {"credit_id": 1, "customer_id": 4, "invoice_number": "INV-2026-000004", "dispute_id": 1,
                  "amount": "49.00", "currency": "USD", "reason": "account_check: duplicate_charge",
                  "issued_by": "system:account-check", "created_at": "2026-01-01T00:00:00Z"}
# What the stand-in backend answers, by method and path suffix.
FIXED_BACKEND_ANSWERS = {
    ("GET", "/reports/billing-activity"): BILLING_ACTIVITY,
    ("GET", "/reminders"): [],  # payment reminders (issue 19): none unseen
    ("GET", "/system-credits"): {"credits": []},  # issue 18: none in the range
    ("GET", "/audit-log"): [],  # the billing system's audit log (the supervisor's export): empty
    ("GET", "/account-check/limits"): {  # issue 18: the settings' defaults
        **_LIMITS, "source": "settings", "updated_by": None, "updated_at": None, "defaults": _LIMITS},
    ("POST", "/account-check/limits"): {**_LIMITS, "source": "override", "updated_by": "supervisor:sam",
                                        "updated_at": "2026-01-01T00:00:00Z", "defaults": _LIMITS},
    ("POST", "/reverse"): {**_SYSTEM_CREDIT, "reversal": {  # a system credit reversed (issue 18)
        "credit_id": 2, "amount": "-49.00", "reversed_by": "supervisor:sam", "reason": "test",
        "created_at": "2026-01-02T00:00:00Z"}},
}


class StandIn:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.handoff_url = ""
        self.rasa_down = False
        self.slow_seconds = 0.0
        # > 0: like Rasa, one conversation's turns run one at a time, each this long
        self.serial_seconds = 0.0
        self._conversation_locks: dict[str, asyncio.Lock] = {}
        self.rasa_messages: list[dict] = []
        self.tracker_events: list[tuple[str, list]] = []
        self.triggered: list[tuple[str, dict]] = []
        self.backend_calls: list[dict] = []
        self.app = Starlette(routes=[
            Route("/webhooks/handoff/webhook", self.webhook, methods=["POST"]),
            Route("/conversations/{cid}/tracker/events", self.events, methods=["POST"]),
            Route("/conversations/{cid}/trigger_intent", self.trigger, methods=["POST"]),
            Route("/api/v1/{path:path}", self.backend, methods=["GET", "POST"]),
        ])

    async def webhook(self, request: Request):
        # as Rasa's handoff channel does
        if request.headers.get("authorization") != f"Bearer {RASA_CHANNEL_TOKEN}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        body = await request.json()
        if self.rasa_down:
            return JSONResponse({"error": "down"}, status_code=503)
        self.rasa_messages.append(body)
        text, cid = body["message"], body["sender"]
        if self.serial_seconds:
            async with self._conversation_locks.setdefault(cid, asyncio.Lock()):
                await asyncio.sleep(self.serial_seconds)
        if text == "slow":
            await asyncio.sleep(self.slow_seconds)
        if "dispute" in text or "human" in text:
            escalation = {
                "conversation_id": cid, "reason": "dispute" if "dispute" in text else "request_human",
                "customer_id": body["metadata"]["customer_id"], "summary": "Customer disputes a fee.",
                "slots": {"charge_name": "one_time"},
            }
            if "dispute" in text:
                escalation.update(dispute_id=77, line_item={"id": 5, "description": "Installation fee",
                                                            "amount": "49.99", "charge_type": "one_time"},
                                  explanation={"summary": "Billed twice."})
            async with httpx.AsyncClient() as client:
                answer = await client.post(f"{self.handoff_url}/api/escalations", json=escalation,
                                           headers={"Authorization": f"Bearer {API_TOKEN}"})
            state = answer.json().get("state")
            passed = f"I've passed this to a billing specialist ({state})."
            return JSONResponse([{"recipient_id": cid, "text": passed}])
        if text.startswith("/rate_chat"):
            return JSONResponse([{"recipient_id": cid, "text": "Thanks for your rating!"}])
        if text == "update my card":  # a link button, like the bot's secure payment page, and a hostile one
            return JSONResponse([{"recipient_id": cid, "text": "Use the secure page:", "buttons": [
                {"title": "Open the secure payment page", "url": "http://127.0.0.1:9/pay/abc"},
                {"title": "Not a link", "url": "javascript:alert(1)"},
            ]}])
        # a question with buttons over two messages, like the bot's charge picker
        if text == "show me the menu":
            return JSONResponse([{"recipient_id": cid, "text": "Which one?", "buttons": MENU_BUTTONS[:1]},
                                 {"recipient_id": cid, "text": "Or:", "buttons": MENU_BUTTONS[1:]}])
        return JSONResponse([{"recipient_id": cid, "text": f"Echo: {text}"}])

    async def events(self, request: Request):
        assert request.query_params.get("token") == "test-rasa-token"
        self.tracker_events.append((request.path_params["cid"], await request.json()))
        return JSONResponse({"events": []})

    async def trigger(self, request: Request):
        assert request.query_params.get("token") == "test-rasa-token"
        body = await request.json()
        self.triggered.append((request.path_params["cid"], body))
        if self.rasa_down:
            return JSONResponse({"error": "down"}, status_code=503)
        if body["name"] == "EXTERNAL_payment_page_completed":  # as action_payment_page_completed answers
            return JSONResponse({"tracker": {}, "messages": [{
                "recipient_id": request.path_params["cid"], "text": "Would you like autopay on?",
                "buttons": [{"title": "Turn on autopay", "payload": "/change_autopay"}],
            }]})
        buttons = [{"title": str(n), "payload": f'/rate_chat{{"csat_score":"{n}"}}'} for n in range(1, 6)]
        return JSONResponse({"tracker": {}, "messages": [{
            "recipient_id": request.path_params["cid"], "text": "Welcome back! How would you rate this chat?",
            "buttons": buttons,
        }]})

    async def backend(self, request: Request):
        call = {"method": request.method, "path": request.url.path, "actor": request.headers.get("x-actor"),
                "idempotency_key": request.headers.get("idempotency-key"),
                "authorization": request.headers.get("authorization")}
        if request.method == "POST":
            call["body"] = await request.json()
        self.backend_calls.append(call)
        path = request.url.path
        for (method, suffix), answer in FIXED_BACKEND_ANSWERS.items():
            if path.endswith(suffix) and request.method == method:
                return JSONResponse(answer)
        if path.endswith("/mail/messages"):  # the mail API (issue 19): queued, as the backend answers
            cid = call["body"].get("thread", {}).get("conversation_id", "none")
            number = len(self.backend_calls)
            return JSONResponse({"id": f"mail_{number:024x}", "status": "queued",
                                 "message_id": f"<conv-{cid}-{number:032x}@reply.example.test>"},
                                status_code=202)
        if path.endswith("/settle"):
            body = call["body"]
            dispute = {
                "id": 77, "status": body["decision"], "amount": "49.99", "resolution_note": body["note"],
            }
            if body["decision"] == "accepted":
                dispute["credit"] = {"id": 1, "amount": body["credit_amount"]}
            return JSONResponse(dispute)
        if path.endswith("/balance"):
            return JSONResponse({
                "account_number": "ACC-100004", "currency": "USD", "total_due": "149.97", "past_due": "0.00",
                "next_due_date": "2025-04-01", "next_due_amount": "149.97", "last_payment": None,
            })
        invoice = {"number": "INV-2025-000004", "total": "149.97", "status": "open", "currency": "USD"}
        if path.endswith("/invoices"):
            return JSONResponse([invoice])
        if "/invoices/" in path:
            return JSONResponse({**invoice, "line_items": [
                {"id": 5, "description": "Installation fee", "amount": "49.99", "charge_type": "one_time"},
            ]})
        if path.endswith("/payments") or path.endswith("/disputes"):
            return JSONResponse([])
        return JSONResponse({
            "customer_id": 4, "first_name": "David", "last_name": "Kim", "email": "d@example.com",
            "account": {"account_number": "ACC-100004", "status": "active", "currency": "USD",
                        "autopay": False, "payment_method_masked": "**** 4242"},
        })


@pytest.fixture(scope="session")
def stand_in():
    stand_in = StandIn()
    server = uvicorn.Server(
        uvicorn.Config(stand_in.app, host="127.0.0.1", port=stand_in.port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield stand_in
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _fresh_stand_in_records(request):
    """The stand-in server lives for the session; what it recorded must not leak from one test into the next
    (a settle call of an earlier test made a later test see two idempotency keys)."""
    if "stand_in" in request.fixturenames:
        recorder = request.getfixturevalue("stand_in")
        recorder.rasa_down, recorder.slow_seconds, recorder.serial_seconds = False, 0.0, 0.0
        for records in (
            recorder.rasa_messages, recorder.tracker_events, recorder.triggered, recorder.backend_calls,
        ):
            records.clear()
    yield


# -- the handoff service as a real uvicorn process -----------------------------------------------

class HandoffProcess:
    def __init__(self, *, database_url: str, stand_in: StandIn, workdir: Path, extra_env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.process: subprocess.Popen | None = None
        self.env = {
            **os.environ, "APP_ENV": "development", "HANDOFF_DATABASE_URL": database_url,
            "HANDOFF_API_TOKEN": API_TOKEN, "CUSTOMER_JWT_SECRET": JWT_SECRET, "RASA_URL": stand_in.url,
            "RASA_AUTH_TOKEN": "test-rasa-token", "RASA_CHANNEL_TOKEN": RASA_CHANNEL_TOKEN,
            "IDENTITY_ASSERTION_SECRET": IDENTITY_SECRET, "BACKEND_URL": stand_in.url,
            "BACKEND_API_TOKEN": "test-backend-token",
            "HANDOFF_TICKET_WHEN_NOBODY_ONLINE": "false", "HANDOFF_RASA_TIMEOUT_SECONDS": "10",
            **(extra_env or {}),
        }

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [PYTHON, "-m", "handoff.cli", *args], cwd=REPO_ROOT, env=self.env, capture_output=True, text=True,
            check=True,
        )
        return done.stdout

    def start(self) -> HandoffProcess:
        log = open(self.workdir / f"handoff-{self.port}.log", "ab")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "uvicorn", "handoff.main:app", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = (self.workdir / f"handoff-{self.port}.log").read_text()
                raise RuntimeError("handoff exited: " + output[-3000:])
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("handoff did not become healthy")

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, like a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="session")
def seeded_sqlite_template(stand_in, tmp_path_factory) -> Path:
    """A SQLite database migrated and seeded once per run by the real CLI (`handoff.cli migrate` and
    `seed-demo`, as `make seed` does); each new SQLite database of `make_handoff` is a copy of it, which saves
    two Python process starts per test. PostgreSQL databases and existing files still run both commands."""
    workdir = tmp_path_factory.mktemp("handoff-template")
    template = HandoffProcess(database_url=f"sqlite:///{workdir / 'template.db'}", stand_in=stand_in,
                              workdir=workdir)
    template.cli("migrate")
    template.cli("seed-demo")
    return workdir / "template.db"


def _sqlite_path(database_url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(database_url.removeprefix(prefix)) if database_url.startswith(prefix) else None


@pytest.fixture
def make_handoff(stand_in, tmp_path, seeded_sqlite_template):
    started: list[HandoffProcess] = []

    def make(*, database_url: str | None = None, extra_env: dict | None = None) -> HandoffProcess:
        url = database_url or f"sqlite:///{tmp_path / 'handoff.db'}"
        handoff = HandoffProcess(database_url=url, stand_in=stand_in, workdir=tmp_path, extra_env=extra_env)
        sqlite_file = _sqlite_path(url)
        if sqlite_file is not None and not sqlite_file.exists():
            sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(seeded_sqlite_template, sqlite_file)
        else:
            handoff.cli("migrate")
            handoff.cli("seed-demo")
        handoff.start()
        stand_in.handoff_url = handoff.url
        started.append(handoff)
        return handoff

    yield make
    for handoff in started:
        handoff.stop()


@pytest.fixture
def handoff(make_handoff):
    return make_handoff()


# -- PostgreSQL -----------------------------------------------------------------------------------

def _postgres_admin_url() -> str:
    import psycopg

    for user in ("postgres", "root"):
        try:
            with psycopg.connect(f"host=127.0.0.1 port=5432 user={user} dbname=test", connect_timeout=3):
                return user
        except psycopg.OperationalError:
            continue
    pytest.skip("PostgreSQL on 127.0.0.1:5432 is not reachable")


@pytest.fixture
def postgres_url():
    """A fresh `handoff_test_<pid>` database (pytest-xdist workers run side by side), dropped afterwards."""
    import psycopg

    user = _postgres_admin_url()
    name = f"handoff_test_{os.getpid()}"
    with psycopg.connect(f"host=127.0.0.1 port=5432 user={user} dbname=test", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://{user}@127.0.0.1:5432/{name}"
    with psycopg.connect(f"host=127.0.0.1 port=5432 user={user} dbname=test", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- clients ----------------------------------------------------------------------------------------

def customer_token(customer_id: int, name: str) -> str:
    from handoff.conversations.customer_token import mint_customer_token

    return mint_customer_token(customer_id=customer_id, first_name=name, secret=JWT_SECRET)


def rasa_texts(stand_in, conversation_id: str) -> list[str]:
    """What the stand-in Rasa was sent for one conversation, in order."""
    return [m["message"] for m in stand_in.rasa_messages if m["sender"] == conversation_id]


async def transcript(handoff, conversation_id: str) -> list[dict]:
    """The stored conversation, as a specialist (sam) reads it in the console."""
    async with httpx.AsyncClient(base_url=handoff.url, timeout=20) as client:
        login = await client.post("/api/console/login", json={"username": "sam", "password": "sam-demo-pass"})
        login.raise_for_status()
        answer = await client.get(f"/api/console/conversations/{conversation_id}",
                                  headers={"Authorization": f"Bearer {login.json()['token']}"})
        answer.raise_for_status()
        return answer.json()["messages"]


async def customer_texts(handoff, conversation_id: str) -> list[str]:
    """The customer's messages of one conversation as stored, in order."""
    return [m["text"] for m in await transcript(handoff, conversation_id) if m["sender"] == "customer"]


class FrameReader:
    """Waits for a frame matching a predicate on `self.socket`, remembering every frame it reads."""

    frames: list[dict]
    socket: Any
    what = "frames"

    def _record(self, frame: dict) -> None:
        raise NotImplementedError

    async def wait_for(self, predicate, timeout: float = 10.0) -> dict:
        for frame in self.frames:
            if predicate(frame) and not frame.get("_consumed"):
                frame["_consumed"] = True
                return frame
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"timed out; {self.what} so far: {self.frames[-10:]}")
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), timeout=remaining))
            self._record(frame)
            if predicate(frame):
                frame["_consumed"] = True
                return frame


class Widget(FrameReader):
    """A customer's widget speaking the protocol over a real WebSocket."""

    def __init__(self, ws_url: str, token: str = "", conversation_id: str | None = None, last_seq: int = 0):
        self.url = f"{ws_url}/ws/chat?token={token}"
        self.conversation_id = conversation_id
        self.last_seq = last_seq
        self.frames: list[dict] = []
        self.messages: dict[int, dict] = {}
        self.socket = None

    async def connect(self) -> dict:
        # Unbounded receive queue, like a browser: a tab the test never reads from (one of many tabs) would
        # otherwise stop reading at 16 frames and miss the server's close frame until the 10 s close timeout.
        self.socket = await websockets.connect(self.url, max_queue=None)
        await self.socket.send(json.dumps({"type": "hello", "conversation_id": self.conversation_id,
                                           "last_seq": self.last_seq}))
        welcome = await self.wait_for(lambda f: f["type"] == "welcome")
        self.conversation_id = welcome["conversation_id"]
        return welcome

    async def send(self, text: str, *, client_id: str | None = None, payload: str | None = None) -> str:
        client_id = client_id or uuid.uuid4().hex
        frame = {"type": "message", "client_id": client_id, "text": text}
        if payload:
            frame["payload"] = payload
        await self.socket.send(json.dumps(frame))
        return client_id

    def _record(self, frame: dict) -> None:
        self.frames.append(frame)
        if frame["type"] == "message":
            assert frame["seq"] not in self.messages, f"duplicate delivery of seq {frame['seq']}"
            self.messages[frame["seq"]] = frame
            self.last_seq = max(self.last_seq, frame["seq"])

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()


class Console(FrameReader):
    """A logged-in specialist: HTTP API plus the console WebSocket."""

    what = "console frames"

    def __init__(self, handoff: HandoffProcess, username: str, password: str):
        self.handoff = handoff
        self.http = httpx.AsyncClient(base_url=handoff.url, timeout=20)
        self.username, self.password = username, password
        self.token = ""
        self.socket = None
        self.frames: list[dict] = []

    async def login(self) -> dict:
        response = await self.http.post("/api/console/login", json={"username": self.username,
                                                                    "password": self.password})
        response.raise_for_status()
        self.token = response.json()["token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        return response.json()["user"]

    async def open_socket(self) -> dict:
        self.socket = await websockets.connect(f"{self.handoff.ws_url}/ws/console?token={self.token}",
                                               max_queue=None)  # as Widget.connect
        return await self.wait_for(lambda f: f["type"] == "hello")

    async def watch(self, conversation_id: str) -> None:
        await self.socket.send(json.dumps({"type": "watch", "conversation_id": conversation_id}))

    def _record(self, frame: dict) -> None:
        self.frames.append(frame)

    async def post(self, path: str, body: dict | None = None) -> httpx.Response:
        return await self.http.post(path, json=body or {})

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        await self.http.aclose()
