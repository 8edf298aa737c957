"""Actions that steer the conversation: after verification, after the dispute form, escalation, fallback,
CSAT."""

import json
import logging
from typing import Any

from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions.account_check_offer import offer_fix
from actions.answers import ANSWERS_BY_INTENT, ActionExplainCharge, asks_about_the_account
from actions.base import (
    AnswerContext,
    UsesAccountCheck,
    UsesServices,
    account_currency,
    asks_for_a_person,
    utter_backend_unavailable,
)
from actions.charges import WAIVER_OFFERED, charge_buttons, line_referred_back_to, waiver_button
from actions.clients.billing import BillingClient, Invoice, MatchedLineItem
from actions.clients.errors import Conflict, NotFound, ServiceError
from actions.conversation import (
    CustomerTurn,
    bot_responses_since_previous_user_message,
    consecutive_fallbacks,
    conversation_id,
    current_customer_id,
    latest_turn,
    latest_turn_where,
    logged_in_customer_id,
)
from actions.escalation import build_summary, escalate
from actions.formatting import format_money
from actions.forms import STOPPING_VERIFICATION_STATUSES
from actions.identity import handoff_turn, signed_in_slots
from actions.own_account import refused_other_account

logger = logging.getLogger(__name__)

VERIFICATION_SLOTS = ("verification_status", "account_number", "postal_code_or_phone")
DISPUTE_SLOTS = (
    "dispute_line_item_id", "dispute_reason", "dispute_confirmed", "dispute_charge_label", "charge_candidates"
)
FALLBACKS_BEFORE_ESCALATION = 2
# "Did you mean ...?": what each intent is called on its button, in the customer's words. Tapping one is a
# request, never a yes: a payment, a setting or an arrangement is still stated and confirmed after it.
CLARIFICATION_TITLES = {
    "check_balance": "Check my balance",
    "ask_due_date": "When my bill is due",
    "list_charges": "List the charges on my bill",
    "explain_charge": "Explain a charge",
    "explain_bill_increase": "Why my bill went up",
    "payment_status": "Check on a payment",
    "how_to_pay": "Ways to pay",
    "dispute_charge": "Dispute a charge",
    "request_human": "Talk to a person",
    "pay_bill": "Pay my bill now",
    "update_payment_method": "Change my card or bank details",
    "change_autopay": "Turn autopay on or off",
    "change_paperless": "Paperless billing on or off",
    "promise_to_pay": "Promise to pay by a date",
    "request_payment_plan": "Pay in instalments",
    "request_fee_waiver": "Waive a late fee",
    "request_document": "A copy of a bill or statement",
    "email_document": "Email me a bill or statement",
    "what_can_you_do": "What you can help with",
}
# The domain's other intents, never offered, and why (tests/actions/test_clarification.py: every intent of
# domain.yml is in exactly one of the two, so a new intent needs a title or a reason).
NEVER_OFFERED = {
    "inform": "an answer to the bot's question (an amount, a date, a charge): on its own it asks nothing",
    "affirm": "a yes: a button must never say yes to a payment or an arrangement for the customer",
    "deny": "a no: it is the 'Something else' button already",
    "greet": "small talk answered with a fixed line: asking 'did you mean hello?' helps nobody",
    "goodbye": "small talk answered with a fixed line: asking 'did you mean goodbye?' helps nobody",
    "thank": "small talk answered with a fixed line: asking 'did you mean thanks?' helps nobody",
    "bot_challenge": "small talk answered with one fixed line; 'Talk to a person' serves who wants a human",
    "out_of_scope": "not a request the bot serves: an unsure off-topic guess gets the out-of-scope answer",
    "rate_chat": "only the rating buttons after a specialist resolved the chat (the handoff refuses others)",
    "share_card_number": "a message holding a card number (masked): nothing to choose; the secure page is "
    "offered under update_payment_method's title",
    "EXTERNAL_handoff_resolved": "sent by the handoff service only",
    "EXTERNAL_payment_page_completed": "sent by the handoff service only",
}
CLARIFICATION_CANDIDATES = 3  # look at the NLU's top three guesses at most
MIN_CANDIDATE_CONFIDENCE = 0.1
# An unsure "out_of_scope" guess is answered as off-topic unless a billing intent is about as likely
# (the FallbackClassifier's ambiguity_threshold).
OUT_OF_SCOPE_MARGIN = 0.1
# Below this a typed request for a person with no words asking for one is checked with "Did you mean ...?"
# (requests in words parse at 0.9 and more; a story about a charge that was taken for one, at 0.43).
SURE_REQUEST_FOR_A_PERSON = 0.6
SOMETHING_ELSE_BUTTON = {"title": "Something else", "payload": "/deny"}
PASSED_ON_ENTITIES = ("MONEY", "DATE", "invoice_number", "charge_name")
MAX_PAYLOAD_CHARS = 500  # the handoff service drops longer button payloads (docs/contracts.md)
# Built here, not in domain.yml: Rasa would try to fill the JSON braces of the payload as placeholders.
CSAT_BUTTONS = [
    {"title": str(score), "payload": f'/rate_chat{{"csat_score":"{score}"}}'} for score in range(1, 6)
]


