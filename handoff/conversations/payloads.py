"""What a customer may send besides text: a button of the current question, an entity-free intent, a rating.

Typed text is never an intent; payloads come only from what was offered (handoff/README.md, contracts.md).
"""

from __future__ import annotations

import json
import re

from sqlalchemy.orm import Session

from handoff.conversations import store
from handoff.conversations.input_limits import MAX_PAYLOAD_CHARS
from handoff.errors import ServiceError
from handoff.models import Message

HUMAN_REQUEST_PAYLOAD = "/handoff_human"  # handled by this service (escalates), never sent to Rasa
RATE_CHAT_PAYLOAD = re.compile(r'^/rate_chat(\{.*\})?$')
CSAT_BUTTONS = [{"title": str(n), "payload": f'/rate_chat{{"csat_score":"{n}"}}'} for n in range(1, 6)]
# Entity-free intents a customer may send as a payload without a button: what they could type anyway
# (docs/contracts.md). Entities, ratings and EXTERNAL_* come only from a button of the current question.
CUSTOMER_INTENTS = frozenset({
    "check_balance", "ask_due_date", "list_charges", "explain_charge", "explain_bill_increase",
    "payment_status",
    "how_to_pay", "dispute_charge", "request_human", "greet", "goodbye", "thank", "affirm", "deny",
    "bot_challenge", "what_can_you_do",
})
_ENTITY_FREE_PAYLOAD = re.compile(r"^/([a-z_]{1,64})$")
_LEADING_SLASHES = re.compile(r"^[\s/]+")


class PayloadNotOffered(ServiceError):
    """A customer payload that is neither a button of the current question nor an allowed customer intent."""

    def __init__(self) -> None:
        super().__init__(status_code=422, code="payload_not_offered",
                         message="That option isn't available any more. Please type your question, "
                                 "or choose one of the latest options.")


def parse_csat(payload: str | None) -> int | None:
    """The score of a rating payload: an integer 1-5, as a whole number or its digit ("5.9", true -> None)."""
    match = RATE_CHAT_PAYLOAD.match(payload or "")
    if not match or not match.group(1) or len(match.string) > MAX_PAYLOAD_CHARS:
        return None
    try:
        entities = json.loads(match.group(1))
    except (ValueError, RecursionError):
        return None
    score = entities.get("csat_score") if isinstance(entities, dict) else None
    if isinstance(score, str) and score in {"1", "2", "3", "4", "5"}:
        return int(score)
    return score if type(score) is int and 1 <= score <= 5 else None


def text_for_the_bot(text: str) -> str:
    """Typed text is never an intent: Rasa reads a message starting with `/` as one, so those slashes go."""
    return _LEADING_SLASHES.sub("", text) or "…"


# A score's button payload by its title ("1".."5"); email scores go through it too (email/rating.py).
RATING_PAYLOADS = {button["title"]: button["payload"] for button in CSAT_BUTTONS}
_TYPED_RATING = re.compile(r"^\s*([1-5])\s*(?:/\s*5|out of 5|stars?)?\s*[.!]*\s*$", re.IGNORECASE)


def typed_rating(session: Session, *, conversation_id: str, text: str) -> tuple[str, Message | None] | None:
    """A score typed as the answer to an open rating question ("5", "4/5", "4 out of 5", "4 stars"): the
    score's button payload, as offered_payload gives it, with the question; None for anything else. The text
    is matched first, so other messages cost no query (bench/results/handoff_per_message.md)."""
    rating = _TYPED_RATING.match(text)
    if rating is None:
        return None
    try:
        return offered_payload(session, conversation_id=conversation_id,
                               payload=RATING_PAYLOADS[rating.group(1)])
    except PayloadNotOffered:
        return None


def offered_payload(session: Session, *, conversation_id: str, payload: str) -> tuple[str, Message | None]:
    """The payload as offered (a button of a current question, or an allowed customer intent) and the
    question it answers (None for an intent). Raises PayloadNotOffered for anything else."""
    for question in store.current_questions(session, conversation_id=conversation_id):
        for button in question.buttons or []:
            if isinstance(button, dict) and button.get("payload") == payload:
                return button["payload"], question
    intent = _ENTITY_FREE_PAYLOAD.match(payload)
    if intent and intent.group(1) in CUSTOMER_INTENTS:
        return payload, None
    raise PayloadNotOffered()
