"""Emails the chat itself sends through the backend's mail API (docs/contracts.md, "Email"; issue 19):
the ticket acknowledgement when a chat becomes a ticket.

Who gets it: a verified customer at the address on file (the backend resolves `customer_id`; the handoff
service never holds it), an anonymous visitor only when the conversation has an address they gave; nobody
else (the chat keeps today's ticket text). An email conversation gets none: its own reply (handoff/email/
bot_reply.py) already carries the ticket text. One email per ticket: the Idempotency-Key is
`ticket-ack:<conversation>:<ticket>`, so a retried escalation is the same email.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from handoff import notifier
from handoff.conversations import store
from handoff.conversations.states import State
from handoff.email import mail
from handoff.notifier import Change
from handoff.vocabulary import Sender

if TYPE_CHECKING:
    from handoff.context import Services

log = logging.getLogger(__name__)
ACK_TIMEOUT_SECONDS = 3.0  # the escalation's answer waits at most this long for the backend
ACK_SENT_TEXT = "I've also emailed you the ticket number {ticket_number}."


def _note_sent(session: Session, *, conversation_id: str, ticket_number: str) -> Change:
    before = store.get_conversation(session, conversation_id=conversation_id).last_seq
    store.append_message(session, conversation_id=conversation_id, sender=Sender.SYSTEM,
                         text=ACK_SENT_TEXT.format(ticket_number=ticket_number))
    store.audit(session, actor=f"bot:{conversation_id}", action="email_ticket_ack", target=conversation_id,
                details={"ticket_number": ticket_number})
    return Change(conversation_id, since_seq=before)


async def acknowledge_ticket(*, services: Services, conversation_id: str) -> bool:
    """Queue the acknowledgement of the conversation's ticket; True when the backend took it (and the chat
    says so). Never raises for a mail problem: the ticket stands, its text already tells how we reply."""
    conversation = await services.run(store.get_conversation, conversation_id=conversation_id)
    ticket_number = conversation.ticket_number
    if (conversation.state != State.TICKET or ticket_number is None or conversation.channel == "email"
            or mail.recipient(conversation) is None):
        return False
    try:
        queued = await asyncio.wait_for(
            mail.queue(services=services, conversation_id=conversation_id, template="ticket_ack",
                       context={"ticket_number": ticket_number},
                       idempotency_key=f"ticket-ack:{conversation_id}:{ticket_number}",
                       actor=f"bot:{conversation_id}"),
            timeout=ACK_TIMEOUT_SECONDS)
    except (mail.EmailNotQueued, TimeoutError):
        log.warning("ticket %s of conversation %s: acknowledgement email not queued", ticket_number,
                    conversation_id)
        return False
    if queued is None:
        return False
    change = await services.run(_note_sent, conversation_id=conversation_id, ticket_number=ticket_number)
    await notifier.publish(change, services=services)
    return True
