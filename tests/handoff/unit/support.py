"""Fakes of what lives in other processes (Rasa, the backend), a pub/sub recorder, and data builders for the
in-process use-case tests (fixtures in conftest.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from handoff.clients.backend import BackendError
from handoff.clients.rasa import BotReply, RasaUnavailable
from handoff.context import Services
from handoff.conversations import store
from handoff.conversations.states import State
from handoff.db import utcnow
from handoff.models import StaffUser
from handoff.pubsub import InProcessPubSub
from handoff.specialists.auth import staff_from_user
from handoff.specialists.staff import Staff

TICKET_CONTACT = "A billing specialist will email you within one business day."


class FakeRasa:
    """Plays Rasa's handoff channel and HTTP API: canned replies, or unreachable."""

    def __init__(self) -> None:
        self.replies: list[BotReply] = [BotReply(text="Your balance is $42.00.")]
        self.resolve_replies: list[BotReply] = [BotReply(text="Glad we could help! How was it?")]
        self.down = False
        self.block: asyncio.Event | None = None  # set: send_message waits for it (a turn in flight)
        self.reached = asyncio.Event()  # a message reached this Rasa
        self.sent: list[dict[str, Any]] = []
        self.channels: list[str] = []  # each sent message's metadata channel ("chat" | "email")
        self.appended: list[tuple[str, list[dict[str, Any]]]] = []
        self.triggered: list[tuple[str, str, dict[str, Any]]] = []

    async def send_message(self, *, conversation_id: str, text: str,
                           customer_id: int | None, channel: str) -> list[BotReply]:
        self.sent.append({"conversation_id": conversation_id, "text": text, "customer_id": customer_id})
        self.channels.append(channel)
        self.reached.set()
        if self.block is not None:
            await self.block.wait()
        if self.down:
            raise RasaUnavailable("connection refused")
        return list(self.replies)

    async def append_events(self, *, conversation_id: str, events: list[dict[str, Any]]) -> None:
        if self.down:
            raise RasaUnavailable("connection refused")
        self.appended.append((conversation_id, events))

    async def trigger_intent(self, *, conversation_id: str, name: str,
                             entities: dict[str, Any]) -> list[BotReply]:
        if self.down:
            raise RasaUnavailable("connection refused")
        self.triggered.append((conversation_id, name, entities))
        return list(self.resolve_replies)


class FakeBackend:
    """Plays the backend's dispute settlement: records calls, or fails with a BackendError."""

    def __init__(self) -> None:
        self.settled: list[dict[str, Any]] = []
        self.error: BackendError | None = None
        self.mails: list[dict[str, Any]] = []  # POST /api/v1/mail/messages requests (issue 19)
        self.mail_error: BackendError | None = None

    async def send_mail(self, *, body: dict[str, Any], idempotency_key: str, actor: str) -> dict[str, Any]:
        """The backend's mail API: the same Idempotency-Key answers the same message."""
        if self.mail_error is not None:
            raise self.mail_error
        for earlier in self.mails:
            if earlier["key"] == idempotency_key:
                return dict(earlier["answer"])
        conversation_id = body.get("thread", {}).get("conversation_id", "none")
        answer = {"id": f"mail_{len(self.mails):024x}", "status": "queued",
                  "message_id": f"<conv-{conversation_id}-{len(self.mails):032x}@reply.example.test>"}
        self.mails.append({"key": idempotency_key, "actor": actor, "body": body, "answer": answer})
        return dict(answer)

    async def settle_dispute(self, **call: Any) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        self.settled.append(call)
        return {"id": call["dispute_id"], "status": call["decision"], "credit_amount": call["credit_amount"]}


class RecordingPubSub(InProcessPubSub):
    """The real in-memory pub/sub, also keeping every published event in order: [(channel, event), ...]."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[tuple[str, dict[str, Any]]] = []

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        self.published.append((channel, event))
        await super().publish(channel, event)

    def drain(self) -> list[tuple[str, dict[str, Any]]]:
        """The events published since the last drain."""
        events, self.published = self.published, []
        return events

    def kinds(self, channel: str) -> list[str]:
        return [event["kind"] for published_on, event in self.drain() if published_on == channel]


def add_staff(services: Services, username: str, *, role: str = "specialist", online: bool = True,
              teams: str = "general") -> Staff:
    def insert(session: Any) -> Staff:
        user = StaffUser(username=username, display_name=username.capitalize(), role=role, active=True,
                         teams=teams, password_hash="unused", created_at=utcnow(),
                         last_seen_at=utcnow() if online else None)
        session.add(user)
        session.flush()
        return staff_from_user(user)
    return services.db.run_sync(insert)


def new_conversation(services: Services, *, customer_id: int | None = 4, name: str | None = "David") -> str:
    def create(session: Any) -> str:
        conversation = store.create_conversation(session, customer_id=customer_id, customer_name=name)
        store.append_message(session, conversation_id=conversation.id, sender="bot",
                             text="Hi! How can I help?")
        return conversation.id
    return services.db.run_sync(create)


def queued_conversation(services: Services, *, reason: str = "request_human", customer_id: int | None = 4,
                        dispute_id: int | None = None, dispute_amount: Any = None) -> str:
    conversation_id = new_conversation(services, customer_id=customer_id)

    def queue(session: Any) -> None:
        conversation = store.get_conversation(session, conversation_id=conversation_id)
        store.transition(session, conversation_id=conversation_id, target=State.QUEUED, actor="bot",
                         escalation_reason=reason, queued_at=utcnow(), dispute_id=dispute_id,
                         dispute_amount=dispute_amount, human_phase_start_seq=conversation.last_seq + 1,
                         context={"summary": "wants a person"})
    services.db.run_sync(queue)
    return conversation_id


def conversation(services: Services, conversation_id: str) -> Any:
    return services.db.run_sync(store.get_conversation, conversation_id=conversation_id)


def texts(services: Services, conversation_id: str) -> list[tuple[str, str]]:
    return [(m.sender, m.text) for m in services.db.run_sync(store.messages_after,
                                                             conversation_id=conversation_id,
                                                             after_seq=0)]
