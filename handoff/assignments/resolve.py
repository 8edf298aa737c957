"""The owner closes the chat: the customer is back with the bot, which is told what happened and asks for a
rating.

Two transactions with Rasa between them (never a transaction open across an HTTP call): close the human phase
and publish it; tell Rasa (tracker `bot` events for the human-phase lines, then EXTERNAL_handoff_resolved);
hand the conversation back to the bot with Rasa's answer (or, Rasa down, the service's own rating question).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from handoff import notifier
from handoff.assignments.ownership import owned_conversation
from handoff.clients.rasa import BotReply, RasaUnavailable
from handoff.conversations import store
from handoff.conversations.payloads import CSAT_BUTTONS
from handoff.conversations.states import State
from handoff.db import utcnow
from handoff.email import rating
from handoff.errors import ServiceError
from handoff.notifier import Change
from handoff.specialists.staff import Staff
from handoff.vocabulary import AssignmentEnd, ResolveOutcome, Sender

if TYPE_CHECKING:
    from handoff.context import Services

log = logging.getLogger(__name__)
RESOLVED_INTENT = "EXTERNAL_handoff_resolved"
RATING_QUESTION = ("Welcome back! How would you rate your chat with our billing team, "
                   "from 1 (poor) to 5 (excellent)?")


@dataclass(frozen=True)
class Closed:
    change: Change
    tracker_events: list[dict[str, Any]]  # the human phase, as Rasa `bot` events
    agent_name: str


def close_in_session(session: Session, *, conversation_id: str, staff: Staff, outcome: str) -> Closed:
    conversation = owned_conversation(session, conversation_id=conversation_id, staff=staff)
    before = conversation.last_seq
    owner = store.get_staff(session, user_id=conversation.assigned_specialist_id)
    agent_name = owner.display_name if owner else staff.display_name
    store.transition(session, conversation_id=conversation_id, target=State.RESOLVED, actor=staff.actor,
                     note=f"resolved: {outcome}", resolved_at=utcnow(), resolution_outcome=outcome,
                     assigned_specialist_id=None)
    store.end_assignment(session, conversation_id=conversation_id, reason=AssignmentEnd.RESOLVED)
    store.audit(session, actor=staff.actor, action="resolve", target=conversation_id,
                details={"outcome": outcome})
    store.append_message(session, conversation_id=conversation_id, sender=Sender.SYSTEM, human_phase=True,
                         text=f"{agent_name} has left the chat. You're back with the Acme assistant.")
    customer_name = conversation.customer_name or "Customer"
    events = [{
        "event": "bot", "text": line.text, "timestamp": line.created_at.timestamp(),
        "metadata": {"handoff": True, "sender": line.sender,
                     "name": line.agent_name if line.sender == Sender.AGENT else customer_name},
    } for line in store.human_phase_lines(session, conversation_id=conversation_id,
                                          from_seq=conversation.human_phase_start_seq or 1)]
    change = Change(conversation_id, since_seq=before, status_changed=True, conversation_changed=True,
                    queue_changed=True)
    return Closed(change=change, tracker_events=events, agent_name=agent_name)


def back_to_bot_in_session(session: Session, *, conversation_id: str, replies: list[BotReply]) -> Change:
    store.transition(session, conversation_id=conversation_id, target=State.BOT, actor="system",
                     note="bot takes over", human_phase_start_seq=None)
    stored = [store.append_message(session, conversation_id=conversation_id, sender=Sender.BOT,
                                   text=reply.text,
                                   buttons=reply.buttons, custom=reply.custom) for reply in replies]
    return Change(conversation_id, messages=tuple(stored), status_changed=True, conversation_changed=True)


async def _welcome_back(services: Services, *, conversation_id: str, closed: Closed,
                        outcome: str) -> list[BotReply]:
    """Rasa's answer to the resolve; the rating question if Rasa is unreachable or silent."""
    try:
        await services.rasa.append_events(conversation_id=conversation_id, events=closed.tracker_events)
        replies = await services.rasa.trigger_intent(
            conversation_id=conversation_id, name=RESOLVED_INTENT,
            entities={"handoff_outcome": outcome, "agent_name": closed.agent_name})
    except RasaUnavailable as error:
        log.warning("could not inform rasa about resolved conversation %s: %s", conversation_id, error)
        replies = []
    return replies or [BotReply(text=RATING_QUESTION, buttons=CSAT_BUTTONS)]


async def perform(*, services: Services, conversation_id: str, staff: Staff, outcome: str) -> Change:
    """Returns the last change (back with the bot)."""
    if outcome not in set(ResolveOutcome):
        raise ServiceError(status_code=422, code="bad_outcome",
                           message=f"outcome must be one of {sorted(str(known) for known in ResolveOutcome)}")
    closed = await services.run(close_in_session, conversation_id=conversation_id, staff=staff,
                                outcome=outcome)
    await notifier.publish(closed.change, services=services)
    replies = await _welcome_back(services, conversation_id=conversation_id, closed=closed, outcome=outcome)
    change = await services.run(back_to_bot_in_session, conversation_id=conversation_id, replies=replies)
    await notifier.publish(change, services=services)
    await rating.email_after_resolve(services=services, conversation_id=conversation_id, change=change)
    return change
