"""Rasa's one chat entry point: the handoff service's channel (docs/contracts.md, "Rasa").

Rasa's REST channel takes a turn from anybody who can reach the port, for any sender. This channel is the REST
channel behind a token: `POST /webhooks/handoff/webhook` with `Authorization: Bearer $RASA_CHANNEL_TOKEN`
(bot/credentials.yml reads it from the environment), compared in constant time; anything else is a 401 before
Rasa reads the message, so nothing reaches a tracker. Registered in bot/credentials.yml instead of `rest:`.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

logger = logging.getLogger(__name__)


def bearer_token_matches(authorization: str | None, expected: str) -> bool:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token or not expected:
        return False
    return hmac.compare_digest(token.strip().encode(), expected.encode())


class HandoffInput(RestInput):
    """The REST channel's protocol, for the handoff service only."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("the handoff channel needs a token (RASA_CHANNEL_TOKEN, bot/credentials.yml)")
        self._token = token

    @classmethod
    def name(cls) -> str:
        return "handoff"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(token=str((credentials or {}).get("token") or ""))

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()  # never what the body says

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def only_the_handoff_service(request: Request):
            if not bearer_token_matches(request.headers.get("authorization"), self._token):
                logger.warning(
                    "handoff channel: %s %s refused without a valid token", request.method, request.path
                )
                return response.json({"error": "unauthorized"}, status=401)
            if request.method == "POST":
                body = request.json if request.body else None
                if not (isinstance(body, dict) and isinstance(body.get("sender"), str) and body["sender"]
                        and isinstance(body.get("message"), str)
                        and isinstance(body.get("metadata") or {}, dict)):
                    return response.json({"error": "bad_request"}, status=400)
            return None

        return webhook
