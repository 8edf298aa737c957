"""What every payment use case shares: the buttons and yes/no payloads, the questions a payment form lets the
rules answer, and how a write from the chat is attributed (X-Actor) and made idempotent."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Tracker

from actions.conversation import current_customer_id, user_events
from actions.forms import IDENTITY_SLOTS, STOPPING_VERIFICATION_STATUSES
from actions.identity import handoff_turn

UPDATE_CARD_BUTTON = {"title": "Update card", "payload": "/update_payment_method"}
PAY_NOW_BUTTON = {"title": "Pay now", "payload": "/pay_bill"}
SECURE_PAGE_BUTTON = {"title": "Use the secure payment page", "payload": "/update_payment_method"}
YES, NO = "/affirm", "/deny"

# Questions a customer may ask while a payment form waits for an answer: answered by the rules, not answers.
QUESTION_INTENTS = (
    "check_balance",
    "ask_due_date",
    "list_charges",
    "explain_charge",
    "explain_bill_increase",
    "payment_status",
    "how_to_pay",
    "request_human",
    "bot_challenge",
    "what_can_you_do",
    "goodbye",
    "out_of_scope",
    "share_card_number",
    "update_payment_method",
)


def bot_actor(tracker: Tracker) -> str:
    """X-Actor of a write the customer asked for in this conversation."""
    return f"bot:{tracker.sender_id}"


def idempotency_key(tracker: Tracker, *parts: Any) -> str:
    """The same conversation and the same thing confirmed give the same key: the backend does it once."""
    digest = hashlib.sha256("\x00".join([tracker.sender_id, *map(str, parts)]).encode()).hexdigest()
    return f"chat-{digest[:48]}"


def customer_message_number(tracker: Tracker) -> int:
    """How many customer messages the conversation has: one request apart from a later, identical one."""
    return len(user_events(tracker))


def payload(intent: str, **entities: str) -> str:
    return f"/{intent}{json.dumps(entities)}" if entities else f"/{intent}"


def stopped(offer: Any) -> bool:
    """A form's offer slot that says the customer has been answered already (nothing due, no usable card, an
    outage): the form asks nothing more and its submit action only tidies."""
    return isinstance(offer, dict) and bool(offer.get("stop"))


def slots_still_to_ask(domain_slots: list[str], tracker: Tracker, *, offer_slot: str) -> list[str]:
    """A payment form's required slots: none once verification stopped or `offer_slot` is stopped, the
    identity questions only while nobody is verified."""
    if tracker.get_slot("verification_status") in STOPPING_VERIFICATION_STATUSES:
        return []
    if stopped(tracker.get_slot(offer_slot)):
        return []
    if current_customer_id(tracker) is None:
        return domain_slots
    return [slot for slot in domain_slots if slot not in IDENTITY_SLOTS]


def confirmed_offer(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    offer_slot: str,
    confirmed_slot: str,
    not_done_response: str,
) -> tuple[int, dict[str, Any]] | None:
    """The customer and the offer they said an explicit yes to, in a turn the handoff service signed: only
    then does a form's submit action write. None otherwise, after `not_done_response` unless the customer has
    been told already (verification stopped, the offer stopped)."""
    offer = tracker.get_slot(offer_slot)
    if tracker.get_slot("verification_status") in STOPPING_VERIFICATION_STATUSES or stopped(offer):
        return None
    customer_id = current_customer_id(tracker)
    if (
        customer_id is None
        or not isinstance(offer, dict)
        or tracker.get_slot(confirmed_slot) is not True
        or handoff_turn(tracker) is None
    ):
        dispatcher.utter_message(response=not_done_response)
        return None
    return customer_id, offer
