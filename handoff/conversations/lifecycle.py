"""A conversation's life around the widget: started or resumed at hello, marked when the customer leaves, and
abandoned when a queued customer stays away (housekeeping in handoff/main.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from handoff import notifier
from handoff.conversations import store
from handoff.conversations.states import State
from handoff.db import utcnow
from handoff.models import Conversation
from handoff.notifier import Change
from handoff.vocabulary import Sender

if TYPE_CHECKING:
    from handoff.context import Services

WELCOME_BACK_TEXT = "Welcome back! You're chatting with the Acme assistant again."
GREETING_TEXT = "I'm the Acme billing assistant. Ask me about your balance, a charge, or a payment."
LEFT_WHILE_WAITING_TEXT = "The customer left the chat while waiting."


def _resume(session: Session, *, conversation: Conversation) -> Conversation:
    if conversation.state == State.ABANDONED:
        store.transition(session, conversation_id=conversation.id, target=State.BOT, actor="customer",
                         note="customer came back")
        store.append_message(session, conversation_id=conversation.id, sender=Sender.SYSTEM,
                             text=WELCOME_BACK_TEXT)
    store.mark_customer_connected(session, conversation_id=conversation.id)
    return store.get_conversation(session, conversation_id=conversation.id)


def start_in_session(session: Session, *, customer_id: int | None, customer_name: str | None,
                     conversation_id: str | None) -> Conversation:
    if conversation_id:
        conversation = store.find_conversation(session, conversation_id=conversation_id)
        # A conversation belongs to the customer who started it (anonymous ones to whoever holds the id).
        if conversation is not None and conversation.customer_id == customer_id:
            return _resume(session, conversation=conversation)
    conversation = store.create_conversation(session, customer_id=customer_id, customer_name=customer_name)
    conversation.customer_connected_at = utcnow()
    greeting = f"Hi {customer_name}! " if customer_name else "Hi! "
    store.append_message(session, conversation_id=conversation.id, sender=Sender.BOT,
                         text=greeting + GREETING_TEXT)
    return conversation


async def start(*, services: Services, customer_id: int | None, customer_name: str | None,
                conversation_id: str | None) -> Conversation:
    """The customer's conversation with this id, or a new one (unknown id, or another customer's)."""
    return await services.run(start_in_session, customer_id=customer_id, customer_name=customer_name,
                              conversation_id=conversation_id)


async def disconnected(*, services: Services, conversation_id: str, connected_at: datetime | None) -> None:
    """The widget's socket closed; housekeeping abandons a queued conversation whose customer stays away."""
    await services.run(store.mark_customer_disconnected, conversation_id=conversation_id,
                       connected_at=connected_at)


def sweep_in_session(session: Session, *, grace_seconds: int) -> list[Change]:
    abandoned = []
    for conversation_id in store.queued_and_gone_before(session,
                                                        cutoff=utcnow() - timedelta(seconds=grace_seconds)):
        try:
            store.transition(session, conversation_id=conversation_id, target=State.ABANDONED, actor="system",
                             note="customer left while queued", allowed_from=frozenset({State.QUEUED}))
        except store.StateConflict:
            continue
        store.append_message(session, conversation_id=conversation_id, sender=Sender.SYSTEM, human_phase=True,
                             text=LEFT_WHILE_WAITING_TEXT)
        abandoned.append(Change(conversation_id, conversation_changed=True, queue_changed=True))
    return abandoned


async def sweep_abandoned(*, services: Services) -> list[Change]:
    """Queued customers gone longer than HANDOFF_ABANDON_GRACE_SECONDS leave the queue (`abandoned`)."""
    abandoned = await services.run(sweep_in_session, grace_seconds=services.settings.abandon_grace_seconds)
    await notifier.publish(*abandoned, services=services)
    return abandoned
