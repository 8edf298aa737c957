"""The handoff service's cost per relayed customer message, counted in process (issue 20).

    .venv/bin/python bench/handoff_per_message.py [--messages 200] [--database sqlite|postgres|both]
        [--loop asyncio|uvloop] [--json stdlib|orjson] [--out bench/results/handoff_per_message.md --label x]

Drives the real handoff app (handoff.main.create_app) through its widget WebSocket (/ws/chat) as an ASGI app
in this process: a signed-in customer says hello, then sends N messages one at a time, each answered by
"Rasa" before the next. Rasa and the backend are the real HTTP clients (handoff/clients) on an httpx mock
transport that answers at once, so their request building and JSON parsing are counted, not the network. The
database is a real migrated SQLite file (or a fresh PostgreSQL database on 127.0.0.1:5432), the pub/sub the
real in-memory one.

Counted per customer message (deterministic, whatever the machine's load): SQL statements (BEGIN/COMMIT
excluded), transactions (BEGIN...COMMIT), pub/sub publishes, HTTP calls to Rasa and to the backend, WebSocket
frames sent to the widget. CPU time (time.process_time of the whole process, all threads) is indicative only:
other processes on the machine move it through caches and frequency.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import types
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy import event

from handoff.clients.backend import BackendClient
from handoff.clients.rasa import RasaClient
from handoff.config import Settings
from handoff.context import Services
from handoff.conversations.customer_token import mint_customer_token
from handoff.db import Database
from handoff.main import create_app
from handoff.migrate import upgrade_database
from handoff.pubsub import InProcessPubSub

JWT_SECRET = "bench-customer-jwt-secret-of-at-least-32-bytes"
TEXTS = ["what's my balance", "why was I charged a late fee?", "can I pay on the 20th", "thanks"]
BOT_REPLY = [{"recipient_id": "x", "text": "Your balance is $42.00.",
              "buttons": [{"title": "Pay now", "payload": "/pay_bill"}]}]
SETTLE_POLL_SECONDS = 0.005


@dataclass
class Counters:
    statements: int = 0
    transactions: int = 0
    commits: int = 0
    publishes: int = 0
    rasa_calls: int = 0
    backend_calls: int = 0
    frames_sent: int = 0
    statement_texts: list[str] = field(default_factory=list)

    def snapshot(self) -> tuple[int, ...]:
        return (self.statements, self.transactions, self.commits, self.publishes, self.rasa_calls,
                self.backend_calls, self.frames_sent)


class CountingPubSub(InProcessPubSub):
    def __init__(self, counters: Counters) -> None:
        super().__init__()
        self.counters = counters

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        self.counters.publishes += 1
        await super().publish(channel, event)


def count_sql(database: Database, counters: Counters) -> None:
    @event.listens_for(database.engine, "before_cursor_execute")
    def _statement(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        head = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if head in {"BEGIN", "COMMIT", "ROLLBACK"}:
            return
        counters.statements += 1
        counters.statement_texts.append(" ".join(statement.split())[:90])

    @event.listens_for(database.engine, "begin")
    def _begin(_conn):  # type: ignore[no-untyped-def]
        counters.transactions += 1

    @event.listens_for(database.engine, "commit")
    def _commit(_conn):  # type: ignore[no-untyped-def]
        counters.commits += 1


def http_clients(settings: Settings, counters: Counters) -> tuple[RasaClient, BackendClient]:
    def rasa_answer(request: httpx.Request) -> httpx.Response:
        counters.rasa_calls += 1
        json.loads(request.content)
        return httpx.Response(200, json=BOT_REPLY)

    def backend_answer(request: httpx.Request) -> httpx.Response:
        counters.backend_calls += 1
        return httpx.Response(200, json={})

    rasa = RasaClient(base_url=settings.rasa_url, auth_token="t", timeout_seconds=5, channel_token="t",
                      identity_secret="bench-identity-assertion-secret-of-32-bytes", identity_seconds=60)
    rasa._http = httpx.AsyncClient(base_url=settings.rasa_url, transport=httpx.MockTransport(rasa_answer))
    backend = BackendClient(base_url=settings.backend_url, api_token="t", timeout_seconds=5)
    backend._http = httpx.AsyncClient(base_url=settings.backend_url,
                                      transport=httpx.MockTransport(backend_answer))
    return rasa, backend


class Widget:
    """The widget's side of /ws/chat, spoken to the ASGI app directly."""

    def __init__(self, app: Any, token: str, counters: Counters) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.counters = counters
        scope = {"type": "websocket", "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "ws",
                 "path": "/ws/chat", "raw_path": b"/ws/chat", "root_path": "",
                 "query_string": f"token={token}".encode(), "headers": [(b"host", b"bench.test")],
                 "client": ("127.0.0.1", 50000), "server": ("bench.test", 80), "subprotocols": [],
                 "state": {}, "extensions": {}}
        self.task = asyncio.create_task(app(scope, self.inbox.get, self._sent))

    async def _sent(self, message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            self.counters.frames_sent += 1
        await self.outbox.put(message)

    async def frame(self) -> dict[str, Any]:
        while True:
            message = await asyncio.wait_for(self.outbox.get(), 30)
            if message["type"] == "websocket.send":
                return json.loads(message["text"] if message.get("text") is not None else message["bytes"])
            if message["type"] == "websocket.close":
                raise RuntimeError(f"socket closed: {message}")

    async def say(self, frame: dict[str, Any]) -> None:
        await self.inbox.put({"type": "websocket.receive", "text": json.dumps(frame)})

    async def hello(self) -> dict[str, Any]:
        await self.inbox.put({"type": "websocket.connect"})
        accepted = await asyncio.wait_for(self.outbox.get(), 30)
        assert accepted["type"] == "websocket.accept", accepted
        await self.say({"type": "hello"})
        welcome = await self.frame()
        assert welcome["type"] == "welcome", welcome
        greeting = await self.frame()
        assert greeting["type"] == "message", greeting
        return welcome

    async def relay(self, index: int) -> None:
        """One customer message: its ack, its echo, and the bot's answer."""
        client_id = f"c-{index}"
        await self.say({"type": "message", "client_id": client_id, "text": TEXTS[index % len(TEXTS)]})
        acked = answered = False
        while not (acked and answered):
            frame = await self.frame()
            if frame["type"] == "ack" and frame["client_id"] == client_id:
                acked = True
            elif frame["type"] == "message" and frame["sender"] == "bot":
                answered = True
            elif frame["type"] == "error":
                raise RuntimeError(f"error frame: {frame}")

    async def close(self) -> None:
        await self.inbox.put({"type": "websocket.disconnect", "code": 1000})
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.task, 10)


