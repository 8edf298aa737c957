"""Handing a conversation to a billing specialist through the handoff service, with a context package."""

import logging
from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Tracker

from actions.clients.billing import Explanation, MatchedLineItem
from actions.clients.errors import ServiceError
from actions.clients.handoff import EscalationReason, EscalationRequest, EscalationResult, HandoffClient
from actions.conversation import conversation_id, logged_in_customer_id, topics_discussed, user_events
from actions.formatting import format_money, format_wait
from actions.identity import customer_id_from_slot, handoff_turn

logger = logging.getLogger(__name__)
# utter_handoff_ticket ends with {contact}: the handoff's HANDOFF_TICKET_CONTACT sentence, else this one.
TICKET_CONTACT_FALLBACK = "A billing specialist will contact you using the details on your account."

# Never handed on: secrets of verification and bookkeeping of the dialogue engine.
PRIVATE_SLOTS = {"postal_code_or_phone", "requested_slot", "session_started_metadata", "charge_candidates"}


def filled_slots(tracker: Tracker) -> dict[str, Any]:
    slots = {
        name: value
        for name, value in sorted(tracker.slots.items())
        if value is not None and name not in PRIVATE_SLOTS
    }
    if "verified_customer_id" in slots:  # the specialist sees the id, not this server's signature
        slots["verified_customer_id"] = customer_id_from_slot(tracker)
    return slots


def build_summary(
    *,
    tracker: Tracker,
    reason: EscalationReason,
    customer_id: int | None,
    line_item: MatchedLineItem | None = None,
    currency: str = "USD",
    dispute_id: Any = None,
    dispute_reason: str | None = None,
) -> str:
    """One paragraph a specialist reads before saying hello."""
    if customer_id is None:
        who = "An unverified visitor"
    else:
        how = (
            "signed in on the website"
            if logged_in_customer_id(tracker) == customer_id
            else "verified in chat"
        )
        name = tracker.get_slot("customer_first_name")
        # no first name in the chat: "The customer", not "Customer 4" (the console shows the name on file)
        who = (f"{name} (customer {customer_id}, {how})" if name
               else f"The customer (number {customer_id}, {how})")
    if reason == "dispute" and line_item is not None:
        what = (
            f'disputes the charge "{line_item.description}" of {format_money(line_item.amount, currency)} '
            f"on invoice {line_item.invoice_number}"
        )
        if dispute_reason:
            what += f', saying: "{dispute_reason}"'
        what += f". Dispute {dispute_id} is open in the billing system." if dispute_id else "."
    elif reason == "request_human":
        what = "asked to talk to a person."
    elif reason == "fallback":
        last = user_events(tracker)[-1].get("text") if user_events(tracker) else ""
        what = f'wrote two messages in a row the bot did not understand (the last: "{last}").'
    elif reason == "arrangement_request":
        what = "asked for a payment arrangement the bot may not grant."
    elif reason == "verification_locked":
        what = (
            "failed identity verification three times, so verification is locked; identity is not confirmed."
        )
    else:
        what = "needs help, but the billing system was unavailable to the bot."
    topics = topics_discussed(tracker)
    earlier = f" Topics in this chat: {', '.join(topics)}." if topics else ""
    return f"{who} {what}{earlier}"


def queued_reply(result: EscalationResult) -> dict[str, Any]:
    """Position and wait as the handoff service states them in the widget's status banner (one source)."""
    return {"position": result.position, "wait": result.wait_text or format_wait(result.eta_seconds)}


async def escalate(
    *,
    handoff: HandoffClient,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: EscalationReason,
    customer_id: int | None,
    summary: str | None = None,
    dispute_id: Any = None,
    line_item: MatchedLineItem | None = None,
    explanation: Explanation | None = None,
) -> list[EventType]:
    """Queue the chat for a specialist and tell the customer what happens next."""
    if handoff_turn(tracker) is None:
        # Only a turn the handoff service sent (signed, this conversation) may put a conversation in the
        # queue.
        logger.warning(
            "escalation refused: conversation %s's turn has no valid identity assertion", tracker.sender_id
        )
        dispatcher.utter_message(response="utter_handoff_unavailable")
        return [SlotSet("handoff_state", "failed")]
    request = EscalationRequest(
        conversation_id=conversation_id(tracker),
        reason=reason,
        customer_id=customer_id,
        dispute_id=dispute_id,
        line_item=line_item.model_dump(mode="json") if line_item else None,
        explanation=explanation.model_dump(mode="json") if explanation else None,
        summary=summary or build_summary(tracker=tracker, reason=reason, customer_id=customer_id),
        slots=filled_slots(tracker),
    )
    try:
        result = await handoff.escalate(request)
    except ServiceError:
        logger.warning("escalation of %s failed", request.conversation_id)
        dispatcher.utter_message(response="utter_handoff_unavailable")
        return [SlotSet("handoff_state", "failed")]
    if result.state == "queued":
        reply = queued_reply(result)
        if result.position is not None:
            dispatcher.utter_message(response="utter_handoff_queued", **reply)
        else:
            dispatcher.utter_message(response="utter_handoff_queued_no_position", wait=reply["wait"])
    else:
        dispatcher.utter_message(
            response="utter_handoff_ticket",
            ticket_number=result.ticket_number or "your request",
            contact=result.contact or TICKET_CONTACT_FALLBACK,
        )
    return [SlotSet("handoff_state", result.state)]
