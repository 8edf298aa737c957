"""A specialist's message in a conversation answered by email goes to the customer by email (template
ticket_reply), instead of (as well as) the widget socket, which an email customer never opens."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handoff.conversations import store
from handoff.email import mail
from handoff.errors import ServiceError
from handoff.models import Message
from handoff.specialists.staff import Staff

if TYPE_CHECKING:
    from handoff.context import Services


async def perform(*, services: Services, conversation_id: str, message: Message, staff: Staff) -> bool:
    """True when an email was queued (or had been: the key is the message's). The stored message stays; a
    503 tells the console the email is not queued yet, and sending the same message again (same client_id)
    queues it once."""
    conversation = await services.run(store.get_conversation, conversation_id=conversation_id)
    if not mail.answers_by_email(conversation):
        return False
    context = {"body_text": message.text, "specialist_name": staff.display_name}
    if conversation.ticket_number:
        context["ticket_number"] = conversation.ticket_number
    try:
        queued = await mail.queue(services=services, conversation_id=conversation_id, template="ticket_reply",
                                  context=context,
                                  idempotency_key=f"email-agent-reply:{conversation_id}:{message.seq}",
                                  actor=staff.actor)
    except mail.EmailNotQueued:
        raise ServiceError(status_code=503, code="email_not_sent",
                           message="Your message is saved, but the email to the customer could not be "
                                   "queued. Send it again in a moment.") from None
    return queued is not None
