"""A customer's message arrives: redacted, stored once (by client_id), a rating recorded, shown to the others.

Whether the bot then answers it is handoff/conversations/turns.py's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handoff import notifier
from handoff.conversations import store, turns
from handoff.conversations.input_limits import MAX_PAYLOAD_CHARS
from handoff.conversations.payloads import offered_payload, parse_csat, typed_rating
from handoff.conversations.redaction import redact
from handoff.conversations.states import HUMAN_STATES
from handoff.errors import StorageUnavailable
from handoff.models import Conversation, Message
from handoff.notifier import Change
from handoff.vocabulary import Sender

if TYPE_CHECKING:
    from handoff.context import Services

MAX_TEXT_CHARS = 4000


@dataclass(frozen=True)
class StoredCustomerMessage:
    message: Message
    created: bool  # False: a resend of a message stored before (acked again with its seq)
    change: Change
    claim: turns.Claim | None = None  # its bot turn, claimed in the same transaction (claim_turn=True)


def record_rating(conversation: Conversation, *, payload: str | None, question: Message | None) -> bool:
    """A rating counts once per conversation, and only as the answer to the question a resolve asked (a chat's
    button, or an email's reply with the score: handoff/email/rating.py). True when this one counted."""
    asked_by_a_resolve = (question is not None and conversation.resolved_at is not None
                          and question.created_at >= conversation.resolved_at)
    score = parse_csat(payload) if asked_by_a_resolve and conversation.csat_score is None else None
    if score is not None:
        conversation.csat_score = score
    return score is not None


def store_in_session(session: Session, *, conversation_id: str, client_id: str, text: str,
                     payload: str | None, claimant: str | None = None) -> StoredCustomerMessage:
    conversation, existing = store.conversation_and_client_message(session, conversation_id=conversation_id,
                                                                   client_id=client_id)
    if existing is not None:
        return StoredCustomerMessage(existing, False, Change(conversation_id))
    question = None
    in_human_phase = conversation.state in HUMAN_STATES
    if payload is not None:
        payload, question = offered_payload(session, conversation_id=conversation_id, payload=payload)
    elif not in_human_phase and (typed := typed_rating(session, conversation_id=conversation_id,
                                                       text=text)) is not None:
        payload, question = typed  # a rating typed instead of tapped (contracts.md)
    message = store.append_message(
        session, conversation_id=conversation_id, sender=Sender.CUSTOMER, text=text, client_id=client_id,
        payload=payload, processed=in_human_phase, human_phase=in_human_phase,
    )
    record_rating(conversation, payload=payload, question=question)
    claim = None
    if claimant is not None and not in_human_phase:
        claim = turns.claim_stored_message(session, conversation=conversation, message=message,
                                           claimant=claimant)
    return StoredCustomerMessage(message, True, Change(conversation_id, messages=(message,)), claim)


async def perform(*, services: Services, conversation_id: str, client_id: str, text: str,
                  payload: str | None, claim_turn: bool = False) -> StoredCustomerMessage:
    """Redact and store; a resend returns the stored message. `claim_turn`: in the same transaction, claim
    the new message's bot turn if it is the conversation's next (`claim`; the caller runs it at once).

    A payload is stored only as offered (payloads.offered_payload), so it holds nothing the customer wrote:
    PayloadNotOffered refuses any other, and nothing is stored. StorageUnavailable names the client_id."""
    clean_text = redact(text.strip())[:MAX_TEXT_CHARS]
    clean_payload = payload.strip()[:MAX_PAYLOAD_CHARS + 1] if payload else None
    try:
        stored = await services.run(store_in_session, conversation_id=conversation_id, client_id=client_id,
                                    text=clean_text, payload=clean_payload,
                                    claimant=turns.new_claimant() if claim_turn else None)
    except IntegrityError:  # the same client_id raced in on another connection
        message = await services.run(store.find_message_by_client_id, conversation_id=conversation_id,
                                     client_id=client_id)
        if message is None:
            raise
        stored = StoredCustomerMessage(message, False, Change(conversation_id))
    except StorageUnavailable as error:
        error.client_id = client_id
        raise
    await notifier.publish(stored.change, services=services)
    return stored
