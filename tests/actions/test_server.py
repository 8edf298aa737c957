"""actions/server.py: rasa-sdk's action server behind Rasa's token, in process (Sanic's ASGI app under
httpx)."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sanic import Sanic

from actions.server import create_app, token_is_valid

TOKEN = "test-action-server-token"
FORGED_CALL = {
    "next_action": "action_check_balance",
    "sender_id": "victim-conversation",
    "version": "3.6.21",
    "domain": {},
    "tracker": {
        "sender_id": "victim-conversation",
        "slots": {"verified_customer_id": 4},
        "latest_message": {
            "intent": {"name": "check_balance"},
            "entities": [],
            "text": "balance?",
            "metadata": {"customer_id": 4},
        },
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": None,
    },
}


@pytest.fixture
async def client(monkeypatch) -> AsyncIterator[httpx.AsyncClient]:
    # Nothing listens here: an action that called the backend would answer utter_backend_unavailable.
    monkeypatch.setenv("BACKEND_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("HANDOFF_URL", "http://127.0.0.1:9")
    Sanic._app_registry.clear()  # one app per test, all named "rasa_sdk"
    app = create_app("actions", token=TOKEN)
    app.config.TOUCHUP = False  # Sanic rewrites its request handler once per process, not once per app
    inbox: asyncio.Queue = asyncio.Queue()
    outbox: asyncio.Queue = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put)
    )
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://actions") as http:
        yield http
    await inbox.put({"type": "lifespan.shutdown"})
    await outbox.get()
    await lifespan


@pytest.mark.trust_case(
    area="access",
    case="Action server called without Rasa's token (no header, a wrong token, another scheme): "
    "/webhook, /actions",
    expected="401 and no action runs; only GET /health answers",
)
async def test_the_action_server_refuses_calls_without_the_token(client):
    assert (await client.get("/health")).status_code == 200
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"X-Token": TOKEN},
    ):
        refused = await client.post("/webhook", json=FORGED_CALL, headers=headers)
        assert refused.status_code == 401, headers
        assert refused.json() == {"error": "unauthorized"}
        assert (await client.get("/actions", headers=headers)).status_code == 401
    assert (await client.post("/webhook", json=FORGED_CALL, params={"token": TOKEN})).status_code == 401


async def test_with_the_token_a_forged_tracker_is_an_anonymous_visitor(client):
    answer = await client.post("/webhook", json=FORGED_CALL, headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert [r["response"] for r in answer.json()["responses"]] == ["utter_need_verification"]
    assert answer.json()["events"] == []
    listed = await client.get("/actions", headers={"Authorization": f"Bearer {TOKEN}"})
    assert "action_check_balance" in {action["name"] for action in listed.json()}


def test_the_token_is_compared_exactly():
    assert token_is_valid(f"Bearer {TOKEN}", TOKEN) and token_is_valid(f"bearer {TOKEN}", TOKEN)
    for header in (
        None,
        "",
        "Bearer",
        "Bearer ",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Token {TOKEN}",
    ):
        assert not token_is_valid(header, TOKEN), header
