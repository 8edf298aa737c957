"""A customer's chat over the handoff service's real WebSocket (protocol: docs/contracts.md)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
import websockets


def customer_token(*, secret: str, customer_id: int, name: str = "Demo", ttl_seconds: int = 3600) -> str:
    claims = {"sub": str(customer_id), "name": name, "exp": int(time.time()) + ttl_seconds}
    return jwt.encode(claims, secret, algorithm="HS256")


@dataclass
class ChatClient:
    ws_url: str
    token: str = ""
    conversation_id: str | None = None
    last_seq: int = 0
    frames: list[dict[str, Any]] = field(default_factory=list)
    # Seconds from sending the last message to the first frame of its reply (bench/load.py's latency).
    last_reply_seconds: float = 0.0
    _ws: Any = None

    async def connect(self) -> dict[str, Any]:
        # max_queue=None: read like a browser; a full queue would hide the close frame until the close timeout
        self._ws = await websockets.connect(f"{self.ws_url}?token={self.token}", max_size=2**22,
                                            max_queue=None)
        await self._send(
            {"type": "hello", "conversation_id": self.conversation_id, "last_seq": self.last_seq}
        )
        welcome = await self.wait_for(lambda f: f["type"] == "welcome", timeout=10)
        self.conversation_id = welcome["conversation_id"]
        return welcome

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    async def _send(self, frame: dict[str, Any]) -> None:
        await self._ws.send(json.dumps(frame))

    async def _receive(self, timeout: float) -> dict[str, Any]:
        frame = json.loads(await asyncio.wait_for(self._ws.recv(), timeout=timeout))
        if isinstance(frame.get("seq"), int) and frame.get("type") == "message":
            self.last_seq = max(self.last_seq, frame["seq"])
        self.frames.append(frame)
        return frame

    async def wait_for(self, predicate, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching frame in {timeout}s; got {self.frames[-10:]}")
            frame = await self._receive(remaining)
            if predicate(frame):
                return frame

    async def say(
        self, text: str, *, payload: str | None = None, quiet: float = 1.5, timeout: float = 30
    ) -> list[dict[str, Any]]:
        """Send one message; return the frames of the reply (until the line has been quiet for `quiet` s)."""
        client_id = str(uuid.uuid4())
        frame: dict[str, Any] = {"type": "message", "client_id": client_id, "text": text}
        if payload:
            frame["payload"] = payload
        sent_at = time.perf_counter()
        await self._send(frame)
        reply: list[dict[str, Any]] = []
        await self.wait_for(lambda f: f["type"] == "ack" and f.get("client_id") == client_id, timeout)
        # The reply starts with the first frame that is not the echo of the customer's own message.
        while True:
            frame = await self.wait_for(lambda f: f["type"] in ("message", "status", "error"), timeout)
            reply.append(frame)
            if frame.get("sender") != "customer":
                break
        self.last_reply_seconds = time.perf_counter() - sent_at
        while True:
            try:
                reply.append(await self._receive(quiet))
            except TimeoutError:
                return reply

    @staticmethod
    def texts(frames: list[dict[str, Any]], sender: str = "bot") -> list[str]:
        return [
            f.get("text") or "" for f in frames if f.get("type") == "message" and f.get("sender") == sender
        ]
