"""The owner writes to the customer (redacted, stored once per client_id, shown in the widget)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from handoff import notifier
from handoff.assignments.ownership import owned_conversation
from handoff.conversations import store
from handoff.conversations.redaction import redact
from handoff.email import agent_reply
from handoff.errors import ServiceError
from handoff.notifier import Change
from handoff.specialists.staff import Staff
from handoff.vocabulary import Sender

if TYPE_CHECKING:
    from handoff.context import Services

MAX_TEXT_CHARS = 4000


def send_in_session(session: Session, *, conversation_id: str, staff: Staff, text: str,
                    client_id: str | None) -> Change:
    owned_conversation(session, conversation_id=conversation_id, staff=staff)
    if client_id:
        existing = store.find_message_by_client_id(session, conversation_id=conversation_id,
                                                   client_id=client_id)
        if existing is not None:  # a retry: the stored message, published again (widgets dedupe by seq)
            return Change(conversation_id, messages=(existing,))
    message = store.append_message(session, conversation_id=conversation_id, sender=Sender.AGENT, text=text,
                                   agent_name=staff.display_name, client_id=client_id, human_phase=True)
    store.audit(session, actor=staff.actor, action="send_message", target=conversation_id,
                details={"seq": message.seq})
    return Change(conversation_id, messages=(message,))


async def perform(*, services: Services, conversation_id: str, staff: Staff, text: str,
                  client_id: str | None) -> Change:
    """Returns the Change; its one message is the stored one (the original one for a retried client_id)."""
    text = redact(text.strip())
    if not text:
        raise ServiceError(status_code=422, code="empty_message", message="Type a message first.")
    change = await services.run(send_in_session, conversation_id=conversation_id, staff=staff,
                                text=text[:MAX_TEXT_CHARS], client_id=client_id)
    await notifier.publish(change, services=services)
    # An email conversation (or a ticket whose customer left the widget) gets the reply by email too.
    await agent_reply.perform(services=services, conversation_id=conversation_id, message=change.messages[0],
                              staff=staff)
    return change
