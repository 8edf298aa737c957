"""The secure payment page finished (backend -> handoff, POST /api/payment-page/outcomes): its summary
becomes a `system` message of the conversation that asked for the link, stored once per event and shown live.

docs/contracts.md, "Payment page" ("The chat learns the outcome"). The backend retries, so a repeated event
stores nothing; the route is in payment_outcome_api.py.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handoff import notifier
from handoff.conversations import store
from handoff.conversations.redaction import redact
from handoff.errors import ServiceError
from handoff.models import Message
from handoff.notifier import Change
from handoff.vocabulary import Sender

if TYPE_CHECKING:
    from handoff.context import Services

DEDUPE_KEY_PREFIX = "pp-"


@dataclass(frozen=True)
class OutcomeStored:
    seq: int
    duplicate: bool  # this event was stored before: nothing new was stored or pushed
    change: Change


def dedupe_key(*, event_id: str, secret: str) -> str:
    """The message's client_id for this event. Keyed with a server secret: a customer may send any client_id
    from the widget, and one who guessed this key could otherwise hide the outcome from their own chat."""
    digest = hmac.new(secret.encode(), f"payment-page-outcome.{event_id}".encode(), hashlib.sha256)
    return DEDUPE_KEY_PREFIX + digest.hexdigest()[:40]


def append_system_once(session: Session, *, conversation_id: str, key: str,
                       text: str) -> tuple[Message, bool]:
    """A system message stored once per `key` (a dedupe_key): the message, and whether it is new."""
    existing = store.find_message_by_client_id(session, conversation_id=conversation_id, client_id=key)
    if existing is not None:
        return existing, False
    return store.append_message(session, conversation_id=conversation_id, sender=Sender.SYSTEM, text=text,
                                client_id=key), True


def _not_found() -> ServiceError:
    return ServiceError(status_code=404, code="conversation_not_found",
                        message="No conversation with that id.")


def store_in_session(session: Session, *, conversation_id: str, customer_id: int, key: str, event_id: str,
                     summary: str) -> OutcomeStored:
    conversation = store.find_conversation(session, conversation_id=conversation_id)
    # A chat signed in as someone else never shows this customer's payment (it would tell who paid what).
    if conversation is None or conversation.customer_id not in (None, customer_id):
        raise _not_found()
    message, created = append_system_once(session, conversation_id=conversation_id, key=key, text=summary)
    if not created:
        return OutcomeStored(message.seq, True, Change(conversation_id))
    store.audit(session, actor="backend:payment-page", action="payment_page_outcome", target=conversation_id,
                details={"event_id": event_id, "customer_id": customer_id, "seq": message.seq})
    return OutcomeStored(message.seq, False, Change(conversation_id, messages=(message,)))


async def perform(*, services: Services, event_id: str, conversation_id: str, customer_id: int,
                  summary: str) -> OutcomeStored:
    """Store the summary (redacted, like anything shown in the chat) once per event_id, then push it."""
    key = dedupe_key(event_id=event_id, secret=services.settings.api_token)
    arguments = dict(conversation_id=conversation_id, customer_id=customer_id, key=key, event_id=event_id,
                     summary=redact(summary.strip()))
    try:
        stored = await services.run(store_in_session, **arguments)
    except IntegrityError:  # the same event raced in on another request: that one stored it, this finds it
        stored = await services.run(store_in_session, **arguments)
    await notifier.publish(stored.change, services=services)
    return stored
