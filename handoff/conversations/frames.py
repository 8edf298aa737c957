"""Frames of the widget protocol (see handoff/README.md): what the server sends, and reading what a client
sends without trusting it (the console socket reads its frames the same way)."""

from __future__ import annotations

import json

from fastapi import WebSocket, WebSocketDisconnect

from handoff.models import Message
from handoff.queue.ordering import wait_in_words

# A frame too large to be a message is still read this far to name its client_id in the refusal.
MAX_OVERSIZED_READ_CHARS = 1_000_000
MAX_CLIENT_ID_CHARS = 64


def message_frame(message: Message) -> dict:
    frame = {
        "type": "message",
        "seq": message.seq,
        "sender": message.sender,
        "text": message.text,
        "buttons": message.buttons or [],
        "created_at": message.created_at.isoformat(),
    }
    if message.agent_name:
        frame["agent_name"] = message.agent_name
    if message.client_id:
        frame["client_id"] = message.client_id
    if message.custom:
        frame["custom"] = message.custom
    return frame


def status_frame(*, state: str, position: int | None = None, eta_seconds: int | None = None,
                 ticket_number: str | None = None, agent_name: str | None = None,
                 contact: str | None = None) -> dict:
    frame: dict = {"type": "status", "state": state}
    for key, value in (("position", position), ("eta_seconds", eta_seconds), ("ticket_number", ticket_number),
                       ("agent_name", agent_name), ("contact", contact)):
        if value is not None:
            frame[key] = value
    if eta_seconds is not None:
        frame["wait_text"] = wait_in_words(eta_seconds)
    return frame


def error_frame(*, code: str, message: str, client_id: str | None = None) -> dict:
    """`client_id` names the refused customer message, so a widget knows which one was not stored."""
    frame = {"type": "error", "code": code, "message": message}
    if client_id is not None:
        frame["client_id"] = client_id
    return frame


async def receive_text_frame(websocket: WebSocket) -> str | None:
    """The next text frame; None for a binary frame (the protocol has none). Raises WebSocketDisconnect."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text = message.get("text")
    return text if isinstance(text, str) else None


async def send_frame(websocket: WebSocket, frame: dict) -> None:
    """Send one JSON frame; raises WebSocketDisconnect when the socket is already closed. The server can close
    it on its own (uvicorn answers invalid UTF-8 with 1007) while a frame is on its way: uvicorn and Starlette
    then raise RuntimeError, which is a gone peer, not a failure of the service."""
    try:
        await websocket.send_json(frame)
    except RuntimeError as closed:
        raise WebSocketDisconnect(1006, "closed before the frame was sent") from closed


def parse_frame(raw: str) -> dict | None:
    """One JSON object with a string `type`, else None (unparseable, nested too deep, or the wrong shape)."""
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return frame if isinstance(frame, dict) and isinstance(frame.get("type"), str) else None


def client_id_of(frame: dict | None) -> str | None:
    client_id = frame.get("client_id") if isinstance(frame, dict) else None
    return client_id if isinstance(client_id, str) and 1 <= len(client_id) <= MAX_CLIENT_ID_CHARS else None


def client_id_of_oversized(raw: str) -> str | None:
    """The client_id of a frame refused for its size, so the widget knows which message was not stored."""
    return client_id_of(parse_frame(raw)) if len(raw) <= MAX_OVERSIZED_READ_CHARS else None
