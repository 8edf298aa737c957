"""Who waits in the queue, by name (issue 17): a verified customer the chat knows no name for (verified
through the bot's form, or signed in with a token without a name) gets the name on file before the chat joins
the queue, so specialists read "David Kim" instead of a customer number.

Asked from the backend as the bot of that conversation (`X-Actor: bot:<conversation id>`, audited there), with
a short budget: a backend that does not answer leaves the name empty (the console then writes a human label)
and one warning line, never a failed escalation.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from handoff.clients.backend import BackendError
from handoff.conversations import store
from handoff.conversations.store.conversations import table_of
from handoff.models import Conversation

if TYPE_CHECKING:
    from handoff.context import Services

log = logging.getLogger(__name__)
BUDGET_SECONDS = 2.0
MAX_NAME_CHARS = 100  # conversations.customer_name


def full_name(customer: dict[str, Any]) -> str | None:
    """ "First Last" from the backend's customer, or None when it has neither."""
    name = " ".join(str(part).strip() for part in (customer.get("first_name"), customer.get("last_name"))
                    if part and str(part).strip())
    return name[:MAX_NAME_CHARS] or None


def _unnamed_customer(session: Session, *, conversation_id: str, customer_id: int | None) -> int | None:
    """The customer to name: the chat's own (signed in), else the one the bot verified; None when the chat
    has a name already (or nobody is verified)."""
    conversation = store.find_conversation(session, conversation_id=conversation_id)
    if conversation is None or conversation.customer_name:
        return None
    return conversation.customer_id or customer_id


def _store_name(session: Session, *, conversation_id: str, name: str) -> None:
    table = table_of(Conversation)
    session.execute(update(table).where(table.c.id == conversation_id, table.c.customer_name.is_(None))
                    .values(customer_name=name))


async def name_waiting_customer(*, services: Services, conversation_id: str, customer_id: int | None,
                                slots: dict[str, Any] | None) -> None:
    """Give the chat the verified customer's name on file (else the first name the bot's form kept)."""
    target = await services.run(_unnamed_customer, conversation_id=conversation_id, customer_id=customer_id)
    if target is None:
        return
    name = None
    try:
        customer = await asyncio.wait_for(
            services.backend.get_customer(customer_id=target, actor=f"bot:{conversation_id}"), BUDGET_SECONDS)
        name = full_name(customer) if isinstance(customer, dict) else None
    except (BackendError, TimeoutError) as error:
        log.warning("the name of customer %s is not known for the queue: %s", target,
                    getattr(error, "code", "timeout"))
    first_name = str((slots or {}).get("customer_first_name") or "").strip()
    name = name or first_name[:MAX_NAME_CHARS] or None
    if name:
        await services.run(_store_name, conversation_id=conversation_id, name=name)
