"""Emails the chat itself sends through the backend's mail API (docs/contracts.md, "Email"; issue 19):
the ticket acknowledgement when a chat becomes a ticket, and the conversation's transcript when the customer
asks for it ("email me this conversation": the widget's `email_transcript` frame).

Who gets it: a verified customer at the address on file (the backend resolves `customer_id`; the handoff
service never holds it), an anonymous visitor only when the conversation has an address they gave; nobody
else (the chat keeps today's ticket text). An email conversation gets none: its own reply (handoff/email/
bot_reply.py) already carries the ticket text. One email per ticket: the Idempotency-Key is
`ticket-ack:<conversation>:<ticket>`, so a retried escalation is the same email.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handoff import notifier
from handoff.conversations import store
from handoff.conversations.states import State
from handoff.email import mail
from handoff.models import AuditEntry
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


TRANSCRIPT_SENT_TEXT = "I've emailed this conversation to you."
TRANSCRIPT_LIMIT = 3  # per conversation: a customer cannot turn the widget into a mail cannon
TRANSCRIPT_MAX_LINES = 500  # the mail API's limit; the latest lines when a chat is longer
SPEAKERS = {Sender.CUSTOMER: "customer", Sender.BOT: "bot", Sender.AGENT: "specialist",
            Sender.SYSTEM: "system"}


class TranscriptRefused(Exception):
    """Nothing was sent; `message` is what the customer is told."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _transcript(session: Session, *, conversation_id: str) -> tuple[list[dict[str, str]], str | None, int]:
    conversation = store.get_conversation(session, conversation_id=conversation_id)
    messages = store.messages_after(session, conversation_id=conversation_id, after_seq=0, limit=100_000)
    lines = [{"speaker": SPEAKERS[Sender(m.sender)], "text": m.text[:5000],
              "at": m.created_at.strftime("%Y-%m-%d %H:%M UTC")}
             for m in messages if m.text.strip() and m.sender in SPEAKERS]
    sent = session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "email_transcript", AuditEntry.target == conversation_id)) or 0
    return lines[-TRANSCRIPT_MAX_LINES:], conversation.ticket_number, sent


def _note_transcript(session: Session, *, conversation_id: str, mail_id: str) -> Change:
    """Once per email: a repeated press (the same client_id) is answered by the backend with the same mail."""
    noted = session.scalars(select(AuditEntry.details).where(
        AuditEntry.action == "email_transcript", AuditEntry.target == conversation_id))
    if any((details or {}).get("mail_id") == mail_id for details in noted):
        return Change(conversation_id)
    before = store.get_conversation(session, conversation_id=conversation_id).last_seq
    store.append_message(session, conversation_id=conversation_id, sender=Sender.SYSTEM,
                         text=TRANSCRIPT_SENT_TEXT)
    store.audit(session, actor="customer", action="email_transcript", target=conversation_id,
                details={"mail_id": mail_id})
    return Change(conversation_id, since_seq=before)


async def email_transcript(*, services: Services, conversation_id: str, client_id: str) -> None:
    """Queue the conversation's transcript to the customer (the address on file, or the one they wrote from).
    The same client_id again is the same email. TranscriptRefused: nothing sent, with the reason to show."""
    conversation = await services.run(store.get_conversation, conversation_id=conversation_id)
    if mail.recipient(conversation) is None:
        raise TranscriptRefused("I can email this conversation once you've confirmed your account.")
    lines, ticket_number, sent = await services.run(_transcript, conversation_id=conversation_id)
    if sent >= TRANSCRIPT_LIMIT:
        raise TranscriptRefused("This conversation has already been emailed to you.")
    if not lines:
        raise TranscriptRefused("There is nothing to email yet.")
    request = hashlib.sha256(client_id.encode()).hexdigest()[:16]  # any client_id, a key the backend accepts
    context: dict[str, object] = {"lines": lines}
    if ticket_number:
        context["ticket_number"] = ticket_number
    try:
        queued = await asyncio.wait_for(
            mail.queue(services=services, conversation_id=conversation_id, template="transcript",
                       context=context, idempotency_key=f"transcript:{conversation_id}:{request}",
                       actor=f"customer:{conversation_id}"[:100]),
            timeout=ACK_TIMEOUT_SECONDS)
    except (mail.EmailNotQueued, TimeoutError):
        log.warning("conversation %s: transcript email not queued", conversation_id)
        raise TranscriptRefused("Sorry, I couldn't send the email now. Please try again later.") from None
    if queued is None:
        raise TranscriptRefused("I can email this conversation once you've confirmed your account.")
    change = await services.run(_note_transcript, conversation_id=conversation_id,
                                mail_id=str(queued.get("id")))
    await notifier.publish(change, services=services)
