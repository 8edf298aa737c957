"""Form validation: identity (account number + postal code or phone last 4) and the dispute form."""

import logging
import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions.base import (
    TALK_TO_PERSON_BUTTON,
    UsesPayments,
    UsesServices,
    account_currency,
    utter_backend_unavailable,
)
from actions.charges import (
    WAIVER_OFFERED,
    ChargeQuery,
    charge_buttons,
    charge_label,
    invoice_line_items,
    latest_invoice,
    resolve_charge,
    waivable_late_fee,
)
from actions.clients.billing import MatchedLineItem
from actions.clients.errors import InvalidRequest, NotFound, ServiceError, VerificationLocked
from actions.conversation import (
    current_customer_id,
    latest_turn,
    verified_customer_or_ask,
)
from actions.identity import handoff_turn, signed_customer_slot
from actions.normalise import (
    account_number_in_text,
    normalise_account_number,
    split_postal_code_or_phone,
    without_account_number,
)

logger = logging.getLogger(__name__)

IDENTITY_SLOTS = ["account_number", "postal_code_or_phone"]
# After these the form stops at once; the action that follows the form escalates or apologises.
STOPPING_VERIFICATION_STATUSES = ("locked", "unavailable")
# Messages that try to name a charge when the dispute form asks "which charge?".
DISPUTE_HELPER_SLOTS = ("charge_candidates", "dispute_charge_label", "account_currency")
CHARGE_ANSWER_INTENTS = ("inform", "nlu_fallback", "dispute_charge", "explain_charge", "affirm")
# Asked for the dispute reason: intents that may be a new question, and those that always leave the answer.
REASON_INTERRUPTION_INTENTS = (
    "check_balance", "ask_due_date", "list_charges", "explain_bill_increase", "payment_status", "how_to_pay",
    "request_human", "bot_challenge", "what_can_you_do", "goodbye",
)
LEAVING_INTENTS = ("request_human", "bot_challenge", "what_can_you_do", "goodbye")
_QUESTION_WORDS = frozenset(
    "what why how when where who which can could would will is are do does should".split()
)
# While the identity questions are asked, these intents are questions of their own (answered by the
# interruption rules) unless the message also holds a well-formed answer.
IDENTITY_INTERRUPTION_INTENTS = (
    "check_balance", "ask_due_date", "list_charges", "explain_charge", "explain_bill_increase",
    "payment_status", "how_to_pay", "dispute_charge", "request_human", "deny", "bot_challenge",
    "what_can_you_do", "goodbye",
)


# Words that say what is wrong with a charge, beyond asking to dispute it.
_WHAT_IS_WRONG = re.compile(
    r"\b(twice|double|duplicated?|two times|never|didn'?t|did not|don'?t|do not|not mine|wasn'?t|was not|"
    r"shouldn'?t|should not|wrong|incorrect|too much|overcharged?|already|cancell?ed|returned|"
    r"unauthori[sz]ed|recogni[sz]e|because|on time)\b",
    re.IGNORECASE,
)


def says_what_is_wrong(text: str) -> bool:
    """"I was charged twice for the installation": a reason; "I want to dispute the late fee": not yet."""
    return not text.startswith("/") and _WHAT_IS_WRONG.search(text) is not None


def is_question(text: str) -> bool:
    """"what's my balance?", "when is it due": a question, not a statement of what is wrong."""
    words = re.findall(r"[a-z]+", text.lower())
    return text.rstrip().endswith("?") or (bool(words) and words[0] in _QUESTION_WORDS)