def _reset(*slots: str) -> list[EventType]:
    return [SlotSet(slot, None) for slot in slots]


async def _after_stopped_verification(
    services: UsesServices, dispatcher: CollectingDispatcher, tracker: Tracker, *also_reset: str
) -> list[EventType]:
    """A form's verification stopped: locked hands the chat to a person; after an outage the apology and the
    offer of a person were given when the backend failed. Either way the identity answers are forgotten."""
    events: list[EventType] = []
    if tracker.get_slot("verification_status") == "locked":
        events = await escalate(
            handoff=services.handoff,
            dispatcher=dispatcher,
            tracker=tracker,
            reason="verification_locked",
            customer_id=None,
        )
    return events + _reset(*VERIFICATION_SLOTS, *also_reset)


def _signed_in_not_yet_marked(tracker: Tracker) -> list[EventType]:
    """A signed-in customer whose session started without the handoff's assertion (Rasa started it for the
    handoff's append_events / trigger_intent after a human phase): the form asked nothing because this turn's
    assertion names the customer; from now on the session knows them as action_session_start would have."""
    customer_id = logged_in_customer_id(tracker)
    if customer_id is None or tracker.get_slot("identity_verified") is True:
        return []
    slots = signed_in_slots(customer_id, conversation_id=tracker.sender_id)
    return [SlotSet(name, value) for name, value in slots.items()]


class ActionAnswerAfterVerification(UsesAccountCheck, Action):
    """Runs when verify_identity_form ends: answers the question asked before it (after the account check's
    offer, actions/account_check_offer.py), or hands over when locked."""

    def name(self) -> str:
        return "action_answer_after_verification"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("verification_status") in STOPPING_VERIFICATION_STATUSES:
            return await _after_stopped_verification(self, dispatcher, tracker)
        if current_customer_id(tracker) is None:
            dispatcher.utter_message(response="utter_need_verification")
            return []
        offer = await offer_fix(self.account_check, dispatcher, tracker)
        checked = _signed_in_not_yet_marked(tracker) + [SlotSet(name, value) for name, value in offer.items()]
        turn = latest_turn_where(tracker, asks_about_the_account)
        answer_class = ANSWERS_BY_INTENT.get(turn.intent or "") if turn is not None else None
        if turn is None or answer_class is None:
            dispatcher.utter_message(response="utter_how_can_i_help")
            return checked
        answer_action = answer_class(billing=self.billing, handoff=self._handoff)
        return checked + await answer_action.answer_turn(dispatcher, tracker, turn)


