"""The newest unseen payment reminder, shown when a verified customer opens the chat (issue 19, "Outreach on
time"; docs/contracts.md, "Payment reminders").

The backend recorded the reminder when it emailed it (backend/reminders). When the widget connects to a chat
the bot has, for a customer the chat knows (signed in, or verified earlier in it), the newest reminder the
customer has not seen becomes a `system` message ("You have $75.00 past due since November 17.") with the
buttons Pay now (/pay_bill, the bot's payment flow) and Talk to someone (/handoff_human), stored once per
reminder in the conversation; then the backend marks it seen, so the next chat does not show it again. The
backend is asked with a short budget: slow or down, the chat opens without the notice (one warning line).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handoff.clients.backend import BackendError
from handoff.conversations import store
from handoff.conversations.states import State
from handoff.models import Conversation, Message
from handoff.vocabulary import Sender

if TYPE_CHECKING:
    from handoff.context import Services

log = logging.getLogger(__name__)
BUDGET_SECONDS = 2.0
ACTOR = "system:widget"
KEY_PREFIX = "rn-"
BUTTONS = [{"title": "Pay now", "payload": "/pay_bill"},
           {"title": "Talk to someone", "payload": "/handoff_human"}]


def notice_key(*, reminder_id: int, secret: str) -> str:
    """The message's client_id: keyed with a server secret, so a customer's own client_id never collides."""
    digest = hmac.new(secret.encode(), f"reminder-notice.{reminder_id}".encode(), hashlib.sha256)
    return KEY_PREFIX + digest.hexdigest()[:40]


def _store_once(session: Session, *, conversation_id: str, key: str, text: str) -> Message | None:
    if store.find_message_by_client_id(session, conversation_id=conversation_id, client_id=key) is not None:
        return None
    return store.append_message(session, conversation_id=conversation_id, sender=Sender.SYSTEM, text=text,
                                buttons=BUTTONS, client_id=key)


async def _newest_unseen(services: Services, customer_id: int) -> dict[str, Any] | None:
    found = await services.backend.list_reminders(customer_id=customer_id, unseen=True, limit=1, actor=ACTOR)
    if not isinstance(found, list) or not found:
        return None
    newest = found[0]
    readable = isinstance(newest, dict) and isinstance(newest.get("id"), int) \
        and isinstance(newest.get("headline"), str)
    return newest if readable else None


async def show_newest(*, services: Services, conversation: Conversation) -> bool:
    """Stores the notice in the conversation (the widget's catch-up shows it); True when one was stored."""
    if conversation.customer_id is None or conversation.state != State.BOT:
        return False
    try:
        reminder = await asyncio.wait_for(_newest_unseen(services, conversation.customer_id), BUDGET_SECONDS)
    except (BackendError, TimeoutError) as error:
        log.warning("reminder notice skipped for conversation %s: backend %s", conversation.id,
                    getattr(error, "code", "timeout"))
        return False
    if reminder is None:
        return False
    key = notice_key(reminder_id=int(reminder["id"]), secret=services.settings.customer_jwt_secret)
    try:
        stored = await services.run(_store_once, conversation_id=conversation.id, key=key,
                                    text=f"{reminder['headline']}.")
    except IntegrityError:  # another tab stored it at the same moment
        stored = None
    seen = services.backend.mark_reminder_seen(customer_id=conversation.customer_id,
                                               reminder_id=int(reminder["id"]), actor=ACTOR)
    try:
        await asyncio.wait_for(seen, BUDGET_SECONDS)
    except (BackendError, TimeoutError) as error:  # shown again in a later chat at worst
        log.warning("reminder %s not marked seen: backend %s", reminder["id"],
                    getattr(error, "code", "timeout"))
    return stored is not None
