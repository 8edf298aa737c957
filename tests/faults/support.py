"""A customer's widget and a specialist's console on the real stack, for the fault and redaction tests."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections import Counter
from typing import Any

import httpx
import websockets

from tests.handoff.conftest import Widget
from tests.support.chat import customer_token
from tests.support.stack import Stack

# What a customer must never see: a Python traceback, an exception's repr, an HTTP status dump.
INTERNALS = re.compile(
    r"Traceback|Exception|Error:|\bNone\b|File \"|status code|\b5\d\d\b|sqlalchemy|psycopg|httpx",
    re.IGNORECASE,
)


def widget_for(stack: Stack, customer_id: int | None = None, name: str = "Demo", **resume: Any) -> Widget:
    token = (customer_token(secret=stack.env["CUSTOMER_JWT_SECRET"], customer_id=customer_id, name=name)
             if customer_id is not None else "")
    return Widget(stack.handoff_url.replace("http://", "ws://"), token, **resume)


async def answer_to(widget: Widget, text: str, *, client_id: str | None = None, payload: str | None = None,
                    quiet: float = 1.5, timeout: float = 60) -> list[dict]:
    """Send one customer message; return what came back for it: the ack or error frame about it first, then
    every frame after it, once a reply (a bot/agent/system message or an error) has come and the line has been
    quiet for `quiet` seconds."""
    client_id = await widget.send(text, client_id=client_id, payload=payload)
    first = await widget.wait_for(lambda f: f["type"] in ("ack", "error") and f.get("client_id") == client_id,
                                  timeout=timeout)
    reply, answered = [first], first["type"] == "error"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        wait = quiet if answered else deadline - loop.time()
        if wait <= 0:
            raise AssertionError(f"no reply to {text!r} in {timeout}s; got {reply}")
        try:
            frame = json.loads(await asyncio.wait_for(widget.socket.recv(), timeout=wait))
        except (TimeoutError, websockets.ConnectionClosed):
            if answered:
                return reply
            raise
        widget._record(frame)
        reply.append(frame)
        answered = answered or (frame["type"] == "message" and frame["sender"] != "customer") or (
            frame["type"] == "error")


async def acked(widget: Widget, text: str, *, client_id: str | None = None) -> dict:
    """Send one customer message while a person (not the bot) is in charge: only its ack comes back."""
    client_id = await widget.send(text, client_id=client_id)
    ack = await widget.wait_for(lambda f: f["type"] in ("ack", "error") and f.get("client_id") == client_id)
    assert ack["type"] == "ack", ack
    return ack


def said(frames: list[dict], *senders: str) -> str:
    """The text of the message frames from these senders (default bot and system), joined."""
    senders = senders or ("bot", "system")
    return " ".join(f.get("text") or "" for f in frames if f["type"] == "message" and f["sender"] in senders)


def assert_polite(frames: list[dict]) -> str:
    """Something was said (never silence) and it shows no internals; returns what was said."""
    text = said(frames) + " ".join(f.get("message", "") for f in frames if f["type"] == "error")
    assert text.strip(), f"the customer was told nothing: {frames}"
    assert not INTERNALS.search(text), f"internals shown to the customer: {text!r}"
    return text


class Specialist:
    """A signed-in member of staff using the console's HTTP API."""

    def __init__(self, stack: Stack, username: str = "dana", password: str = "dana-demo-pass"):
        self.http = httpx.AsyncClient(base_url=stack.handoff_url, timeout=30)
        self.username, self.password = username, password

    async def __aenter__(self) -> Specialist:
        response = await self.http.post("/api/console/login",
                                        json={"username": self.username, "password": self.password})
        response.raise_for_status()
        body = response.json()
        self.http.headers["Authorization"] = f"Bearer {body['token']}"
        if body.get("csrf_token"):
            self.http.headers["X-CSRF-Token"] = body["csrf_token"]
        return self

    async def __aexit__(self, *_exc) -> None:
        await self.http.aclose()

    async def get(self, path: str) -> Any:
        response = await self.http.get(path)
        response.raise_for_status()
        return response.json()

    async def post(self, path: str, body: dict | None = None) -> httpx.Response:
        return await self.http.post(path, json=body or {})

    async def conversation(self, conversation_id: str) -> dict:
        return await self.get(f"/api/console/conversations/{conversation_id}")

    async def queue(self) -> list[dict]:
        return (await self.get("/api/console/queue"))["entries"]


def assert_nothing_lost_or_duplicated(messages: list[dict], client_ids: list[str]) -> None:
    """Sequence numbers gap-free; each customer message stored exactly once."""
    seqs = [m["seq"] for m in messages]
    assert seqs == list(range(1, len(seqs) + 1)), f"sequence numbers must be gap-free and unique: {seqs}"
    stored = Counter(m.get("client_id") for m in messages if m["sender"] == "customer")
    assert {client_id: stored[client_id] for client_id in client_ids} == dict.fromkeys(client_ids, 1), stored


def new_client_id() -> str:
    return uuid.uuid4().hex
