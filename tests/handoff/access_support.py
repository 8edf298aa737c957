"""Helpers shared by the access and bad-input tests of the handoff service (not a test module)."""

from __future__ import annotations

import json

import httpx
import websockets
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount, WebSocketRoute

from handoff.cli import DEMO_STAFF
from handoff.main import create_app
from tests.handoff.conftest import Console, Widget, customer_token

PASSWORDS = {username: password for username, password, _name, _role in DEMO_STAFF}
ROLE_OF = {username: role for username, _password, _name, role in DEMO_STAFF}
USER_OF = {role: username for username, role in ROLE_OF.items()}


def app_routes() -> list[tuple[str, str]]:
    """Every route of the handoff app as (METHOD | "WS" | "MOUNT", path), read from FastAPI itself."""
    routes = []
    for context in iter_route_contexts(create_app().routes):
        route = context.original_route
        if isinstance(route, Mount):
            routes.append(("MOUNT", route.path))
        elif isinstance(route, WebSocketRoute) or type(route).__name__ == "APIWebSocketRoute":
            routes.append(("WS", context.path))
        else:
            routes += [(method, context.path) for method in sorted(context.methods or ()) if method != "HEAD"]
    return routes


async def signed_in(handoff, username: str) -> Console:
    console = Console(handoff, username, PASSWORDS[username])
    await console.login()
    return console


async def cookie_session(handoff, username: str) -> tuple[httpx.AsyncClient, str]:
    """A browser-like client: the session lives only in the cookie jar; returns it and the CSRF token."""
    client = httpx.AsyncClient(base_url=handoff.url, timeout=20)
    answer = await client.post(
        "/api/console/login", json={"username": username, "password": PASSWORDS[username]}
    )
    answer.raise_for_status()
    assert "handoff_session" in client.cookies
    return client, answer.json()["csrf_token"]


async def queued_chat(handoff, text: str = "I want to dispute the installation fee") -> Widget:
    """David (customer 4) asks for a dispute; the stand-in Rasa escalates it with dispute 77 ($49.99)."""
    widget = Widget(handoff.ws_url, customer_token(4, "David"))
    await widget.connect()
    await widget.send(text)
    await widget.wait_for(lambda f: f["type"] == "status" and f["state"] == "queued")
    return widget


async def claimed_dispute(handoff) -> tuple[Widget, Console]:
    widget = await queued_chat(handoff)
    dana = await signed_in(handoff, "dana")
    claimed = await dana.post(f"/api/console/conversations/{widget.conversation_id}/claim")
    assert claimed.status_code == 200, claimed.text
    return widget, dana


async def refused_socket(url: str, **connect_args) -> tuple[list[dict], int, str]:
    """Open a WebSocket the service is expected to close: the frames it sent, the close code and reason."""
    frames = []
    async with websockets.connect(url, **connect_args) as socket:
        try:
            while True:
                frames.append(json.loads(await socket.recv()))
        except websockets.ConnectionClosed as closed:
            return frames, closed.rcvd.code, closed.rcvd.reason


async def transcript_texts(handoff, conversation_id: str) -> list[str]:
    """Every stored message text of a conversation, read by the supervisor through the console API."""
    sam = await signed_in(handoff, "sam")
    try:
        answer = await sam.http.get(f"/api/console/conversations/{conversation_id}")
        answer.raise_for_status()
        return [m["text"] for m in answer.json()["messages"]]
    finally:
        await sam.close()


def settle_calls(stand_in, conversation_id: str) -> list[dict]:
    """The settlements the handoff service sent the (stand-in) backend for one conversation (its key names
    it)."""
    return [c for c in stand_in.backend_calls
            if c["path"].endswith("/settle") and conversation_id in (c["idempotency_key"] or "")]