class ActionSubmitDispute(UsesServices, Action):
    """Runs when dispute_form ends: opens the dispute and hands the chat to the specialist queue."""

    def name(self) -> str:
        return "action_submit_dispute"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("verification_status") in STOPPING_VERIFICATION_STATUSES:
            return await _after_stopped_verification(self, dispatcher, tracker, *DISPUTE_SLOTS)
        customer_id = current_customer_id(tracker)
        credit = tracker.get_slot("charge_candidates") or {}
        if customer_id is not None and credit.get("match") == "waivable":
            offer_waiver_instead(dispatcher, credit, currency=tracker.get_slot("account_currency") or "USD")
            return _reset(*DISPUTE_SLOTS)
        if customer_id is not None and credit.get("match") == "credit":
            # the customer named a credit (money off the bill): explained, there is nothing to dispute
            turn = CustomerTurn(
                intent="explain_charge",
                text="",
                entities=[{"entity": "line_item_id", "value": credit.get("line_item_id")}],
            )
            events = await ActionExplainCharge(billing=self.billing).answer_turn(dispatcher, tracker, turn)
            return events + _reset(*DISPUTE_SLOTS)
        line_item_id = tracker.get_slot("dispute_line_item_id")
        # a dispute is written only in a turn the handoff service sent (actions/identity.py)
        if customer_id is None or line_item_id is None or handoff_turn(tracker) is None:
            dispatcher.utter_message(response="utter_dispute_cancelled")
            return _reset(*DISPUTE_SLOTS)
        if tracker.get_slot("dispute_confirmed") is not True:
            dispatcher.utter_message(response="utter_dispute_cancelled")
            return _reset(*DISPUTE_SLOTS)
        reason = tracker.get_slot("dispute_reason") or ""
        try:
            explanation = await self.billing.explain_line_item(
                customer_id=customer_id, line_item_id=line_item_id
            )
            line_item = MatchedLineItem(
                **explanation.line_item.model_dump(), invoice_number=explanation.invoice_number
            )
            currency = await account_currency(self.billing, tracker, customer_id=customer_id)
            try:
                dispute = await self.billing.open_dispute(
                    customer_id=customer_id,
                    line_item_id=line_item.id,
                    reason=reason,
                    conversation_id=conversation_id(tracker),
                )
                dispute_id: int | str | None = dispute.id
                dispatcher.utter_message(
                    response="utter_dispute_opened",
                    dispute_id=dispute_id,
                    charge=tracker.get_slot("dispute_charge_label") or line_item.description,
                )
            except Conflict:
                existing = [
                    d
                    for d in await self.billing.list_disputes(customer_id=customer_id)
                    if str(d.line_item_id) == str(line_item.id) and d.status in ("open", "under_review")
                ]
                dispute_id = existing[0].id if existing else None
                dispatcher.utter_message(response="utter_dispute_already_open", dispute_id=dispute_id or "")
        except NotFound:
            dispatcher.utter_message(response="utter_not_found")
            return _reset(*DISPUTE_SLOTS)
        except ServiceError:
            utter_backend_unavailable(dispatcher)
            return _reset(*DISPUTE_SLOTS)
        summary = build_summary(
            tracker=tracker, reason="dispute", customer_id=customer_id, line_item=line_item,
            currency=currency, dispute_id=dispute_id, dispute_reason=reason,
        )
        events = await escalate(
            handoff=self.handoff, dispatcher=dispatcher, tracker=tracker, reason="dispute",
            customer_id=customer_id, summary=summary, dispute_id=dispute_id,
            line_item=line_item, explanation=explanation,
        )
        return [SlotSet("dispute_id", dispute_id), *events, *_reset(*DISPUTE_SLOTS)]


def offer_waiver_instead(
    dispatcher: CollectingDispatcher, waivable: dict[str, Any], *, currency: str
) -> None:
    """A late fee the customer may have waived once: the waiver first ("Yes, waive" starts arrangement_form
    with the fee's line item, the yes to these terms), or "No, open a dispute" back to dispute_form (the offer
    is not made twice in a conversation: actions/forms.py waiver_offered)."""
    line_item_id = waivable["line_item_id"]
    dispatcher.utter_message(
        response=WAIVER_OFFERED,
        amount=format_money(waivable["amount"], currency),
        invoice_number=waivable.get("invoice_number") or "your latest bill",
        buttons=[
            waiver_button(line_item_id=line_item_id, amount=waivable["amount"], currency=currency),
            {
                "title": "No, open a dispute",
                "payload": f"/dispute_charge{json.dumps({'line_item_id': str(line_item_id)})}",
            },
        ],
    )


