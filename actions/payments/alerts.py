"""Naming a failed or expired payment method after an account answer (balance, due date, payment status)."""

from __future__ import annotations

from actions.base import AnswerContext
from actions.clients.errors import ServiceError
from actions.payments.common import PAY_NOW_BUTTON, UPDATE_CARD_BUTTON


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
