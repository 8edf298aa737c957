"""The rating request after a resolved conversation, by email (issue 19): an email customer never sees the
widget's 1-5 buttons, so the bot's welcome-back and rating question go out as an email (template bot_reply),
and a reply whose first line is the score ("5", "4/5", "3 stars - ok") answers it like the button would
(handoff/conversations/customer_message.record_rating: once, only for the question a resolve asked)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from handoff.conversations import store
from handoff.conversations.customer_message import record_rating
from handoff.conversations.payloads import RATING_PAYLOADS, PayloadNotOffered, offered_payload
from handoff.email import bot_reply, mail
from handoff.models import Conversation
from handoff.notifier import Change

if TYPE_CHECKING:
    from handoff.context import Services

log = logging.getLogger(__name__)
# The first line: the digit, optionally "/5", "out of 5" or "star(s)", then nothing or a comment after a dash,
# colon, comma or full stop. "5 dollars were charged twice" is not a rating.
SCORE_LINE = re.compile(
    r"^\s*([1-5])\s*(?:(?:/|out of)\s*5)?\s*(?:stars?)?\s*(?:[-\u2013\u2014:,.!]\s*.*)?$", re.IGNORECASE)


def score_payload(text: str) -> str | None:
    first = next((line for line in text.splitlines() if line.strip()), "")
    match = SCORE_LINE.match(first)
    return RATING_PAYLOADS[match.group(1)] if match else None


def rating_in_session(session: Session, *, conversation: Conversation, text: str) -> str | None:
    """The rating button's payload when this email answers the rating question a resolve asked (the score is
    recorded), else None: the email is then an ordinary message."""
    payload = score_payload(text)
    if payload is None:
        return None
    try:
        payload, question = offered_payload(session, conversation_id=conversation.id, payload=payload)
    except PayloadNotOffered:
        return None
    return payload if record_rating(conversation, payload=payload, question=question) else None


async def email_after_resolve(*, services: Services, conversation_id: str, change: Change) -> None:
    """The bot's welcome-back and rating question (the messages of `change`) by email, when the conversation
    is answered by email. Nothing is lost if the backend refuses: the messages are stored."""
    conversation = await services.run(store.get_conversation, conversation_id=conversation_id)
    if not mail.answers_by_email(conversation) or not change.messages:
        return
    body = bot_reply.email_text(list(change.messages))
    context = {"body_text": body}
    if conversation.email_subject:
        context["subject"] = conversation.email_subject
    try:
        await mail.queue(services=services, conversation_id=conversation_id, template="bot_reply",
                         context=context, actor=f"bot:{conversation_id}",
                         idempotency_key=f"email-resolved:{conversation_id}:{change.messages[0].seq}")
    except mail.EmailNotQueued:
        log.warning("the rating request of conversation %s was not emailed", conversation_id)