async def settle(services: Services, counters: Counters) -> None:
    """Until the turn and its follow-ups (catch-up, publishes) are done: nothing counted for a while."""
    last, quiet = counters.snapshot(), 0
    while quiet < 4:
        await asyncio.sleep(SETTLE_POLL_SECONDS)
        now = counters.snapshot()
        quiet = quiet + 1 if now == last and not services.turns.in_flight else 0
        last = now


@dataclass
class Result:
    database: str
    loop: str
    json_lib: str
    messages: int
    per_message: dict[str, float]
    cpu_ms: float
    statements: list[str]


async def measure(*, database_url: str, database: str, messages: int, json_lib: str, loop: str) -> Result:
    counters = Counters()
    settings = Settings(app_env="development", database_url=database_url, customer_jwt_secret=JWT_SECRET,
                        business_hours="24/7", timezone="UTC", chat_rate_limit_messages=1_000_000,
                        rasa_url="http://rasa.bench", backend_url="http://backend.bench")
    upgrade_database(database_url=settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    count_sql(db, counters)
    rasa, backend = http_clients(settings, counters)
    services = Services(settings=settings, db=db, pubsub=CountingPubSub(counters), rasa=rasa, backend=backend)
    app = create_app(settings)
    app.state.settings, app.state.services = settings, services
    token = mint_customer_token(customer_id=4, first_name="David", secret=JWT_SECRET)
    widget = Widget(app, token, counters)
    try:
        await widget.hello()
        for index in range(3):  # warm-up: caches, pool, compiled statements
            await widget.relay(-1 - index)
            await settle(services, counters)
        before, texts_before = counters.snapshot(), len(counters.statement_texts)
        cpu_seconds = 0.0
        for index in range(messages):
            started = time.process_time()
            await widget.relay(index)
            await settle(services, counters)
            cpu_seconds += time.process_time() - started
        after = counters.snapshot()
    finally:
        await widget.close()
        await services.turns.stop(grace_seconds=1)
        await rasa.aclose()
        await backend.aclose()
        db.dispose()
    names = ["SQL statements", "transactions", "commits", "pub/sub publishes", "HTTP calls to Rasa",
             "HTTP calls to the backend", "frames sent to the widget"]
    per_message = {name: (a - b) / messages for name, a, b in zip(names, after, before, strict=True)}
    one_message = counters.statement_texts[texts_before:texts_before + (len(counters.statement_texts)
                                                                        - texts_before) // messages]
    return Result(database, loop, json_lib, messages, per_message, 1000 * cpu_seconds / messages, one_message)


@contextlib.contextmanager
def sqlite_url() -> Any:
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(dir=base, prefix="handoff-bench-") as directory:
        yield f"sqlite:///{directory}/handoff.db"


@contextlib.contextmanager
def postgres_url() -> Any:
    import psycopg

    from tests.support.replicas import PG_HOST, PG_PORT, postgres_admin_user

    user = postgres_admin_user()
    name = f"handoff_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="test", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="test", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def use_orjson() -> None:
    """The widget socket's frames through orjson instead of the json module (measurement only)."""
    import orjson
    from starlette.websockets import WebSocket

    from handoff.conversations import frames

    async def send_json(self: WebSocket, data: Any, mode: str = "text") -> None:
        await self.send({"type": "websocket.send", "text": orjson.dumps(data).decode()})

    WebSocket.send_json = send_json  # type: ignore[method-assign]
    frames.json = types.SimpleNamespace(loads=orjson.loads)  # type: ignore[assignment]


def run_one(args: argparse.Namespace, database: str) -> Result:
    if args.json == "orjson":
        use_orjson()
    opener = postgres_url if database == "postgres" else sqlite_url

    async def main() -> Result:
        with opener() as url:
            return await measure(database_url=url, database=database, messages=args.messages,
                                 json_lib=args.json, loop=args.loop)

    if args.loop == "uvloop":
        import uvloop

        return uvloop.run(main())
    return asyncio.run(main())


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    load = os.getloadavg()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1]).stdout.strip()
    return (f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, load average "
            f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}, commit {commit}")


