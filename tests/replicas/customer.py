"""A customer's widget that survives the death of its handoff replica (what widget.js does).

It keeps the conversation id and the last seq it saw, and an outbox of messages not yet acked.
When the socket drops it reconnects (through the balancer, so to a live replica), says hello with
both, and resends the outbox; every message it is shown is recorded by seq, duplicates included.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import defaultdict
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.support.chat import ChatClient

ANSWER_SENDERS = ("bot", "system", "agent")


class ConversationLost(AssertionError):
    """The service answered a resumed hello with another conversation."""


class ReconnectingCustomer(ChatClient):
    def __init__(self, ws_url: str, token: str = "") -> None:
        super().__init__(ws_url=ws_url, token=token)
        self.messages: dict[int, dict[str, Any]] = {}
        self.duplicates: list[int] = []
        self.acks: dict[str, set[int]] = defaultdict(set)
        self.sent: dict[str, str] = {}  # client_id -> text, in sending order
        self.unacked: dict[str, str] = {}
        self.connections = 0
        self.drops = 0
        self.errors: list[dict[str, Any]] = []

    async def connect(self) -> dict[str, Any]:
        """Hello with the conversation id and last seq (a resume after the first time), then the outbox."""
        resuming = self.conversation_id
        welcome = await super().connect()
        if resuming is not None and welcome["conversation_id"] != resuming:
            raise ConversationLost(f"resumed {resuming}, got {welcome['conversation_id']}")
        self.connections += 1
        for client_id, text in list(self.unacked.items()):
            await self._send({"type": "message", "client_id": client_id, "text": text})
        return welcome

    async def _receive(self, timeout: float) -> dict[str, Any]:
        frame = json.loads(await asyncio.wait_for(self._ws.recv(), timeout=timeout))
        kind = frame.get("type")
        if kind == "message":
            seq = frame["seq"]
            if seq in self.messages:
                self.duplicates.append(seq)
            self.messages[seq] = frame
            self.last_seq = max(self.last_seq, seq)
        elif kind == "ack":
            self.acks[frame["client_id"]].add(frame["seq"])
            self.unacked.pop(frame["client_id"], None)
        elif kind == "error":
            self.errors.append(frame)
        return frame

    def answer_to(self, client_id: str) -> list[dict[str, Any]]:
        """The messages after this customer message's seq, up to the next customer message."""
        if not self.acks.get(client_id):
            return []
        seq = min(self.acks[client_id])
        answer = []
        for later in sorted(s for s in self.messages if s > seq):
            if self.messages[later]["sender"] == "customer":
                break
            answer.append(self.messages[later])
        return [m for m in answer if m["sender"] in ANSWER_SENDERS]

    async def say(self, text: str, *, timeout: float = 120, quiet: float = 0.5) -> list[dict[str, Any]]:
        """Send one message and wait, across reconnections, until it is acked and answered (and the
        line has then been quiet for `quiet` s: a turn's answers are stored together, sent in a burst)."""
        client_id = uuid.uuid4().hex
        self.sent[client_id] = text
        self.unacked[client_id] = text
        sent = False
        deadline = time.monotonic() + timeout
        while not self.answer_to(client_id):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no answer to {text!r} in {timeout}s; last frames: "
                                   f"{[self.messages[s] for s in sorted(self.messages)[-5:]]}")
            try:
                if self._ws is None:
                    await self.connect()  # resends the outbox, this message included
                    sent = True
                elif not sent:
                    await self._send({"type": "message", "client_id": client_id, "text": text})
                    sent = True
                await self._receive(remaining)
            except TimeoutError:
                continue  # the deadline check above reports it
            except (ConnectionClosed, InvalidHandshake, OSError):
                # The replica died (or the balancer has not noticed yet): reconnect to another one.
                self.drops += 1
                self._ws = None
                await asyncio.sleep(0.5)
        with contextlib.suppress(asyncio.TimeoutError, ConnectionClosed):
            while True:
                await self._receive(quiet)
        return self.answer_to(client_id)

    async def read_until_seq(self, seq: int, *, timeout: float = 30) -> None:
        """Read on until every message up to `seq` has been shown (the last answers of a turn)."""
        deadline = time.monotonic() + timeout
        while not all(s in self.messages for s in range(1, seq + 1)):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                missing = [s for s in range(1, seq + 1) if s not in self.messages]
                raise TimeoutError(f"messages {missing} of {self.conversation_id} never shown")
            await self._receive(remaining)
