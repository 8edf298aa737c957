"""An inbound email becomes a customer message in an email conversation (handoff/email/threads.py picks
which one), answered by the bot like a chat turn (handoff/email/bot_reply.py), or left to the specialist, or
stored and never answered (auto-responders, lists, our own mail, a sender over the rate limit)."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handoff import notifier
from handoff.clients.backend import BackendError
from handoff.config import Settings
from handoff.conversations import store
from handoff.conversations.redaction import redact
from handoff.conversations.states import HUMAN_STATES
from handoff.db import utcnow
from handoff.email import bot_reply, rating, threads
from handoff.email.parsing import InboundEmail, conversation_text
from handoff.email.safety import auto_reply_reason, spoof_reason
from handoff.errors import ServiceError
from handoff.notifier import Change
from handoff.vocabulary import Sender

if TYPE_CHECKING:
    from handoff.context import Services

log = logging.getLogger(__name__)
LOOKUP_ACTOR = "bot:email-inbound"
NOT_ANSWERED_NOTES = {
    "auto_reply": "[Not answered: an automatic reply or mailing list]",
    "own_address": "[Not answered: sent from a system address]",
    "rate_limited": "[Not answered: too many emails from this address]",
}


@dataclass(frozen=True)
class Accepted:
    outcome: str  # answering | with_specialist | not_answered | duplicate
    conversation_id: str
    seq: int
    reason: str | None = None
    message_id: int | None = None  # the stored message, when its bot turn is to run
    change: Change | None = None


def client_id_of(email: InboundEmail) -> str:
    """The stored message's client_id: one per Message-ID (a webhook delivered twice stores once)."""
    source = email.message_id or uuid.uuid4().hex
    return "email-" + hashlib.sha256(source.encode()).hexdigest()[:40]


def store_in_session(session: Session, *, settings: Settings, email: InboundEmail, text: str,
                     customer_id: int | None, customer_name: str | None, refusal: str | None) -> Accepted:
    now = utcnow()
    if email.message_id is not None:
        seen = threads.find_seen(session, message_id=email.message_id)
        if seen is not None:
            return Accepted("duplicate", seen.conversation_id, seen.seq or 0)
    conversation = threads.find_thread(session, email=email, customer_id=customer_id,
                                       reply_secret=settings.email_reply_secret,
                                       reply_domain=settings.mail_reply_domain)
    new_chat = conversation is None
    if conversation is None:
        conversation = store.create_conversation(session, customer_id=customer_id,
                                                 customer_name=customer_name)
    threads.set_conversation_email(session, conversation=conversation, address=email.from_address,
                                   subject=email.subject)
    window_start = now - timedelta(seconds=settings.email_rate_limit_seconds)
    if refusal is None and threads.recent_from(session, from_address=email.from_address,
                                               since=window_start) >= settings.email_rate_limit_messages:
        refusal = "rate_limited"
        log.warning("inbound email from an address over %s emails per %s s: stored, not answered "
                    "(conversation %s)", settings.email_rate_limit_messages,
                    settings.email_rate_limit_seconds, conversation.id)
    in_human_phase = conversation.state in HUMAN_STATES
    answerable = refusal is None and not in_human_phase
    stored_text = text if refusal is None else f"{text}\n\n{NOT_ANSWERED_NOTES[refusal]}"
    # "5" in reply to the rating question a resolve emailed is the rating button's payload (email/rating.py)
    payload = rating.rating_in_session(session, conversation=conversation, text=text) if answerable else None
    message = store.append_message(
        session, conversation_id=conversation.id, sender=Sender.CUSTOMER, text=stored_text,
        client_id=client_id_of(email), processed=not answerable, human_phase=in_human_phase, payload=payload,
    )
    threads.record(session, message_id=email.message_id or f"<inbound-{uuid.uuid4().hex}@handoff>",
                   conversation_id=conversation.id, direction="in", from_address=email.from_address,
                   seq=message.seq, now=now)
    store.audit(session, actor="customer:email", action="email_received", target=conversation.id,
                details={"seq": message.seq, "customer_id": customer_id, "not_answered": refusal,
                         "threaded": not new_chat})
    change = Change(conversation.id, messages=(message,))
    if refusal is not None:
        return Accepted("not_answered", conversation.id, message.seq, reason=refusal, change=change)
    if in_human_phase:
        return Accepted("with_specialist", conversation.id, message.seq, change=change)
    return Accepted("answering", conversation.id, message.seq, message_id=message.id, change=change)


async def _customer_of(services: Services, email: InboundEmail) -> tuple[int | None, str | None]:
    """The customer whose address on file sent this, unless the sender is spoofed; the backend unreachable is
    a 503 (the provider delivers again later)."""
    reason = spoof_reason(email)
    if reason is not None:
        log.warning("inbound email: %s; the sender is treated as an anonymous visitor", reason)
        return None, None
    try:
        customer_id = await services.backend.find_customer_by_email(address=email.from_address,
                                                                    actor=LOOKUP_ACTOR)
        if customer_id is None:
            return None, None
        customer = await services.backend.get_customer(customer_id=customer_id, actor=LOOKUP_ACTOR)
    except BackendError as error:
        log.warning("inbound email refused for now: the billing system is unavailable (%s)", error.code)
        raise ServiceError(status_code=503, code="temporarily_unavailable",
                           message="The billing system is not reachable; deliver again later.") from error
    return customer_id, customer.get("first_name")


async def perform(*, services: Services, email: InboundEmail) -> Accepted:
    settings = services.settings
    text = redact(conversation_text(email, max_chars=settings.email_inbound_max_text_chars))
    refusal = auto_reply_reason(email, reply_domain=settings.mail_reply_domain)
    customer_id: int | None = None
    customer_name: str | None = None
    if refusal is not None:
        log.warning("inbound email from an automatic or system sender (%s): stored, never answered", refusal)
    if refusal != "own_address":  # an out-of-office reply of a customer still joins that customer's thread
        customer_id, customer_name = await _customer_of(services, email)
    try:
        accepted = await services.run(store_in_session, settings=settings, email=email, text=text,
                                      customer_id=customer_id, customer_name=customer_name, refusal=refusal)
    except IntegrityError:  # the same Message-ID delivered twice at once: the other delivery stored it
        seen = await services.run(threads.find_seen, message_id=email.message_id or "")
        if seen is None:
            raise
        return Accepted("duplicate", seen.conversation_id, seen.seq or 0)
    if accepted.change is not None:
        await notifier.publish(accepted.change, services=services)
    if accepted.outcome == "answering" and accepted.message_id is not None:
        bot_reply.start(services=services, conversation_id=accepted.conversation_id,
                        message_id=accepted.message_id, seq=accepted.seq)
    return accepted
