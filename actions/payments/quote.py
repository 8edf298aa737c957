"""Paying with the method on file, up to the quote: how much (past due, full balance or an amount, never above
the balance), quoted by the backend, then a question that states amount, method and balance after."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions.base import UsesPayments, utter_backend_unavailable
from actions.clients.billing import Balance, BillingClient
from actions.clients.errors import ServiceError
from actions.clients.payments import PaymentRefused, PaymentsClient, Quote, money_text
from actions.conversation import current_customer_id, latest_turn, verified_customer_or_ask
from actions.formatting import format_money, money_in
from actions.forms import HelperSlotsFormValidation, IdentityValidation
from actions.payments.amounts import AmountProblem, requested_amount
from actions.payments.common import (
    NO,
    QUESTION_INTENTS,
    YES,
    bot_actor,
    customer_message_number,
    idempotency_key,
    payload,
    slots_still_to_ask,
)
from actions.payments.secure_page import send_secure_page_link

logger = logging.getLogger(__name__)


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
        # once answered (nothing due, no usable card, outage) the form ends: action_submit_payment tidies
        return slots_still_to_ask(domain_slots, tracker, offer_slot="payment_offer")

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
            utter_amount_problem(dispatcher, AmountProblem(problem), written, tracker)
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
            return await answer_refused_quote(
                refusal, dispatcher, tracker, self.billing, self.payments, customer_id=customer_id, asked=text
            )
        except ServiceError:
            utter_backend_unavailable(dispatcher)
            return {"payment_amount": None, "payment_offer": {"stop": "unavailable"}}
        return {
            "payment_amount": money_text(quote.amount),
            "payment_offer": quote_offer(quote),
            "payment_confirmed": None,
        }


def utter_amount_problem(
    dispatcher: CollectingDispatcher, problem: AmountProblem, written: str, tracker: Tracker
) -> None:
    """Why what the customer wrote cannot be paid: zero or less, more than two decimals, or unreadable."""
    currency = tracker.get_slot("account_currency") or "USD"
    if problem is AmountProblem.not_positive:
        dispatcher.utter_message(response="utter_payment_amount_not_positive", zero=format_money(0, currency))
    elif problem is AmountProblem.too_precise:
        dispatcher.utter_message(response="utter_payment_amount_too_precise", amount=written)
    else:
        dispatcher.utter_message(response="utter_payment_amount_unreadable")


async def answer_refused_quote(
    refusal: PaymentRefused,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    billing: BillingClient,
    payments: PaymentsClient,
    *,
    customer_id: int,
    asked: str,
) -> dict[str, Any]:
    """The backend would not quote `asked`: say why (and send the secure page where a card is the problem);
    the slots that ask again, or that end the form."""
    if refusal.code == "amount_above_balance":
        balance = await billing.get_balance(customer_id=customer_id)
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
        balance = await billing.get_balance(customer_id=customer_id)
        dispatcher.utter_message(
            response="utter_nothing_to_pay", total_due=format_money(balance.total_due, balance.currency)
        )
    elif refusal.code == "method_expired":
        setup = await payments.get_payment_setup(customer_id=customer_id)
        method = setup.default_method
        dispatcher.utter_message(
            response="utter_payment_method_expired", method=method.label if method else "saved card"
        )
        await send_secure_page_link(payments, dispatcher, tracker, customer_id=customer_id, purpose="pay")
    elif refusal.code == "no_payment_method":
        dispatcher.utter_message(response="utter_no_usable_payment_method")
        await send_secure_page_link(payments, dispatcher, tracker, customer_id=customer_id, purpose="pay")
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
        buttons.append(
            {
                "title": f"Past due {money(balance.past_due)}",
                "payload": payload("pay_bill", MONEY=money_text(balance.past_due)),
            }
        )
    if balance.total_due > 0 and balance.total_due != balance.past_due:
        buttons.append(
            {
                "title": f"Full balance {money(balance.total_due)}",
                "payload": payload("pay_bill", MONEY=money_text(balance.total_due)),
            }
        )
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
