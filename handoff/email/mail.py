"""Emails about a conversation, queued with the backend (POST /api/v1/mail/messages, docs/contracts.md
"Email"): the bot's answer to an email (template bot_reply) and a specialist's reply (template ticket_reply).

The backend sends (and retries) them; its Idempotency-Key makes a repeated request the same email, never a
second one. The Message-ID it answers is recorded so the customer's reply threads back here.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from handoff.clients.backend import BackendError
from handoff.conversations import store
from handoff.db import utcnow
from handoff.email import threads
from handoff.models import Conversation

if TYPE_CHECKING:
    from handoff.context import Services

log = logging.getLogger(__name__)
RETRY_DELAYS_SECONDS = (1.0, 4.0)  # then the error is the caller's


class EmailNotQueued(Exception):
    """The backend did not take the email (unreachable or refused); nothing was sent."""


def answers_by_email(conversation: Conversation) -> bool:
    """An email conversation; or a chat that became a ticket whose customer has left the widget (the ticket's
    answer reaches them by email, and their email reply comes back here)."""
    if conversation.channel == "email":
        return True
    gone = conversation.customer_connected_at is None or (
        conversation.customer_disconnected_at is not None
        and conversation.customer_disconnected_at >= conversation.customer_connected_at)
    return conversation.ticket_number is not None and conversation.customer_id is not None and gone


def recipient(conversation: Conversation) -> dict[str, Any] | None:
    """The address on file of a known customer, else the address the anonymous sender wrote from."""
    if conversation.customer_id is not None:
        return {"customer_id": conversation.customer_id}
    if conversation.email_address:
        return {"to": conversation.email_address}
    return None


def _thread_of(session: Session, *, conversation_id: str) -> tuple[Conversation, str | None]:
    conversation = store.get_conversation(session, conversation_id=conversation_id)
    return conversation, threads.latest_inbound_message_id(session, conversation_id=conversation_id)


def _record_sent(session: Session, *, conversation_id: str, message_id: str) -> None:
    threads.record(session, message_id=message_id, conversation_id=conversation_id, direction="out",
                   now=utcnow())


async def queue(*, services: Services, conversation_id: str, template: str, context: dict[str, Any],
                idempotency_key: str, actor: str, attachments: list[dict[str, Any]] | None = None,
                ) -> dict[str, Any] | None:
    """Ask the backend to send; None when the conversation has nobody to write to. EmailNotQueued after the
    retries (a repeat with the same key later is safe). `attachments` (the customer's documents) go only to a
    known customer's address on file: dropped for an anonymous sender."""
    conversation, in_reply_to = await services.run(_thread_of, conversation_id=conversation_id)
    to = recipient(conversation)
    if to is None:
        log.warning("conversation %s has no email address; %s not sent", conversation_id, template)
        return None
    thread: dict[str, str] = {"conversation_id": conversation_id}
    if in_reply_to is not None:
        thread["in_reply_to"] = in_reply_to
    body = {"template": template, **to, "context": context, "thread": thread}
    if attachments and "customer_id" in to:
        body["attachments"] = attachments
    for delay in (*RETRY_DELAYS_SECONDS, None):
        try:
            queued: dict[str, Any] = await services.backend.send_mail(
                body=body, idempotency_key=idempotency_key, actor=actor)
            break
        except BackendError as error:
            if delay is None or error.status_code < 500:
                log.warning("email %s for conversation %s not queued: %s %s", template, conversation_id,
                            error.status_code, error.code)
                raise EmailNotQueued(error.message) from error
            await asyncio.sleep(delay)
    if isinstance(queued.get("message_id"), str):
        await services.run(_record_sent, conversation_id=conversation_id, message_id=queued["message_id"])
    return queued
