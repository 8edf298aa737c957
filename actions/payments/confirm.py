"""Paying with the method on file, after the customer's explicit yes to a stated quote: the quote is confirmed
once (the backend's one payment), and the customer is told whether it posted, is pending or was declined."""

from __future__ import annotations

from decimal import Decimal

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions.base import TALK_TO_PERSON_BUTTON, UsesPayments, utter_backend_unavailable
from actions.clients.errors import BackendUnavailable
from actions.clients.payments import PaymentRefused, ProcessorUnavailable
from actions.formatting import format_date, format_money
from actions.payments.common import (
    PAY_NOW_BUTTON,
    SECURE_PAGE_BUTTON,
    bot_actor,
    confirmed_offer,
    idempotency_key,
)
from actions.payments.secure_page import send_secure_page_link

PAYMENT_SLOTS = ("payment_amount", "payment_offer", "payment_confirmed")


class ActionSubmitPayment(UsesPayments, Action):
    """Runs when payment_form ends: after "yes", the quote is confirmed once (the backend's one payment)."""

    def name(self) -> str:
        return "action_submit_payment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset = [SlotSet(slot, None) for slot in PAYMENT_SLOTS]
        # money moves only in a turn the handoff service signed, after an explicit yes to a stated quote
        confirmed = confirmed_offer(
            dispatcher,
            tracker,
            offer_slot="payment_offer",
            confirmed_slot="payment_confirmed",
            not_done_response="utter_payment_cancelled",
        )
        if confirmed is None:
            return reset
        customer_id, offer = confirmed
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