class IdentityValidation(UsesServices):
    """Slot extraction and validation shared by both forms; the backend decides and enforces the 3-attempt
    lock."""

    async def extract_account_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The answer to "what's your account number?"; also a corrected number typed at the second
        question."""
        requested = tracker.get_slot("requested_slot")
        text = str(tracker.latest_message.get("text") or "")
        if requested == "postal_code_or_phone":
            retyped = account_number_in_text(text)
            # the same one again: the question is re-asked
            return {"account_number": retyped} if retyped else {}
        if requested != "account_number" or not text.strip() or text.startswith("/"):
            return {}
        if account_number_in_text(text) or latest_turn(tracker).intent not in IDENTITY_INTERRUPTION_INTENTS:
            return {"account_number": text}
        return {}  # a question of its own: the form is rejected and a rule answers it

    async def extract_postal_code_or_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The answer to the second question, read from anywhere in the message; also given with the
        account number."""
        requested = tracker.get_slot("requested_slot")
        text = str(tracker.latest_message.get("text") or "")
        if not text.strip() or text.startswith("/"):
            return {}
        with_account_number = account_number_in_text(text) is not None
        if requested == "account_number" or (requested == "postal_code_or_phone" and with_account_number):
            # both answers in one message, at the first question or again at the second ("ACC100002 / 10001":
            # not reading the second there would ask it forever)
            rest = without_account_number(text)
            given_with_it = with_account_number and split_postal_code_or_phone(rest) is not None
            return {"postal_code_or_phone": rest} if given_with_it else {}
        if requested != "postal_code_or_phone":
            return {}
        if (
            split_postal_code_or_phone(text)
            or latest_turn(tracker).intent not in IDENTITY_INTERRUPTION_INTENTS
        ):
            return {"postal_code_or_phone": text}  # unreadable text is re-asked by validation, at no cost
        return {}

    async def validate_account_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        account_number = normalise_account_number(str(value) if value is not None else None)
        if account_number is None:
            dispatcher.utter_message(response="utter_account_number_invalid")
            return {"account_number": None}
        return {"account_number": account_number}

    async def validate_postal_code_or_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        account_number = tracker.get_slot("account_number")
        answer = split_postal_code_or_phone(str(value) if value is not None else None)
        if account_number is None:
            return {"postal_code_or_phone": None}
        if answer is None:
            dispatcher.utter_message(response="utter_postal_code_or_phone_invalid")
            return {"postal_code_or_phone": None}
        kind, secret = answer
        # not a turn the handoff service sent: no attempt reaches the backend
        if handoff_turn(tracker) is None:
            return {"postal_code_or_phone": None}
        try:
            result = await self.billing.verify(account_number=account_number, **{kind: secret})
        except VerificationLocked:
            return self._locked(dispatcher)
        except InvalidRequest:
            dispatcher.utter_message(response="utter_postal_code_or_phone_invalid")
            return {"postal_code_or_phone": None}
        except NotFound:
            dispatcher.utter_message(response="utter_verification_failed_unknown")
            return {"account_number": None, "postal_code_or_phone": None}
        except ServiceError:
            utter_backend_unavailable(dispatcher)
            return {"postal_code_or_phone": None, "verification_status": "unavailable"}
        if result.verified and result.customer_id is not None:
            dispatcher.utter_message(response="utter_verified", first_name=result.first_name or "there")
            return {
                "postal_code_or_phone": "provided",  # the answer itself is not kept in the tracker's slots
                "identity_verified": True,
                "verified_customer_id": signed_customer_slot(
                    result.customer_id, conversation_id=tracker.sender_id
                ),
                "customer_first_name": result.first_name,
                "verification_status": "verified",
            }
        if result.attempts_remaining is not None and result.attempts_remaining <= 0:
            return self._locked(dispatcher)
        if result.attempts_remaining == 1:
            dispatcher.utter_message(response="utter_verification_failed_last_try")
        else:
            dispatcher.utter_message(
                response="utter_verification_failed", attempts_remaining=result.attempts_remaining or "a few"
            )
        # the account exists: ask again only for the second answer (a corrected account number is also read)
        return {"postal_code_or_phone": None, "verification_status": "mismatch"}

    @staticmethod
    def _locked(dispatcher: CollectingDispatcher) -> dict[str, Any]:
        dispatcher.utter_message(response="utter_verification_locked")
        return {"postal_code_or_phone": None, "verification_status": "locked"}


