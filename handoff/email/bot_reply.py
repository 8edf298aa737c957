"""The bot answers an email like a chat turn, and its answer goes back by email.

The email's stored customer message runs the same bot turn as a chat message (handoff/conversations/turns.py:
claimed once, Rasa through the authenticated handoff channel, identity from the matched customer). What the
bot then said becomes one email (template bot_reply). When the bot could not answer (Rasa unreachable or
silent, or its fallback), the email goes to the specialist queue instead: the customer is told so by email.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from handoff.conversations import escalation, store, turns
from handoff.conversations.states import State
from handoff.email import mail
from handoff.errors import ServiceError
from handoff.models import Message
from handoff.vocabulary import EscalationReason, Sender

if TYPE_CHECKING:
    from handoff.context import Services

log = logging.getLogger(__name__)
# The bot's "I could not answer that" messages (domain.yml: utter_default, utter_ask_clarification,
# utter_ask_rephrase, utter_out_of_scope, utter_fallback_handover) and the handoff service's own (turns.py).
# In chat the customer taps "Talk to a person" or a suggestion; in an email that would be one more round
# trip, so the email goes to a specialist at once (tests/handoff/unit/test_email_inbound.py checks them).
NOT_ANSWERED_OPENINGS = (
    "Sorry, I didn't quite get that.",
    "Sorry, I'm not sure I understood.",
    "OK. Could you tell me in other words",
    "Sorry, I can only help with billing",
    "I'm sorry I'm not understanding.",
    turns.SILENT_BOT_TEXT,
    turns.UNREACHABLE_BOT_TEXT,
)
PASSED_ON_TEXT = ("Thank you for your email. I've passed it to a billing specialist, who will answer you by "
                  "email.")
FALLBACK_SUMMARY = "An email the assistant could not answer."
EMAIL_DOCUMENT_PAYLOAD = "/email_document"
DOCUMENT_ID_FIELDS = {"invoice_pdf": "invoice_number", "statement_pdf": "month",
                      "credit_memo_pdf": "credit_id"}
MAX_ATTACHMENTS = 5  # the backend's limit per email


def start(*, services: Services, conversation_id: str, message_id: int, seq: int) -> asyncio.Task[bool]:
    """Runs as its own task (the webhook has answered by then), like a chat turn."""
    return services.turns.start(perform(services=services, conversation_id=conversation_id,
                                        message_id=message_id, seq=seq))


def _answer_after(session: Session, *, conversation_id: str, seq: int) -> tuple[str, list[Message]]:
    """The conversation's state and what the bot (or the service) said after the customer's message."""
    conversation = store.get_conversation(session, conversation_id=conversation_id)
    replies = []
    for message in store.messages_after(session, conversation_id=conversation_id, after_seq=seq, limit=50):
        if message.sender == Sender.CUSTOMER:
            break
        if message.sender in (Sender.BOT, Sender.SYSTEM):
            replies.append(message)
    return conversation.state, replies


def could_not_answer(replies: list[Message]) -> bool:
    return not replies or any(reply.text.startswith(NOT_ANSWERED_OPENINGS) for reply in replies)


def _document_spec(payload: str) -> dict[str, Any] | None:
    """The attachment an "Email it to me" button names (docs/contracts.md, "Documents"), else None."""
    if not payload.startswith(EMAIL_DOCUMENT_PAYLOAD):
        return None
    try:
        ref = json.loads(payload[len(EMAIL_DOCUMENT_PAYLOAD):]).get("document_ref")
    except (ValueError, AttributeError):
        return None
    kind, _, document_id = str(ref or "").partition(":")
    field = DOCUMENT_ID_FIELDS.get(kind)
    if field is None or not document_id:
        return None
    if field == "credit_id":
        return {"kind": kind, field: int(document_id)} if document_id.isdigit() else None
    return {"kind": kind, field: document_id}


def attachments_of(replies: list[Message]) -> list[dict[str, Any]]:
    """The documents the bot offered to email: in an email they are attached to the answer itself."""
    specs = []
    for reply in replies:
        for button in reply.buttons or []:
            spec = _document_spec(str(button.get("payload") or ""))
            if spec is not None and spec not in specs:
                specs.append(spec)
    return specs[:MAX_ATTACHMENTS]


def email_text(replies: list[Message]) -> str:
    """The bot's messages as one plain-text email: buttons become words to reply with, links stay links;
    "Email it to me" is not an option (the document is attached)."""
    paragraphs = []
    for reply in replies:
        lines = [reply.text.strip()] if reply.text.strip() else []
        options = [button["title"] for button in reply.buttons or [] if button.get("payload")
                   and not str(button["payload"]).startswith(EMAIL_DOCUMENT_PAYLOAD)]
        links = [f"{button['title']}: {button['url']}" for button in reply.buttons or [] if button.get("url")]
        if options:
            lines.append("You can reply with: " + " / ".join(options))
        lines.extend(links)
        if lines:
            paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


async def perform(*, services: Services, conversation_id: str, message_id: int, seq: int) -> bool:
    if not await turns.perform(services=services, conversation_id=conversation_id, message_id=message_id):
        return False  # another worker holds the turn; it answers (and this email is answered by the next try)
    state, replies = await services.run(_answer_after, conversation_id=conversation_id, seq=seq)
    if state == State.BOT and could_not_answer(replies):
        try:
            await escalation.perform(services=services, conversation_id=conversation_id,
                                     reason=EscalationReason.FALLBACK, customer_id=None,
                                     summary=FALLBACK_SUMMARY)
        except ServiceError as error:
            log.warning("email of conversation %s could not be escalated: %s", conversation_id, error.code)
        state, after = await services.run(_answer_after, conversation_id=conversation_id, seq=seq)
        # The bot's "didn't get that" is not sent: the customer hears that a person will answer.
        replies = [reply for reply in after if reply.sender == Sender.SYSTEM
                   and not reply.text.startswith(NOT_ANSWERED_OPENINGS)]
        body = "\n\n".join([PASSED_ON_TEXT, *(reply.text for reply in replies)])
    else:
        body = email_text(replies)
    if not body:
        return True
    conversation = await services.run(store.get_conversation, conversation_id=conversation_id)
    context = {"body_text": body}
    if conversation.email_subject:
        context["subject"] = conversation.email_subject
    attachments = attachments_of(replies)
    key = f"email-bot-reply:{conversation_id}:{seq}"
    for attached in ([attachments, None] if attachments else [None]):
        try:
            await mail.queue(services=services, conversation_id=conversation_id, template="bot_reply",
                             context=context, idempotency_key=key, actor=f"bot:{conversation_id}",
                             attachments=attached)
            break
        except mail.EmailNotQueued:
            # logged; without the documents (gone meanwhile) the answer still goes, its links in the text;
            # else the answer is stored in the conversation, where a specialist sees it
            continue
    return True
