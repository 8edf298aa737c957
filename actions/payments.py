"""Paying from the chat (issue 16): take a payment with the method on file, the secure payment page for a new
card, autopay and paperless, and naming a failed or expired method in account answers.

Nothing is charged or changed without an explicit "yes" to a question that states the amount, the method
and what follows. The backend checks every figure (docs/contracts.md, "Payments"); the bot states its quote.
Writes carry `X-Actor: bot:<conversation>` and an Idempotency-Key derived from the conversation and what is
confirmed, so a double click, a resent message or a retried action call cannot pay or change anything twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions.base import (
    TALK_TO_PERSON_BUTTON,
    AccountAnswerAction,
    AnswerContext,
    UsesPayments,
    utter_backend_unavailable,
)
from actions.clients.billing import Balance
from actions.clients.errors import BackendUnavailable, ServiceError
from actions.clients.payments import (
    PaymentRefused,
    PaymentsClient,
    ProcessorUnavailable,
    Quote,
    money_text,
)
from actions.conversation import current_customer_id, latest_turn, user_events, verified_customer_or_ask
from actions.formatting import format_date, format_money, money_in
from actions.forms import (
    IDENTITY_SLOTS,
    STOPPING_VERIFICATION_STATUSES,
    HelperSlotsFormValidation,
    IdentityValidation,
)
from actions.identity import handoff_turn

logger = logging.getLogger(__name__)

UPDATE_CARD_BUTTON = {"title": "Update card", "payload": "/update_payment_method"}
PAY_NOW_BUTTON = {"title": "Pay now", "payload": "/pay_bill"}
SECURE_PAGE_BUTTON = {"title": "Use the secure payment page", "payload": "/update_payment_method"}
YES, NO = "/affirm", "/deny"
PAYMENT_SLOTS = ("payment_amount", "payment_offer", "payment_confirmed")
SETTING_SLOTS = ("setting_change", "setting_confirmed")
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

# What the handoff service leaves of a card or bank account number (handoff/conversations/redaction.py), and
# the number itself should a message reach the bot another way.
_CARD_NUMBER = re.compile(r"\*{4}(?:[ -]?\*{1,6}){1,3}[ -]?\d{4}|\*{3,}[ -]?\d{4}|\b\d(?:[ -]?\d){12,18}\b")
_PAST_DUE_WORDS = re.compile(r"\b(past[\s-]?due|overdue|late|arrears|behind|outstanding)\b", re.IGNORECASE)
_FULL_WORDS = re.compile(
    r"\b(full|whole|entire|everything|total|the lot|all (?:of it|i owe|my balance)|it all|in full|balance)\b",
    re.IGNORECASE,
)
# An amount the customer wrote: "$75", "50 dollars", "-20", "20.005", "1,250.00".
_AMOUNT = re.compile(
    r"(?<![\w*/.-])(?P<sign>-|minus\s+)?\$?\s?"
    r"(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\w*/]|\.\d)"
    r"(?:\s*(?:dollars?|bucks|usd))?",
    re.IGNORECASE,
)
_AMOUNT_WORDS = re.compile(r"\$|\bdollars?\b|\bbucks\b|\busd\b", re.IGNORECASE)


class AmountProblem(StrEnum):
    unreadable = "unreadable"
    not_positive = "not_positive"
    too_precise = "too_precise"


def has_card_number(text: str | None) -> bool:
    return bool(text) and _CARD_NUMBER.search(text or "") is not None


def parse_amount(text: str) -> Decimal | AmountProblem | None:
    """The first amount written in `text`: a Decimal with at most two places, a problem, or None."""
    match = _AMOUNT.search(text.replace("\u2212", "-"))
    if match is None:
        return None
    try:
        value = Decimal(match.group("number").replace(",", ""))
    except InvalidOperation:
        return AmountProblem.unreadable
    if match.group("sign"):
        value = -value
    if value <= 0:
        return AmountProblem.not_positive
    if value.as_tuple().exponent < -2:  # type: ignore[operator]  # a finite Decimal's exponent is an int
        return AmountProblem.too_precise
    return value.quantize(Decimal("0.01"))


def requested_amount(text: str, money_entities: list[str], *, asked: bool) -> str | None:
    """What the customer asked to pay, as the `payment_amount` slot holds it before the quote:
    "75.00", "past_due", "full_balance", "problem:<AmountProblem>:<as written>", or None when they named
    nothing.

    `asked`: the bot asked "how much?", so a message without an amount is an unreadable answer."""
    if has_card_number(text):
        return None
    for written in [*money_entities, text]:
        amount = parse_amount(written)
        if isinstance(amount, Decimal):
            return money_text(amount)
        if isinstance(amount, AmountProblem):
            return f"problem:{amount}:{written.strip()[:40]}"
    if money_entities:  # spaCy saw money ("fifty bucks") but no digits
        return f"problem:{AmountProblem.unreadable}:{money_entities[0][:40]}"
    if _PAST_DUE_WORDS.search(text):
        return "past_due"
    if _FULL_WORDS.search(text):
        return "full_balance"
    if asked and text.strip() and not text.startswith("/"):
        return f"problem:{AmountProblem.unreadable}:{text.strip()[:40]}"
    return None


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


async def send_secure_page_link(
    payments: PaymentsClient,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    customer_id: int,
    purpose: str = "update_method",
) -> None:
    """A button to a short-lived, single-use secure payment page for this customer: "update_method" saves a
    card (and may pay and turn on autopay), "pay" pays with a new card. The page reports back to this chat."""
    try:
        link = await payments.create_payment_page_link(
            customer_id=customer_id,
            purpose=purpose,
            conversation_id=tracker.sender_id,
            actor=bot_actor(tracker),
            idempotency_key=idempotency_key(
                tracker, "payment-page", purpose, customer_message_number(tracker)
            ),
        )
    except ServiceError:
        logger.warning("no secure payment link for conversation %s", tracker.sender_id)
        dispatcher.utter_message(
            response="utter_secure_payment_link_unavailable", buttons=[TALK_TO_PERSON_BUTTON]
        )
        return
    minutes = 15
    if link.expires_at is not None:
        expires = link.expires_at if link.expires_at.tzinfo else link.expires_at.replace(tzinfo=UTC)
        minutes = max(1, round((expires - datetime.now(UTC)).total_seconds() / 60))
    dispatcher.utter_message(
        response="utter_secure_payment_link",
        minutes=minutes,
        buttons=[{"title": "Open the secure payment page", "url": link.url}],
    )


class ActionSendSecurePaymentLink(UsesPayments, AccountAnswerAction):
    """ "Update my card", a card number typed in the chat, or a payment that could not be taken here.

    An account answer (actions/answers.py ANSWERS_BY_INTENT): a visitor who asked before verifying gets the
    link from action_answer_after_verification once they are verified."""

    def name(self) -> str:
        return "action_send_secure_payment_link"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        turn = latest_turn(tracker)
        if turn.intent == "share_card_number" or has_card_number(turn.text):
            dispatcher.utter_message(response="utter_no_card_numbers_in_chat")
        return await self.answer_turn(dispatcher, tracker, turn)

    async def answer(self, context: AnswerContext) -> None:
        await send_secure_page_link(
            self.payments, context.dispatcher, context.tracker, customer_id=context.customer_id
        )


async def name_payment_method_alerts(context: AnswerContext) -> None:
    """After a balance, due-date or payment-status answer: an expired method, none saved, or a failed
    autopay, said plainly (the backend's sentence) with "Update card" / "Pay now". Quiet when there is nothing
    to say or the backend cannot tell: the answer itself has been given."""
    try:
        methods = await context.billing.get_payment_methods(customer_id=context.customer_id)
    except ServiceError:
        return
    for alert in methods.alerts:
        context.dispatcher.utter_message(
            response="utter_payment_method_alert",
            message=alert.message,
            buttons=[UPDATE_CARD_BUTTON, PAY_NOW_BUTTON],
        )


# --- pay now ------------------------------------------------------------------------------------------------


# A yes/no question about the state ("does my bill get paid automatically?", "is autopay on?"), not a request.
_STATE_QUESTION = re.compile(r"^\s*(does|do|is|am|are|will|has|have)\b", re.IGNORECASE)
_CHANGE_WORDS = re.compile(r"\b(turn|switch|set ?up|sign me|enrol+|enable|disable|cancel|stop|start)\b",
                           re.IGNORECASE)


def asks_autopay_state(text: str) -> bool:
    return bool(_STATE_QUESTION.search(text)) and not _CHANGE_WORDS.search(text)


def _stopped(offer: Any) -> bool:
    return isinstance(offer, dict) and bool(offer.get("stop"))


def quote_offer(quote: Quote) -> dict[str, Any]:
    """What the confirmation question states, kept in the `payment_offer` slot until the customer answers."""
    return {
        "quote_id": quote.quote_id,
        "amount": money_text(quote.amount),
        "currency": quote.currency,
        "method": quote.method.label,
        "total_due": money_text(quote.total_due),
        "total_due_after": money_text(quote.total_due_after),
    }


class ValidatePaymentForm(IdentityValidation, UsesPayments, HelperSlotsFormValidation):
    """How much (past due, full balance or an amount, never above the balance), then an explicit yes."""

    helper_slots = ("payment_offer",)

    def name(self) -> str:
        return "validate_payment_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("verification_status") in STOPPING_VERIFICATION_STATUSES:
            return []
        if _stopped(tracker.get_slot("payment_offer")):
            return []  # already answered (nothing due, no usable card, outage): action_submit_payment tidies
        if current_customer_id(tracker) is None:
            return domain_slots
        return [slot for slot in domain_slots if slot not in IDENTITY_SLOTS]

    async def extract_payment_amount(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if current_customer_id(tracker) is None:
            return {}
        requested = tracker.get_slot("requested_slot")
        turn = latest_turn(tracker)
        if turn.intent in QUESTION_INTENTS:
            return {}
        asked = requested == "payment_amount"
        amount = requested_amount(turn.text, turn.entity_values("MONEY"), asked=asked)
        if requested in (None, "account_number", "postal_code_or_phone") or asked:
            if tracker.get_slot("payment_amount") is None and not asked and turn.intent == "pay_bill":
                return {"payment_amount": amount or "default"}
            return {"payment_amount": amount} if amount else {}
        if requested == "payment_confirmed" and turn.intent == "pay_bill" and amount:
            # another amount instead of the one offered ("Pay the full balance instead")
            return {"payment_amount": amount, "payment_confirmed": None}
        return {}

    async def validate_payment_amount(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        customer_id = current_customer_id(tracker)
        if customer_id is None or value is None:
            return {"payment_amount": None}
        text = str(value)
        if text.startswith("problem:"):
            _, problem, written = [*text.split(":", 2), "", ""][:3]
            self._utter_problem(dispatcher, AmountProblem(problem), written, tracker)
            return {"payment_amount": None, "payment_offer": None}
        try:
            if text == "default":
                balance = await self.billing.get_balance(customer_id=customer_id)
                text = "past_due" if balance.past_due > 0 else "full_balance"
            amount = None if text in ("past_due", "full_balance") else Decimal(text)
            quote = await self.payments.create_quote(
                customer_id=customer_id,
                amount_choice=text if amount is None else "amount",
                amount=amount,
                actor=bot_actor(tracker),
                idempotency_key=idempotency_key(tracker, "quote", customer_message_number(tracker), text),
            )
        except PaymentRefused as refusal:
            return await self._refused(refusal, dispatcher, tracker, customer_id=customer_id, asked=text)
        except ServiceError:
            utter_backend_unavailable(dispatcher)
            return {"payment_amount": None, "payment_offer": {"stop": "unavailable"}}
        return {
            "payment_amount": money_text(quote.amount),
            "payment_offer": quote_offer(quote),
            "payment_confirmed": None,
        }

    @staticmethod
    def _utter_problem(
        dispatcher: CollectingDispatcher, problem: AmountProblem, written: str, tracker: Tracker
    ) -> None:
        currency = tracker.get_slot("account_currency") or "USD"
        if problem is AmountProblem.not_positive:
            dispatcher.utter_message(
                response="utter_payment_amount_not_positive", zero=format_money(0, currency)
            )
        elif problem is AmountProblem.too_precise:
            dispatcher.utter_message(response="utter_payment_amount_too_precise", amount=written)
        else:
            dispatcher.utter_message(response="utter_payment_amount_unreadable")

    async def _refused(
        self,
        refusal: PaymentRefused,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        *,
        customer_id: int,
        asked: str,
    ) -> dict[str, Any]:
        if refusal.code == "amount_above_balance":
            balance = await self.billing.get_balance(customer_id=customer_id)
            dispatcher.utter_message(
                response="utter_payment_amount_above_balance",
                amount=format_money(Decimal(asked), balance.currency),
                balance=format_money(balance.total_due, balance.currency),
            )
            return {"payment_amount": None, "payment_offer": None}
        if refusal.code == "invalid_amount":
            dispatcher.utter_message(response="utter_payment_amount_unreadable")
            return {"payment_amount": None, "payment_offer": None}
        if refusal.code == "nothing_due":
            balance = await self.billing.get_balance(customer_id=customer_id)
            dispatcher.utter_message(
                response="utter_nothing_to_pay", total_due=format_money(balance.total_due, balance.currency)
            )
        elif refusal.code == "method_expired":
            setup = await self.payments.get_payment_setup(customer_id=customer_id)
            method = setup.default_method
            dispatcher.utter_message(
                response="utter_payment_method_expired", method=method.label if method else "saved card"
            )
            await send_secure_page_link(
                self.payments, dispatcher, tracker, customer_id=customer_id, purpose="pay"
            )
        elif refusal.code == "no_payment_method":
            dispatcher.utter_message(response="utter_no_usable_payment_method")
            await send_secure_page_link(
                self.payments, dispatcher, tracker, customer_id=customer_id, purpose="pay"
            )
        else:
            logger.warning("payment quote refused in %s: %s", tracker.sender_id, refusal.code)
            utter_backend_unavailable(dispatcher)
        return {"payment_amount": None, "payment_offer": {"stop": refusal.code}}


def payment_amount_buttons(balance: Balance) -> list[dict[str, str]]:
    """One button an amount the customer owes (past due, full balance), each starting the payment form with
    that amount: the form then states amount, method and balance after, and asks for a Yes."""
    money = money_in(balance.currency)
    buttons = []
    if balance.past_due > 0:
        buttons.append({"title": f"Past due {money(balance.past_due)}",
                        "payload": payload("pay_bill", MONEY=money_text(balance.past_due))})
    if balance.total_due > 0 and balance.total_due != balance.past_due:
        buttons.append({"title": f"Full balance {money(balance.total_due)}",
                        "payload": payload("pay_bill", MONEY=money_text(balance.total_due))})
    return buttons


class ActionAskPaymentAmount(UsesPayments, Action):
    def name(self) -> str:
        return "action_ask_payment_amount"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        customer_id = verified_customer_or_ask(dispatcher, tracker)
        if customer_id is None:
            return []
        try:
            balance = await self.billing.get_balance(customer_id=customer_id)
        except ServiceError:
            dispatcher.utter_message(response="utter_payment_amount_unreadable")
            return []
        money = money_in(balance.currency)
        buttons = payment_amount_buttons(balance)
        if balance.past_due > 0:
            dispatcher.utter_message(
                response="utter_ask_payment_amount",
                total_due=money(balance.total_due),
                past_due=money(balance.past_due),
                buttons=buttons,
            )
        else:
            dispatcher.utter_message(
                response="utter_ask_payment_amount_no_past_due",
                total_due=money(balance.total_due),
                buttons=buttons,
            )
        return []


class ActionAskPaymentConfirmed(Action):
    def name(self) -> str:
        return "action_ask_payment_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        offer = tracker.get_slot("payment_offer") or {}
        currency = offer.get("currency", "USD")
        amount = format_money(offer.get("amount", "0"), currency)
        buttons = [{"title": f"Yes, pay {amount}", "payload": YES}, {"title": "No, don't pay", "payload": NO}]
        total = offer.get("total_due")
        if total and Decimal(total) != Decimal(offer.get("amount", "0")):
            buttons.append(
                {
                    "title": f"Pay the full {format_money(total, currency)} instead",
                    "payload": payload("pay_bill", MONEY=total),
                }
            )
        dispatcher.utter_message(
            response="utter_ask_payment_confirmed",
            amount=amount,
            method=offer.get("method", "your saved method"),
            balance_after=format_money(offer.get("total_due_after", "0"), currency),
            buttons=buttons,
        )
        return []


class ActionSubmitPayment(UsesPayments, Action):
    """Runs when payment_form ends: after "yes", the quote is confirmed once (the backend's one payment)."""

    def name(self) -> str:
        return "action_submit_payment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset = [SlotSet(slot, None) for slot in PAYMENT_SLOTS]
        offer = tracker.get_slot("payment_offer")
        if tracker.get_slot("verification_status") in STOPPING_VERIFICATION_STATUSES or _stopped(offer):
            return reset  # the customer has been told already
        customer_id = current_customer_id(tracker)
        # money moves only in a turn the handoff service signed, after an explicit yes to a stated quote
        if (
            customer_id is None
            or not isinstance(offer, dict)
            or tracker.get_slot("payment_confirmed") is not True
            or handoff_turn(tracker) is None
        ):
            dispatcher.utter_message(response="utter_payment_cancelled")
            return reset
        quote_id = str(offer["quote_id"])
        try:
            payment = await self.payments.confirm_quote(
                customer_id=customer_id,
                quote_id=quote_id,
                actor=bot_actor(tracker),
                idempotency_key=idempotency_key(tracker, "confirm", quote_id),
            )
        except ProcessorUnavailable:
            dispatcher.utter_message(
                response="utter_payment_processor_unavailable",
                buttons=[SECURE_PAGE_BUTTON, TALK_TO_PERSON_BUTTON],
            )
            return reset
        except PaymentRefused as refusal:
            if refusal.code == "method_expired":
                dispatcher.utter_message(response="utter_payment_method_expired", method=offer.get("method"))
                await send_secure_page_link(
                    self.payments, dispatcher, tracker, customer_id=customer_id, purpose="pay"
                )
            else:  # quote_expired, balance_changed: nothing charged; a fresh quote states the new figures
                dispatcher.utter_message(response="utter_payment_offer_outdated", buttons=[PAY_NOW_BUTTON])
            return reset
        except BackendUnavailable:
            utter_backend_unavailable(dispatcher)
            return reset
        currency = payment.currency
        amount, method = format_money(payment.amount, currency), offer.get("method") or payment.method
        if payment.status == "posted":
            dispatcher.utter_message(
                response="utter_payment_posted_now",
                amount=amount,
                method=method,
                balance_after=format_money(payment.total_due, currency),
            )
        elif payment.status == "pending":
            dispatcher.utter_message(
                response="utter_payment_pending_until",
                amount=amount,
                method=method,
                expected_date=format_date(payment.expected_post_date),
                balance_after=format_money(
                    max(payment.total_due - payment.pending_payments, Decimal("0")), currency
                ),
            )
        else:
            dispatcher.utter_message(
                response="utter_payment_declined",
                amount=amount,
                method=method,
                reason=payment.failure_message or "the bank declined it.",
                buttons=[SECURE_PAGE_BUTTON, TALK_TO_PERSON_BUTTON],
            )
        return reset


# --- autopay and paperless ---------------------------------------------------------------------------------

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
        if tracker.get_slot("verification_status") in STOPPING_VERIFICATION_STATUSES:
            return []
        if _stopped(tracker.get_slot("setting_change")):
            return []
        if current_customer_id(tracker) is None:
            return domain_slots
        return [slot for slot in domain_slots if slot not in IDENTITY_SLOTS]

    async def extract_setting_change(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if current_customer_id(tracker) is None or tracker.get_slot("setting_change") is not None:
            return {}
        turn = latest_turn(tracker)
        wanted = setting_requested(turn.intent, turn.text)
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
                wanted = setting_requested(opening["parse_data"]["intent"]["name"], opening.get("text") or "")
        return {"setting_change": wanted} if wanted else {}

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
        if setting == "autopay" and turn.intent == "change_autopay" and asks_autopay_state(turn.text):
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
        change = tracker.get_slot("setting_change")
        if tracker.get_slot("verification_status") in STOPPING_VERIFICATION_STATUSES or _stopped(change):
            return reset
        customer_id = current_customer_id(tracker)
        if (
            customer_id is None
            or not isinstance(change, dict)
            or tracker.get_slot("setting_confirmed") is not True
            or handoff_turn(tracker) is None
        ):
            dispatcher.utter_message(response="utter_setting_unchanged")
            return reset
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


# --- after the secure payment page -------------------------------------------------------------------------

TURN_ON_AUTOPAY_BUTTON = {"title": "Turn on autopay", "payload": "/change_autopay"}
NO_THANKS_BUTTON = {"title": "No, thanks", "payload": "/thank"}


class ActionPaymentPageCompleted(UsesPayments, Action):
    """EXTERNAL_payment_page_completed: the handoff service tells the bot that this customer's secure payment
    page completed (docs/contracts.md, "The chat learns the outcome"; its entities page_payment and
    page_autopay keep what the page did in the tracker). The page's own summary is already in the chat, so
    the bot adds only what comes next, read from the account as it is now: autopay, when it is off and the
    method on file can be charged (turning it on is the usual confirmed account_setting_form)."""

    def name(self) -> str:
        return "action_payment_page_completed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        customer_id = current_customer_id(tracker)
        if customer_id is None:
            return []
        try:
            setup = await self.payments.get_payment_setup(customer_id=customer_id)
        except ServiceError:
            return []  # the summary stands on its own; the customer can still ask
        method = setup.default_method
        if setup.autopay or method is None or method.expired:
            return []
        dispatcher.utter_message(
            response="utter_offer_autopay_after_page",
            method=method.label,
            buttons=[TURN_ON_AUTOPAY_BUTTON, NO_THANKS_BUTTON],
        )
        return []