class ValidateVerifyIdentityForm(IdentityValidation, FormValidationAction):
    def name(self) -> str:
        return "validate_verify_identity_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("verification_status") in STOPPING_VERIFICATION_STATUSES:
            return []
        if current_customer_id(tracker) is not None:
            return []
        return domain_slots


class HelperSlotsFormValidation(FormValidationAction, ABC):
    """A form validation whose `extract_<slot>` methods also set slots the form does not ask for
    (`helper_slots`).

    rasa-sdk's `get_validation_events` passes on only the form's required slots; the helper slots set this
    turn are passed on too, ahead of them, so Rasa's tracker gets them (abstract: rasa-sdk does not
    register it)."""

    helper_slots: tuple[str, ...] = ()

    @abstractmethod
    def name(self) -> str: ...

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        validation_events = await super().get_validation_events(dispatcher, tracker, domain)
        # the slots set since the customer's message: Rasa's candidates, then what get_extraction_events added
        helpers = [
            SlotSet(name, value)
            for name, value in tracker.slots_to_validate().items()
            if name in self.helper_slots
        ]
        return helpers + validation_events


class ValidateDisputeForm(IdentityValidation, UsesPayments, HelperSlotsFormValidation):
    """Which charge (resolved against the customer's invoices), the reason in their words, confirmation.

    A late fee the customer can have waived once (policy) is offered as a waiver first: the form ends and
    action_submit_dispute makes the offer, with "No, open a dispute" to come back here."""

    helper_slots = DISPUTE_HELPER_SLOTS

    def name(self) -> str:
        return "validate_dispute_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("verification_status") in STOPPING_VERIFICATION_STATUSES:
            return []
        if current_customer_id(tracker) is None:
            return domain_slots
        if (tracker.get_slot("charge_candidates") or {}).get("match") in ("credit", "waivable"):
            return []  # the form ends; action_submit_dispute explains the credit or offers the waiver
        return [slot for slot in domain_slots if slot not in IDENTITY_SLOTS]

    async def extract_dispute_line_item_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        customer_id = current_customer_id(tracker)
        if customer_id is None or tracker.get_slot("dispute_line_item_id") is not None:
            return {}
        requested = tracker.get_slot("requested_slot")
        if requested not in (None, "dispute_line_item_id"):
            return {}
        turn = latest_turn(tracker)
        if requested == "dispute_line_item_id" and turn.intent not in CHARGE_ANSWER_INTENTS:
            return {}  # e.g. a balance question in the middle of the form: an interruption
        query = ChargeQuery.from_turn(turn)
        if query.is_empty:
            if requested == "dispute_line_item_id":
                return {"charge_candidates": {"match": "unclear"}}
            return {}  # nothing about a charge: let the form ask, or let an interruption through
        try:
            resolution = await resolve_charge(self.billing, customer_id=customer_id, query=query)
            currency = await account_currency(self.billing, tracker, customer_id=customer_id)
        except ServiceError:
            return {"charge_candidates": {"match": "error"}}
        if resolution.kind == "single":
            item = resolution.single
            if item.amount < 0:
                # a credit takes money off the bill: action_submit_dispute explains it instead of disputing it
                credit = {"match": "credit", "line_item_id": str(item.id)}
                return {"charge_candidates": credit, "account_currency": currency}
            if not waiver_offered(tracker):
                terms = await waivable_late_fee(self.payments, customer_id=customer_id, item=item)
                if terms is not None:
                    waivable = {
                        "match": "waivable",
                        "line_item_id": str(item.id),
                        "amount": str(terms.amount),
                        "invoice_number": terms.invoice_number or item.invoice_number,
                    }
                    return {"charge_candidates": waivable, "account_currency": currency}
            return {
                "dispute_line_item_id": str(item.id),
                "dispute_charge_label": charge_label(item, currency),
                "charge_candidates": None,
                "account_currency": currency,
            }
        candidates: dict[str, Any] = {
            "match": resolution.kind,
            "query": query.describe(currency),
            "items": [item.model_dump(mode="json") for item in resolution.items],
            "invoice_number": resolution.latest_invoice.number if resolution.latest_invoice else None,
        }
        return {"charge_candidates": candidates, "account_currency": currency}

    async def validate_dispute_line_item_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        # checked against the customer's own line items when it was extracted
        return {"dispute_line_item_id": value}

    async def extract_dispute_reason(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Asked what is wrong, the customer's next words are the reason, whatever the NLU made of them,
        unless they clearly are a question of their own (answered by the interruption rules). A first
        message that already says what is wrong ("I was charged twice for ...") is the reason too."""
        requested = tracker.get_slot("requested_slot")
        if requested is None and tracker.get_slot("dispute_reason") is None:
            opening = latest_turn(tracker)
            if opening.intent == "dispute_charge" and says_what_is_wrong(opening.text):
                return {"dispute_reason": opening.text.strip()}
            return {}
        if requested != "dispute_reason":
            return {}
        text = str(tracker.latest_message.get("text") or "").strip()
        if not text:
            return {}
        intent = latest_turn(tracker).intent
        if intent in REASON_INTERRUPTION_INTENTS and (intent in LEAVING_INTENTS or is_question(text)):
            return {}
        return {"dispute_reason": text}

    async def validate_dispute_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        reason = " ".join(str(value or "").split())
        if len(reason) < 3 or reason.startswith("/"):  # "/..." is a tapped button's payload, not words
            dispatcher.utter_message(response="utter_dispute_reason_too_short")
            return {"dispute_reason": None}
        return {"dispute_reason": reason[:1000]}

    async def validate_dispute_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"dispute_confirmed": bool(value)}


def waiver_offered(tracker: Tracker) -> bool:
    """The bot offered the late-fee waiver in this conversation (in an explanation or before a dispute): a
    customer who disputes the fee after that has said no to it."""
    offers = (WAIVER_OFFERED, "utter_charge_explanation_waiver_offer")
    return any(
        event.get("event") == "bot" and (event.get("metadata") or {}).get("utter_action") in offers
        for event in tracker.events
    )


class ActionAskDisputeLineItemId(UsesServices, Action):
    """Asks which charge to dispute, with one button per candidate line item."""

    def name(self) -> str:
        return "action_ask_dispute_line_item_id"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        customer_id = verified_customer_or_ask(dispatcher, tracker)
        if customer_id is None:
            return []
        candidates = tracker.get_slot("charge_candidates") or {}
        match = candidates.get("match")
        if match == "error":
            utter_backend_unavailable(dispatcher)
            return []
        if match == "no_invoices":
            dispatcher.utter_message(response="utter_no_invoices")
            return []
        try:
            currency = await account_currency(self.billing, tracker, customer_id=customer_id)
            if candidates.get("items"):
                items = [MatchedLineItem.model_validate(item) for item in candidates["items"]]
                invoice_number = candidates.get("invoice_number")
            else:
                invoice = await latest_invoice(self.billing, customer_id=customer_id)
                if invoice is None:
                    dispatcher.utter_message(response="utter_no_invoices")
                    return []
                items, invoice_number = invoice_line_items(invoice), invoice.number
        except ServiceError:
            utter_backend_unavailable(dispatcher)
            return []
        # a charge that is not among these (an older bill's, say) is for a person: a way there, not a dead end
        buttons = [*charge_buttons(items, currency=currency, intent="inform"), TALK_TO_PERSON_BUTTON]
        if match == "several":
            dispatcher.utter_message(
                response="utter_several_charges_match", count=len(items), buttons=buttons
            )
        elif match == "none":
            dispatcher.utter_message(
                response="utter_no_charge_match",
                query=candidates.get("query") or "that charge",
                invoice_number=invoice_number or "",
                buttons=buttons,
            )
        elif match == "unclear":
            dispatcher.utter_message(response="utter_charge_unclear", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_ask_dispute_line_item_id", buttons=buttons)
        return []
