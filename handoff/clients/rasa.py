"""Typed async client for Rasa's handoff channel and HTTP API (contract: docs/contracts.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from handoff.clients.identity_assertion import mint_identity_assertion


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


@dataclass(frozen=True)
class BotReply:
    text: str
    buttons: list[dict] = field(default_factory=list)
    custom: dict | None = None


def _button(button: object) -> dict | None:
    """A payload button, or a link button whose URL is absolute http(s) (the widget opens it in a new tab);
    any other link (javascript:, data:, relative) is dropped with its button."""
    if not isinstance(button, dict):
        return None
    title = str(button.get("title", ""))
    if "url" in button:
        url = str(button.get("url") or "")
        parts = urlsplit(url)
        return {"title": title, "url": url} if parts.scheme in ("http", "https") and parts.netloc else None
    return {"title": title, "payload": str(button.get("payload", ""))}


def _parse_replies(raw: object) -> list[BotReply]:
    if not isinstance(raw, list):
        raise RasaUnavailable("Rasa answered something that is not a list of messages")
    replies = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        buttons = [
            parsed for button in item.get("buttons") or [] if (parsed := _button(button)) is not None
        ]
        custom = item.get("custom") if isinstance(item.get("custom"), dict) else None
        text = item.get("text") or ""
        if text or buttons or custom:
            replies.append(BotReply(text=text, buttons=buttons, custom=custom))
    return replies


CHAT_WEBHOOK = "/webhooks/handoff/webhook"  # bot/channels/handoff_channel.py; the REST channel is not enabled


class RasaClient:
    def __init__(self, *, base_url: str, auth_token: str, timeout_seconds: float, channel_token: str,
                 identity_secret: str, identity_seconds: int):
        self._auth_token = auth_token
        self._channel_token = channel_token
        self._identity_secret = identity_secret
        self._identity_seconds = identity_seconds
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=httpx.Timeout(timeout_seconds))

    async def send_message(
        self, *, conversation_id: str, text: str, customer_id: int | None, channel: str
    ) -> list[BotReply]:
        identity = mint_identity_assertion(conversation_id=conversation_id, customer_id=customer_id,
                                           secret=self._identity_secret, seconds=self._identity_seconds)
        body = {
            "sender": conversation_id,
            "message": text,
            # customer_id is for logs and tests only: the action server trusts the signed `identity`
            # channel ("chat" | "email") chooses how an answer is delivered, never who the customer is
            "metadata": {"identity": identity, "customer_id": customer_id,
                         "conversation_id": conversation_id, "channel": channel},
        }
        try:
            response = await self._http.post(
                CHAT_WEBHOOK, json=body, headers={"Authorization": f"Bearer {self._channel_token}"}
            )
            response.raise_for_status()
            return _parse_replies(response.json())
        except (httpx.HTTPError, ValueError) as error:
            raise RasaUnavailable(str(error)) from error

    async def append_events(self, *, conversation_id: str, events: list[dict]) -> None:
        if not events:
            return
        try:
            response = await self._http.post(
                f"/conversations/{conversation_id}/tracker/events",
                params={"token": self._auth_token},
                json=events,
            )
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise RasaUnavailable(str(error)) from error

    async def trigger_intent(self, *, conversation_id: str, name: str, entities: dict) -> list[BotReply]:
        try:
            response = await self._http.post(
                f"/conversations/{conversation_id}/trigger_intent",
                params={"token": self._auth_token, "output_channel": "latest"},
                json={"name": name, "entities": entities},
            )
            response.raise_for_status()
            return _parse_replies(response.json().get("messages") or [])
        except (httpx.HTTPError, ValueError, AttributeError) as error:
            raise RasaUnavailable(str(error)) from error

    async def aclose(self) -> None:
        await self._http.aclose()