class ActionEscalateToHuman(UsesServices, Action):
    """The customer asked for a person (also the "Talk to a person" button after a backend failure)."""

    def name(self) -> str:
        return "action_escalate_to_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if not asks_for_a_person(latest_turn(tracker).text):
            # taken for a request for a person, but written about another account: refused, not queued
            refused = await refused_for_another_account(self.billing, dispatcher, tracker)
            if refused is not None:
                return refused
        if unsure_request_for_a_person(tracker):
            # a specialist's time and the customer's wait on a guess: ask first ("Talk to a person" offered)
            candidates = clarification_candidates(intent_ranking(tracker))
            if candidates:
                ask_what_was_meant(dispatcher, tracker, candidates)
                return []
        after_outage = "utter_backend_unavailable" in bot_responses_since_previous_user_message(tracker)
        return await escalate(
            handoff=self.handoff,
            dispatcher=dispatcher,
            tracker=tracker,
            reason="backend_unavailable" if after_outage else "request_human",
            customer_id=current_customer_id(tracker),
        )


async def refused_for_another_account(
    billing: BillingClient, dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[EventType] | None:
    """A known customer's message that names another account number ("could you look up ACC-100002 for my
    flatmate?") gets the same plain refusal as a recognised question, whatever the NLU guessed (unsure, or a
    request for a person the customer never wrote); the events, or None when nothing was refused."""
    customer_id = current_customer_id(tracker)
    if customer_id is None:
        return None
    context = AnswerContext(dispatcher, tracker, customer_id, latest_turn(tracker), billing)
    try:
        refused = await refused_other_account(context)
    except ServiceError:
        return None  # the caller's own answer still helps; the backend's state is told by what follows
    return context.events if refused else None


class ActionHandleFallback(UsesServices, Action):
    """A message the NLU was unsure about (nlu_fallback).

    First miss: "Did you mean ...?" with a button per likely billing intent and "Something else"; an
    unsure guess that is most likely off-topic gets the out-of-scope answer; nothing likely: ask to
    rephrase. A message that asks for a person in words (asks_for_a_person) is handed over. Second miss
    in a row (a "Something else" in between does not reset it): hand over to a person.
    """

    def name(self) -> str:
        return "action_handle_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if consecutive_fallbacks(tracker) >= FALLBACKS_BEFORE_ESCALATION:
            dispatcher.utter_message(response="utter_fallback_handover")
            events = await escalate(
                handoff=self.handoff,
                dispatcher=dispatcher,
                tracker=tracker,
                reason="fallback",
                customer_id=current_customer_id(tracker),
            )
            if tracker.active_loop.get("name"):
                # a person takes over: the form must not ask its question again after the handover message
                events += [ActiveLoop(None), SlotSet("requested_slot", None), FollowupAction("action_listen")]
            return events
        if tracker.active_loop.get("name"):
            # inside a form the form asks its own question next; suggestions would compete with it
            dispatcher.utter_message(response="utter_default")
            return []
        refused = await refused_for_another_account(self.billing, dispatcher, tracker)
        if refused is not None:
            return refused
        if asks_for_a_person(latest_turn(tracker).text):
            # "call me back": the NLU was unsure, the words are not; a person, not "did you mean ...?"
            return await escalate(handoff=self.handoff, dispatcher=dispatcher, tracker=tracker,
                                  reason="request_human", customer_id=current_customer_id(tracker))
        ranking = intent_ranking(tracker)
        candidates = clarification_candidates(ranking)
        pointed = await self.line_pointed_back_at(tracker)
        if pointed is not None:
            # "... there's an extra 25 on this one. What exactly is that for?": the story named one line of
            # the bill, so explaining that line is the first suggestion, whatever the NLU made of the story
            others = [candidate for candidate in candidates if candidate[0] != "explain_charge"]
            ask_what_was_meant(dispatcher, tracker, others[:CLARIFICATION_CANDIDATES - 1],
                               first=explain_line_button(*pointed))
            return []
        if (
            ranking
            and ranking[0][0] == "out_of_scope"
            and (not candidates or ranking[0][1] - candidates[0][1] > OUT_OF_SCOPE_MARGIN)
        ):
            dispatcher.utter_message(response="utter_out_of_scope")
            return []
        if not candidates:
            dispatcher.utter_message(response="utter_default")
            return []
        ask_what_was_meant(dispatcher, tracker, candidates)
        return []

    async def line_pointed_back_at(self, tracker: Tracker) -> tuple[MatchedLineItem, Invoice] | None:
        """For a known customer, the bill line a story's closing question points back at
        (line_referred_back_to); None when there is none or the backend cannot tell (usual suggestions)."""
        customer_id = current_customer_id(tracker)
        if customer_id is None:
            return None
        try:
            return await line_referred_back_to(self.billing, customer_id=customer_id,
                                               text=latest_turn(tracker).text)
        except ServiceError:
            return None


def explain_line_button(line: MatchedLineItem, invoice: Invoice) -> dict[str, str]:
    """"Explain: Late fee · $25.00": the line's own explanation (its id in the payload, as charge buttons)."""
    button = charge_buttons([line], currency=invoice.currency, intent="explain_charge")[0]
    return {**button, "title": f"Explain: {button['title']}"}


def intent_ranking(tracker: Tracker) -> list[tuple[str, float]]:
    """The NLU's guesses for the latest message, most likely first (the fallback's own entry left out)."""
    return [
        (intent.get("name"), float(intent.get("confidence") or 0))
        for intent in (tracker.latest_message.get("intent_ranking") or [])
        if intent.get("name") != "nlu_fallback"
    ]


def ask_what_was_meant(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    candidates: list[tuple[str, float]],
    first: dict[str, str] | None = None,
) -> None:
    """"Did you mean ...?": `first` if given, a button per candidate (with the message's entities), then
    "Something else"."""
    entities = latest_turn(tracker).entities
    dispatcher.utter_message(
        response="utter_ask_clarification",
        buttons=[*([first] if first else []),
                 *(clarification_button(intent, entities) for intent, _ in candidates),
                 SOMETHING_ELSE_BUTTON],
    )


def unsure_request_for_a_person(tracker: Tracker) -> bool:
    """A typed message the NLU only half took for a request for a person, with no words asking for one (a
    long story about a charge that mentions "words with her")."""
    turn = latest_turn(tracker)
    if turn.text.startswith("/") or asks_for_a_person(turn.text):
        return False
    confidence = float((tracker.latest_message.get("intent") or {}).get("confidence") or 0)
    return turn.intent == "request_human" and confidence < SURE_REQUEST_FOR_A_PERSON


def clarification_candidates(ranking: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """The intents worth offering (CLARIFICATION_TITLES): among the NLU's top guesses, likely enough to be
    meant."""
    return [
        (intent, confidence)
        for intent, confidence in ranking[:CLARIFICATION_CANDIDATES]
        if intent in CLARIFICATION_TITLES and confidence >= MIN_CANDIDATE_CONFIDENCE
    ]


def clarification_button(intent: str, entities: list[dict[str, Any]]) -> dict[str, str]:
    """Tapping it is the same as the intent being recognised, with the entities of the unclear message."""
    values: dict[str, str] = {}
    for entity in entities:
        name, value = entity.get("entity"), entity.get("value")
        if name in PASSED_ON_ENTITIES and value is not None and name not in values:
            values[name] = str(value)
    payload = f"/{intent}{json.dumps(values)}" if values else f"/{intent}"
    if len(payload) > MAX_PAYLOAD_CHARS:
        payload = f"/{intent}"
    return {"title": CLARIFICATION_TITLES[intent], "payload": payload}


class ActionHandoffResolved(Action):
    """EXTERNAL_handoff_resolved from the handoff service: welcome back and ask for a rating."""

    def name(self) -> str:
        return "action_handoff_resolved"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        turn = latest_turn(tracker)
        agent_name = turn.first_entity("agent_name")
        outcome = turn.first_entity("handoff_outcome")
        if agent_name:
            dispatcher.utter_message(response="utter_welcome_back_from_agent", agent_name=agent_name)
        else:
            dispatcher.utter_message(response="utter_welcome_back")
        dispatcher.utter_message(response="utter_ask_csat", buttons=CSAT_BUTTONS)
        return [SlotSet("handoff_state", "resolved"), SlotSet("handoff_outcome", outcome)]