def table(results: list[Result], label: str) -> str:
    rows = ["| " + " | ".join(["per customer message", *[f"{label} {r.database} {r.loop} {r.json_lib}"
                                                         for r in results]]) + " |",
            "|---" * (len(results) + 1) + "|"]
    for name in results[0].per_message:
        rows.append(f"| {name} | " + " | ".join(f"{r.per_message[name]:g}" for r in results) + " |")
    cpu = " | ".join(f"{r.cpu_ms:.2f}" for r in results)
    rows.append(f"| CPU ms (process_time, indicative) | {cpu} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--json", choices=["stdlib", "orjson"], default="stdlib")
    parser.add_argument("--label", default="")
    parser.add_argument("--statements", action="store_true", help="print one message's SQL statements")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    if args.child:  # one configuration per process: --json orjson patches modules
        result = run_one(args, databases[0])
        print(json.dumps(result.__dict__))
        return
    results = []
    for database in databases:
        command = [sys.executable, __file__, "--child", "--messages", str(args.messages), "--database",
                   database, "--loop", args.loop, "--json", args.json]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results.append(Result(**json.loads(output.strip().splitlines()[-1])))
    print(f"{args.messages} messages after 3 warm-up ones; {machine()}\n")
    print(table(results, args.label))
    if args.statements:
        for result in results:
            print(f"\n{result.database}, one message's statements:")
            print("\n".join(f"    {text}" for text in result.statements))


if __name__ == "__main__":
    main()
