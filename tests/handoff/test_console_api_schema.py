"""The console API describes its answers in /openapi.json (handoff/specialists/schemas.py), and the models
keep the JSON the console reads: a key the service leaves out stays out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from handoff.conversations.frames import message_frame
from handoff.main import create_app
from handoff.models import Message
from handoff.specialists.schemas import MessageOut, SettleRequest

CONSOLE_PREFIX = "/api/console"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return create_app().openapi()  # builds the app; nothing connects until start-up


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    assert ref.startswith("#/components/schemas/"), ref
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]]


def _console_operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, operation) for path, operations in spec["paths"].items()
            if path.startswith(CONSOLE_PREFIX) for method, operation in operations.items()]


def test_every_console_route_describes_its_answer(spec):
    operations = _console_operations(spec)
    assert len(operations) >= 21, "the console API has at least the 21 routes of handoff/README.md"
    undescribed = []
    for method, path, operation in operations:
        success = next((code for code in sorted(operation["responses"]) if code.startswith("2")), "200")
        content = operation["responses"].get(success, {}).get("content", {})  # 200, or 201/202 when declared
        for media_type, body in content.items():
            schema = _resolve(spec, body.get("schema", {}))
            described = bool(schema.get("properties")) if media_type == "application/json" else bool(schema)
            if not described:
                undescribed.append((method, path, media_type))
        if not content:
            undescribed.append((method, path, "no content"))
    assert not undescribed, f"answers without a schema in /openapi.json: {undescribed}"


def test_console_refusals_are_described_as_the_error_shape(spec):
    for method, path, operation in _console_operations(spec):
        for status in ("401", "403", "422"):
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert _resolve(spec, schema)["properties"].keys() == {"error"}, (method, path, status)


def _message(**fields: Any) -> Message:
    base = {"seq": 3, "sender": "agent", "text": "Hello", "buttons": None, "custom": None, "agent_name": None,
            "client_id": None, "created_at": datetime(2025, 3, 1, 12, 0, tzinfo=UTC)}
    return Message(**{**base, **fields})


@pytest.mark.parametrize("message", [
    _message(),
    _message(agent_name="Dana", client_id="c-1"),
    _message(sender="bot", buttons=[{"title": "1", "payload": "/rate_chat"}], custom={"kind": "csat"}),
])
def test_a_message_answer_is_the_widget_frame_key_for_key(message):
    frame = message_frame(message)
    answered = MessageOut.model_validate(frame).model_dump(mode="json")
    assert answered == frame and list(answered) == list(frame)


def test_a_settle_decision_outside_the_vocabulary_is_refused():
    with pytest.raises(ValueError, match="'accepted' or 'rejected'"):
        SettleRequest.model_validate({"decision": "maybe"})
