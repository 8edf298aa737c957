"""Server -> client frames of the widget protocol (see handoff/README.md)."""

from __future__ import annotations

from handoff.models import Message


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
    return frame


def error_frame(*, code: str, message: str, client_id: str | None = None) -> dict:
    """`client_id` names the refused customer message, so a widget knows which one was not stored."""
    frame = {"type": "error", "code": code, "message": message}
    if client_id is not None:
        frame["client_id"] = client_id
    return frame
