"""Reading the tracker: who the customer is, which message is being answered, what happened so far."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Tracker

from actions.identity import customer_id_from_slot, handoff_turn

# Intents answered from the customer's account (they need a verified identity first).
ACCOUNT_INTENTS = (
    "check_balance",
    "ask_due_date",
    "list_charges",
    "explain_charge",
    "explain_bill_increase",
    "payment_status",
    "dispute_charge",
)
TOPIC_NAMES = {
    "check_balance": "their balance",
    "ask_due_date": "the due date",
    "list_charges": "the charges on their bill",
    "explain_charge": "a specific charge",
    "explain_bill_increase": "why the bill went up",
    "payment_status": "a payment's status",
    "how_to_pay": "how to pay",
    "dispute_charge": "disputing a charge",
}
# Answers to "Did you mean ...?" that say "none of those" ("Something else" sends /deny).
CLARIFICATION_REFUSALS = ("deny",)


@dataclass(frozen=True)
class CustomerTurn:
    """One customer message: what the bot is answering (not always the latest message)."""

    intent: str | None
    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_parse_data(cls, parse_data: dict[str, Any] | None) -> "CustomerTurn":
        parse_data = parse_data or {}
        intent = (parse_data.get("intent") or {}).get("name")
        return cls(
            intent=intent, text=parse_data.get("text") or "", entities=list(parse_data.get("entities") or [])
        )

    def entity_values(self, *names: str) -> list[str]:
        wanted = set(names)
        return [
            str(entity["value"])
            for entity in self.entities
            if entity.get("entity") in wanted and entity.get("value") is not None
        ]

    def first_entity(self, *names: str) -> str | None:
        values = self.entity_values(*names)
        return values[0] if values else None


def latest_turn(tracker: Tracker) -> CustomerTurn:
    turn = CustomerTurn.from_parse_data(tracker.latest_message)
    earlier = clarified_turn(tracker)
    if earlier is None:
        return turn
    # a tapped "Did you mean ...?" button: its intent, with the words of the message it clarifies
    return CustomerTurn(intent=turn.intent, text=earlier.text, entities=turn.entities or earlier.entities)


def user_events(tracker: Tracker) -> list[dict[str, Any]]:
    return [event for event in tracker.events if event.get("event") == "user"]


def latest_turn_where(tracker: Tracker, wanted: Callable[[CustomerTurn], bool]) -> CustomerTurn | None:
    """The newest customer message `wanted` accepts (e.g. the question asked before verifying)."""
    for event in reversed(user_events(tracker)):
        turn = CustomerTurn.from_parse_data({**(event.get("parse_data") or {}), "text": event.get("text")})
        if wanted(turn):
            return turn
    return None


def current_customer_id(tracker: Tracker) -> int | None:
    """Contract: the customer of the handoff service's signed assertion for this conversation (signed in on
    the website), else the conversation-bound slot only the verification form sets. Never a bare metadata
    customer_id, a number typed by the customer or the sender id (actions/identity.py)."""
    from_login = logged_in_customer_id(tracker)
    if from_login is not None:
        return from_login
    return customer_id_from_slot(tracker)


def verified_customer_or_ask(dispatcher: CollectingDispatcher, tracker: Tracker) -> int | None:
    """The current customer (current_customer_id); when there is none, tells the customer that verifying comes
    first (utter_need_verification) and answers None: the caller then returns without events."""
    customer_id = current_customer_id(tracker)
    if customer_id is None:
        dispatcher.utter_message(response="utter_need_verification")
    return customer_id


def logged_in_customer_id(tracker: Tracker) -> int | None:
    turn = handoff_turn(tracker)
    return turn.customer_id if turn is not None else None


def conversation_id(tracker: Tracker) -> str:
    """The tracker's sender id: the conversation the identity assertion and the verified slot are bound to."""
    return tracker.sender_id


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the newest customer messages in a row were not understood (nlu_fallback).

    A "no" / "Something else" answer to the bot's "Did you mean ...?" neither counts nor breaks the run:
    the message after it is the customer's second try at the same question."""
    count = 0
    action_before: dict[int, str | None] = {}
    last_action: str | None = None
    for index, event in enumerate(tracker.events):
        if event.get("event") == "action" and event.get("name") != "action_listen":
            last_action = event.get("name")
        elif event.get("event") == "user":
            action_before[index] = last_action
    for index in sorted(action_before, reverse=True):
        intent = _intent_name(tracker.events[index])
        if intent == "nlu_fallback":
            count += 1
        elif intent in CLARIFICATION_REFUSALS and action_before[index] == "action_handle_fallback":
            continue
        else:
            break
    return count


def _intent_name(event: dict[str, Any]) -> str | None:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def clarified_turn(tracker: Tracker) -> CustomerTurn | None:
    """The misunderstood message a tapped "Did you mean ...?" button answers, if the latest message is one.

    The button carries only the intent and entities; the answer still needs the customer's own words."""
    latest = tracker.latest_message or {}
    if not str(latest.get("text") or "").startswith("/"):
        return None
    users = user_events(tracker)
    if len(users) < 2 or _intent_name(users[-2]) != "nlu_fallback":
        return None
    earlier = users[-2]
    return CustomerTurn.from_parse_data({**(earlier.get("parse_data") or {}), "text": earlier.get("text")})


def bot_responses_since_previous_user_message(tracker: Tracker) -> list[str]:
    """Response names the bot uttered between the previous customer message and the latest one."""
    names: list[str] = []
    seen_users = 0
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            seen_users += 1
            if seen_users == 2:
                break
        elif kind == "bot" and seen_users == 1:
            name = (event.get("metadata") or {}).get("utter_action")
            if name:
                names.append(name)
    return names


def topics_discussed(tracker: Tracker) -> list[str]:
    topics: list[str] = []
    for event in user_events(tracker):
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        topic = TOPIC_NAMES.get(intent or "")
        if topic and topic not in topics:
            topics.append(topic)
    return topics
