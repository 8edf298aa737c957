"""The secure payment page (a new card, or paying with one): its single-use link sent in the chat ("update my
card", a card number typed in the chat, a payment that could not be taken here), and what the bot offers once
the page reports that it completed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions.base import TALK_TO_PERSON_BUTTON, AccountAnswerAction, AnswerContext, UsesPayments
from actions.clients.errors import ServiceError
from actions.clients.payments import PaymentsClient
from actions.conversation import current_customer_id, latest_turn
from actions.payments.amounts import has_card_number
from actions.payments.common import bot_actor, customer_message_number, idempotency_key

logger = logging.getLogger(__name__)


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
