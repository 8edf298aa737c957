"""Autopay and paperless on or off from the chat: which setting and which way from the words (else the
other way round), the change stated (with the next automatic payment) and made only after an explicit yes; a
question about autopay's state is answered, not taken as a request."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions.base import AnswerContext, UsesPayments, utter_backend_unavailable
from actions.clients.errors import ServiceError
from actions.clients.payments import PaymentRefused
from actions.conversation import current_customer_id, latest_turn, user_events
from actions.formatting import format_date, format_money
from actions.forms import HelperSlotsFormValidation, IdentityValidation
from actions.payments.common import (
    NO,
    YES,
    bot_actor,
    confirmed_offer,
    customer_message_number,
    idempotency_key,
    slots_still_to_ask,
)
from actions.payments.secure_page import send_secure_page_link

SETTING_SLOTS = ("setting_change", "setting_confirmed")

# A yes/no question about the state ("does my bill get paid automatically?", "is autopay on?"), not a request.
# Openers first ("so is autopay even on or not?").
_STATE_QUESTION = re.compile(
    r"^\s*(?:(?:so|and|but|ok(?:ay)?|well|then|wait|hmm+|um+|right|sorry)\b[\s,.!]*)*"
    r"(does|do|is|am|are|will|has|have)\b",
    re.IGNORECASE,
)
_CHANGE_WORDS = re.compile(
    r"\b(turn|switch|set ?up|sign me|enrol+|enable|disable|cancel|stop|start)\b", re.IGNORECASE
)


def asks_autopay_state(text: str) -> bool:
    return bool(_STATE_QUESTION.search(text)) and not _CHANGE_WORDS.search(text)


_AUTOPAY_OFF = re.compile(
    r"\b(off|stop|cancel|disable|pause|opt(?:ing)? out|remove me|quit|no more|unsubscribe|end|deactivate|"
    r"don'?t want|do not want|rather pay manually|manage my own|no auto)",
    re.IGNORECASE,
)
_AUTOPAY_ON = re.compile(
    r"\b(on|enable|start|activate|reactivate|resume|sign me up|set up|enrol|enroll|put me on|going|"
    r"pay itself|paid automatically)\b",
    re.IGNORECASE,
)
_PAPER_WANTED = re.compile(
    r"(off paperless|out of paperless|cancel (?:paperless|e-?bills?)|(?:stop|cancel|end|switch off|turn off)"
    r"[\w\s-]{0,12}(?:paperless|e-?statements?|e-?bills?|electronic)|"
    r"paper (?:bills?|statements?|copy|invoices?)(?: \w+)? again|back to paper|resume paper|"
    r"in the (?:post|mail)|by post|mail(?:ing)? me|post(?:ing)? me a|"
    r"prefer (?:paper|receiving my \w+ by post)|printed|send letters|paper copy)",
    re.IGNORECASE,
)
_PAPERLESS_WANTED = re.compile(
    r"(paperless|e-?bill|e-?statement|electronic|email|online only|paper ?free|"
    r"(?:stop|no more|no)[\w\s-]{0,12}"
    r"(?:paper|posting|mailing))",
    re.IGNORECASE,
)


def setting_requested(intent: str | None, text: str) -> dict[str, Any] | None:
    """{"setting": "autopay" | "paperless", "enable": bool | None (not said: the other way round)}."""
    if intent == "change_autopay":
        enable = False if _AUTOPAY_OFF.search(text) else True if _AUTOPAY_ON.search(text) else None
        return {"setting": "autopay", "enable": enable}
    if intent == "change_paperless":
        enable = False if _PAPER_WANTED.search(text) else True if _PAPERLESS_WANTED.search(text) else None
        return {"setting": "paperless", "enable": enable}
    return None


class ValidateAccountSettingForm(IdentityValidation, UsesPayments, HelperSlotsFormValidation):
    """Autopay or paperless on or off: the change is stated (with the next automatic payment), confirmed."""

    def name(self) -> str:
        return "validate_account_setting_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        return slots_still_to_ask(domain_slots, tracker, offer_slot="setting_change")

    async def extract_setting_change(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        # Read while the customer is still unknown too: in the turn that verifies them, this runs before
        # validate_postal_code_or_phone, and validate_setting_change (after it) then knows the customer.
        if tracker.get_slot("setting_change") is not None:
            return {}
        turn = latest_turn(tracker)
        wanted, text = setting_requested(turn.intent, turn.text), turn.text
        if wanted is None:  # the form began at the identity questions: the request is the opening message
            opening = next(
                (
                    t
                    for t in reversed(user_events(tracker))
                    if (t.get("parse_data") or {}).get("intent", {}).get("name")
                    in ("change_autopay", "change_paperless")
                ),
                None,
            )
            if opening is not None:
                text = opening.get("text") or ""
                wanted = setting_requested(opening["parse_data"]["intent"]["name"], text)
        if wanted is None:
            return {}
        if wanted["setting"] == "autopay" and asks_autopay_state(text):
            wanted = {**wanted, "question": True}
        return {"setting_change": wanted}

    async def validate_setting_change(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        customer_id = current_customer_id(tracker)
        if (
            customer_id is None
            or not isinstance(value, dict)
            or value.get("setting") not in ("autopay", "paperless")
        ):
            return {"setting_change": None}
        setting = value["setting"]
        turn = latest_turn(tracker)
        if setting == "autopay" and value.get("question"):
            # "does my bill get paid automatically?" is a question, not a request to change it: the state
            # (and a failed automatic payment) is the answer
            from actions.answers import answer_autopay  # answers imports this module

            context = AnswerContext(dispatcher, tracker, customer_id, turn, self.billing)
            try:
                await answer_autopay(context)
            except ServiceError:
                utter_backend_unavailable(dispatcher)
            return {"setting_change": {"stop": "answered"}}
        try:
            setup = await self.payments.get_payment_setup(customer_id=customer_id)
            balance = await self.billing.get_balance(customer_id=customer_id)
            customer = await self.billing.get_customer(customer_id=customer_id)
        except ServiceError:
            utter_backend_unavailable(dispatcher)
            return {"setting_change": {"stop": "unavailable"}}
        current = setup.autopay if setting == "autopay" else setup.paperless
        enable = (not current) if value.get("enable") is None else bool(value["enable"])
        if enable == current:
            dispatcher.utter_message(response=f"utter_{setting}_already", state="on" if current else "off")
            return {"setting_change": {"stop": "unchanged"}}
        method = setup.default_method
        if setting == "autopay" and enable and (method is None or method.expired):
            dispatcher.utter_message(
                response="utter_autopay_needs_valid_method",
                method=method.label if method else "account (no saved card)",
            )
            await send_secure_page_link(self.payments, dispatcher, tracker, customer_id=customer_id)
            return {"setting_change": {"stop": "no_valid_method"}}
        next_amount = balance.next_due_amount if balance.next_due_amount is not None else balance.total_due
        return {
            "setting_change": {
                "setting": setting,
                "enable": enable,
                "method": method.label if method else "your saved method",
                "next_amount": format_money(next_amount, balance.currency),
                "next_date": format_date(setup.next_autopay_date or balance.next_due_date),
                "email": customer.email or "the email address on your account",
            }
        }


class ActionAskSettingConfirmed(Action):
    def name(self) -> str:
        return "action_ask_setting_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        change = tracker.get_slot("setting_change") or {}
        direction = "on" if change.get("enable") else "off"
        title = {"autopay": "autopay", "paperless": "paperless billing"}.get(str(change.get("setting")), "it")
        dispatcher.utter_message(
            response=f"utter_ask_{change.get('setting', 'autopay')}_{direction}_confirmed",
            method=change.get("method"),
            next_amount=change.get("next_amount"),
            next_date=change.get("next_date"),
            email=change.get("email"),
            buttons=[
                {"title": f"Yes, turn {title} {direction}", "payload": YES},
                {"title": "No, leave it", "payload": NO},
            ],
        )
        return []


class ActionSubmitSettingChange(UsesPayments, Action):
    def name(self) -> str:
        return "action_submit_setting_change"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset = [SlotSet(slot, None) for slot in SETTING_SLOTS]
        confirmed = confirmed_offer(
            dispatcher,
            tracker,
            offer_slot="setting_change",
            confirmed_slot="setting_confirmed",
            not_done_response="utter_setting_unchanged",
        )
        if confirmed is None:
            return reset
        customer_id, change = confirmed
        setting, enable = change["setting"], bool(change["enable"])
        key = idempotency_key(tracker, setting, enable, customer_message_number(tracker))
        try:
            result = await self.payments.switch_setting(
                customer_id=customer_id,
                setting=setting,
                enabled=enable,
                actor=bot_actor(tracker),
                idempotency_key=key,
            )
        except PaymentRefused:  # no_payment_method / method_expired since the question was asked
            dispatcher.utter_message(response="utter_autopay_needs_valid_method", method=change.get("method"))
            await send_secure_page_link(self.payments, dispatcher, tracker, customer_id=customer_id)
            return reset
        except ServiceError:
            utter_backend_unavailable(dispatcher)
            return reset
        if setting == "autopay" and enable:
            currency = tracker.get_slot("account_currency") or "USD"
            dispatcher.utter_message(
                response="utter_autopay_turned_on",
                method=result.method or change.get("method"),
                next_amount=format_money(result.next_autopay_amount, currency)
                if result.next_autopay_amount is not None
                else change.get("next_amount"),
                next_date=format_date(result.next_autopay_date)
                if result.next_autopay_date
                else change.get("next_date"),
            )
        elif setting == "autopay":
            dispatcher.utter_message(
                response="utter_autopay_turned_off",
                next_amount=change.get("next_amount"),
                next_date=change.get("next_date"),
            )
        else:
            dispatcher.utter_message(response=f"utter_paperless_turned_{'on' if enable else 'off'}")
        return reset
