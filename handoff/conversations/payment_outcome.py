"""The secure payment page finished (backend -> handoff, POST /api/payment-page/outcomes): its summary
becomes a `system` message of the conversation that asked for the link, stored once per event and shown live.
Then, while the bot has the chat, Rasa is told (EXTERNAL_payment_page_completed through the authenticated
trigger_intent) so the bot's tracker follows and it can offer what comes next; its answer is stored as bot
messages after the summary.

docs/contracts.md, "Payment page" ("The chat learns the outcome"). The backend retries, so a repeated event
stores nothing and tells Rasa nothing; the route is in payment_outcome_api.py.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handoff import notifier
from handoff.clients.rasa import BotReply, RasaUnavailable
from handoff.conversations import store
from handoff.conversations.redaction import redact
from handoff.conversations.states import State
from handoff.errors import ServiceError
from handoff.models import Message
from handoff.notifier import Change
from handoff.vocabulary import Sender

if TYPE_CHECKING:
    from handoff.context import Services

log = logging.getLogger(__name__)
DEDUPE_KEY_PREFIX = "pp-"
COMPLETED_INTENT = "EXTERNAL_payment_page_completed"


@dataclass(frozen=True)
class OutcomeStored:
    seq: int
    duplicate: bool  # this event was stored before: nothing new was stored or pushed
    change: Change
    with_bot: bool = False  # the bot has the chat (not queued for or with a person)


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
    return OutcomeStored(message.seq, False, Change(conversation_id, messages=(message,)),
                         with_bot=conversation.state == State.BOT)


def completed_entities(*, payment: dict[str, Any] | None, autopay: dict[str, Any] | None) -> dict[str, str]:
    """What the page did, as the entities of EXTERNAL_payment_page_completed (docs/contracts.md): the
    payment's status or "none"; autopay "on"/"off", or "unchanged" when the page left it as it was."""
    status = str(payment.get("status") or "none") if isinstance(payment, dict) else "none"
    if not isinstance(autopay, dict):
        switched = "unchanged"
    else:
        switched = "on" if autopay.get("enabled") else "off"
    return {"page_payment": status, "page_autopay": switched}


def store_bot_followup(session: Session, *, conversation_id: str, replies: list[BotReply]) -> Change:
    """Rasa's answer to the outcome, stored only while the bot still has the chat (a person may have taken it
    meanwhile: then the person answers)."""
    conversation = store.find_conversation(session, conversation_id=conversation_id)
    if conversation is None or conversation.state != State.BOT:
        return Change(conversation_id)
    stored = tuple(store.append_message(session, conversation_id=conversation_id, sender=Sender.BOT,
                                        text=reply.text, buttons=reply.buttons, custom=reply.custom)
                   for reply in replies)
    return Change(conversation_id, messages=stored)


async def tell_the_bot(*, services: Services, conversation_id: str, entities: dict[str, str]) -> bool:
    """EXTERNAL_payment_page_completed to Rasa; its answer (e.g. the offer to turn autopay on) goes to the
    chat. Rasa unreachable: logged, nothing else (the summary is already in the chat). False: not told."""
    try:
        replies = await services.rasa.trigger_intent(conversation_id=conversation_id, name=COMPLETED_INTENT,
                                                     entities=entities)
    except RasaUnavailable as error:
        log.warning("could not tell rasa about the payment page of conversation %s: %s", conversation_id,
                    error)
        return False
    if replies:
        change = await services.run(store_bot_followup, conversation_id=conversation_id, replies=replies)
        await notifier.publish(change, services=services)
    return True


async def perform(*, services: Services, event_id: str, conversation_id: str, customer_id: int,
                  summary: str, entities: dict[str, str] | None = None) -> OutcomeStored:
    """Store the summary (redacted, like anything shown in the chat) once per event_id, then push it; then,
    the first time only and while the bot has the chat, tell Rasa (`entities`: completed_entities)."""
    key = dedupe_key(event_id=event_id, secret=services.settings.api_token)
    arguments = dict(conversation_id=conversation_id, customer_id=customer_id, key=key, event_id=event_id,
                     summary=redact(summary.strip()))
    try:
        stored = await services.run(store_in_session, **arguments)
    except IntegrityError:  # the same event raced in on another request: that one stored it, this finds it
        stored = await services.run(store_in_session, **arguments)
    await notifier.publish(stored.change, services=services)
    if not stored.duplicate and stored.with_bot:
        # its own task, like a bot turn: the backend's call is answered at once (it waits 5 s, then retries)
        told = entities or completed_entities(payment=None, autopay=None)
        services.turns.start(tell_the_bot(services=services, conversation_id=conversation_id, entities=told))
    return stored
