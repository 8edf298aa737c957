"""The bot hands a conversation to a human: queued for a specialist, or a ticket when nobody can take it now.

Called by the action server (POST /api/escalations, handoff/conversations/escalation_api.py) and by a turn
when the customer presses "Talk to a person" while Rasa is unreachable.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from handoff import notifier
from handoff.config import Settings
from handoff.conversations import store
from handoff.conversations.redaction import redact
from handoff.conversations.states import HUMAN_STATES, State
from handoff.db import utcnow
from handoff.email import outbound
from handoff.errors import ServiceError
from handoff.notifier import Change
from handoff.queue import status as queue_status
from handoff.queue.customer_name import name_waiting_customer
from handoff.queue.hours import BusinessHours, is_open, next_opening
from handoff.queue.teams import team_for_reason
from handoff.vocabulary import EscalationReason, Sender

if TYPE_CHECKING:
    from handoff.context import Services

# The status frame's own values, so the bot's message states what the widget's banner shows.
ANSWER_FIELDS = ("position", "eta_seconds", "wait_text", "ticket_number", "contact")


def parse_money(value: object) -> Decimal | None:
    """An amount as the action server sends it ("49.99", "$1,049.99", 12); floats and negatives are None."""
    if value is None or isinstance(value, float):
        return None
    try:
        amount = Decimal(str(value).replace("$", "").replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    return amount.quantize(Decimal("0.01")) if amount.is_finite() and amount >= 0 else None


def dispute_amount(*, reason: str, line_item: dict[str, Any] | None,
                   slots: dict[str, Any] | None) -> Decimal | None:
    """What a dispute is about, in dollars, for the queue's order and the settle form's default credit: the
    disputed line item's amount, else the amount the customer named. Only a dispute has one."""
    if reason != EscalationReason.DISPUTE:
        return None
    amount = parse_money(line_item.get("amount")) if line_item else None
    if amount is None and slots:
        amount = parse_money(slots.get("amount") or slots.get("MONEY"))
    return amount


@dataclass(frozen=True)
class Escalated:
    change: Change
    answer: dict[str,
                 Any]  # {"state", "position"?, "eta_seconds"?, "wait_text"?, "ticket_number"?, "contact"?}


def _goes_live(session: Session, *, settings: Settings, hours: BusinessHours) -> bool:
    """A specialist can take it now: the desk is open and someone is online (or tickets are off)."""
    now = utcnow()
    someone_online = store.online_specialist_count(
        session, now=now, timeout_seconds=settings.presence_timeout_seconds) > 0
    desk_open = is_open(hours, now=now, timezone=settings.timezone)
    return desk_open and (someone_online or not settings.ticket_when_nobody_online)


def _ticket_text(*, ticket_number: str, settings: Settings, hours: BusinessHours) -> str:
    opening = next_opening(hours, now=utcnow(), timezone=settings.timezone)
    when = (f" Our billing team is back {opening.strftime('%A at %H:%M')} ({settings.timezone})."
            if opening else " No billing specialist is online right now.")
    return f"I've opened ticket {ticket_number} for you.{when} {settings.ticket_contact}"


def escalate_in_session(session: Session, *, settings: Settings, hours: BusinessHours, conversation_id: str,
                        reason: str, context: dict[str, Any], dispute_id: int | None,
                        amount: Decimal | None) -> Change:
    conversation = store.get_conversation(session, conversation_id=conversation_id, for_update=True)
    before = conversation.last_seq
    if conversation.state in (State.RESOLVED, State.ABANDONED):
        store.transition(session, conversation_id=conversation_id, target=State.BOT, actor="system",
                         note="back to the bot before escalating")
        conversation = store.get_conversation(session, conversation_id=conversation_id)
    if conversation.state in HUMAN_STATES:
        return Change(conversation_id)  # the same escalation again (a retried request): no new queue entry
    goes_live = _goes_live(session, settings=settings, hours=hours)
    if conversation.state == State.TICKET and not goes_live:
        return Change(conversation_id)
    target = State.QUEUED if goes_live else State.TICKET
    changes: dict[str, Any] = dict(
        escalation_reason=reason, context=context, dispute_id=dispute_id, dispute_amount=amount,
        queued_at=utcnow(), human_phase_start_seq=conversation.last_seq + 1,
        escalation_count=conversation.escalation_count + 1, assigned_specialist_id=None,
        team=team_for_reason(reason).value, sla_alerted_at=None,
    )
    if target == State.TICKET:
        changes["ticket_number"] = conversation.ticket_number or store.allocate_ticket_number(session)
    store.transition(session, conversation_id=conversation_id, target=target, actor="bot",
                     note=f"escalated: {reason}", **changes)
    store.audit(session, actor="bot", action="escalate", target=conversation_id,
                details={"reason": reason, "state": target.value})
    if target == State.TICKET:
        store.append_message(session, conversation_id=conversation_id, sender=Sender.SYSTEM,
                             text=_ticket_text(
            ticket_number=changes["ticket_number"], settings=settings, hours=hours))
    return Change(conversation_id, since_seq=before, status_changed=True, queue_changed=True, new_chat=True)


async def perform(*, services: Services, conversation_id: str, reason: str, customer_id: int | None,
                  summary: str,
                  dispute_id: int | None = None, line_item: dict[str, Any] | None = None,
                  explanation: object = None, slots: dict[str, Any] | None = None) -> Escalated:
    """Queue (or ticket) the conversation; escalating one already waiting or assigned changes nothing and
    answers its current status."""
    if reason not in set(EscalationReason):
        known = sorted(str(member) for member in EscalationReason)
        raise ServiceError(status_code=422, code="bad_reason", message=f"reason must be one of {known}")
    context = {"reason": reason, "summary": redact(summary or ""), "slots": slots or {},
               "dispute_id": dispute_id, "line_item": line_item, "explanation": explanation,
               "customer_id": customer_id}
    # first: the queue then shows the verified customer by name
    await name_waiting_customer(services=services, conversation_id=conversation_id, customer_id=customer_id,
                                slots=slots)
    try:
        change = await services.run(
            escalate_in_session, settings=services.settings, hours=services.hours,
            conversation_id=conversation_id,
            reason=reason, context=context, dispute_id=dispute_id,
            amount=dispute_amount(reason=reason, line_item=line_item, slots=slots))
    except store.ConversationNotFound:
        raise ServiceError(status_code=404, code="conversation_not_found",
                           message="No conversation with that id.") from None
    await notifier.publish(change, services=services)  # first: consoles see the new chat as soon as can be
    if change.status_changed:  # it just became a ticket: the customer also gets the number by email
        await outbound.acknowledge_ticket(services=services, conversation_id=conversation_id)
    status = await queue_status.status(services=services, conversation_id=conversation_id)
    answer = {"state": status["state"]} | {key: status[key] for key in ANSWER_FIELDS if key in status}
    return Escalated(change=change, answer=answer)
