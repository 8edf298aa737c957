"""Which conversation an inbound email belongs to, and the Message-IDs seen or sent (table email_messages).

Order (docs/contracts.md, "Inbound email"): a correctly signed reply address; else In-Reply-To, then
References (newest first), naming a Message-ID sent or received in a conversation; else none (a new
conversation). A conversation with a customer is joined only by mail from that customer (the caller matched
the address on file); anything else starts a new conversation, so a forwarded reply address never reaches an
account.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handoff.conversations import store
from handoff.email.parsing import InboundEmail
from handoff.email.signatures import conversation_of_reply_address
from handoff.models import Conversation, EmailMessage

log = logging.getLogger(__name__)
MAX_KEY_CHARS = 255


def message_key(message_id: str) -> str:
    """How a Message-ID is stored: as written, or hashed when longer than the column."""
    if len(message_id) <= MAX_KEY_CHARS:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode()).hexdigest()


def find_seen(session: Session, *, message_id: str) -> EmailMessage | None:
    return session.scalars(select(EmailMessage).where(EmailMessage.message_key == message_key(message_id))
                           ).first()


def record(session: Session, *, message_id: str, conversation_id: str, direction: str,
           from_address: str | None = None, seq: int | None = None, now: datetime) -> None:
    """Remember a Message-ID (a repeat is ignored: the first conversation keeps it)."""
    if find_seen(session, message_id=message_id) is not None:
        return
    session.add(EmailMessage(message_key=message_key(message_id), conversation_id=conversation_id,
                             direction=direction, from_address=from_address, seq=seq, created_at=now))
    session.flush()


def latest_inbound_message_id(session: Session, *, conversation_id: str) -> str | None:
    """The customer's latest Message-ID in the conversation (what a reply's In-Reply-To names)."""
    key = session.scalars(
        select(EmailMessage.message_key)
        .where(EmailMessage.conversation_id == conversation_id, EmailMessage.direction == "in")
        .order_by(EmailMessage.id.desc()).limit(1)
    ).first()
    return key if key is not None and key.startswith("<") else None


def recent_from(session: Session, *, from_address: str, since: datetime) -> int:
    """How many emails this address sent since `since` (the per-address rate limit against loops)."""
    return session.scalar(select(func.count(EmailMessage.id)).where(
        EmailMessage.from_address == from_address, EmailMessage.direction == "in",
        EmailMessage.created_at >= since)) or 0


def _conversation_of_message_id(session: Session, message_id: str, *, reply_domain: str) -> str | None:
    seen = find_seen(session, message_id=message_id)
    if seen is not None:
        return seen.conversation_id
    # A Message-ID the backend made for a conversation (docs/contracts.md "Email": <conv-<id>-<hex>@domain>).
    match = re.fullmatch(r"<conv-([A-Za-z0-9_-]{1,64})-[0-9a-f]{8,64}@([^<>\s]+)>", message_id)
    if match and match[2].lower() == reply_domain.lower():
        return match[1]
    return None


def find_thread(session: Session, *, email: InboundEmail, customer_id: int | None, reply_secret: str,
                reply_domain: str) -> Conversation | None:
    candidates: list[tuple[str, str]] = []
    for address in email.to:
        conversation_id = conversation_of_reply_address(address, secret=reply_secret, domain=reply_domain)
        if conversation_id is not None:
            candidates.append(("reply address", conversation_id))
        elif address.startswith("reply+") and address.endswith("@" + reply_domain.lower()):
            log.warning("inbound email: reply address with a wrong signature (%s); not threaded by it",
                        address)
    for message_id in (*email.in_reply_to, *reversed(email.references)):
        conversation_id = _conversation_of_message_id(session, message_id, reply_domain=reply_domain)
        if conversation_id is not None:
            candidates.append(("message id", conversation_id))
    for how, conversation_id in candidates:
        conversation = store.find_conversation(session, conversation_id=conversation_id)
        if conversation is None:
            continue
        if conversation.customer_id is not None and conversation.customer_id != customer_id:
            log.warning("inbound email names conversation %s (by %s) but its sender is not that "
                        "conversation's customer; it starts a new conversation", conversation_id, how)
            return None
        return conversation
    return None


def set_conversation_email(session: Session, *, conversation: Conversation, address: str,
                           subject: str) -> None:
    subject_kept = conversation.email_subject or subject or None
    store.update_conversation(session, conversation_id=conversation.id, channel="email",
                              email_address=address, email_subject=subject_kept)
