"""Paying from the chat (issue 16): take a payment with the method on file, the secure payment page for a new
card, autopay and paperless, and naming a failed or expired method in account answers.

Nothing is charged or changed without an explicit "yes" to a question that states the amount, the method
and what follows. The backend checks every figure (docs/contracts.md, "Payments"); the bot states its quote.
Writes carry `X-Actor: bot:<conversation>` and an Idempotency-Key derived from the conversation and what is
confirmed, so a double click, a resent message or a retried action call cannot pay or change anything twice.

One use case a module (rasa-sdk's action server imports each of them and registers their actions):
    amounts.py      what the customer asked to pay, from their words
    quote.py        how much, quoted by the backend, and the question that states it (validate_payment_form)
    confirm.py      the yes: the quote confirmed once (action_submit_payment)
    settings.py     autopay and paperless on or off (validate_account_setting_form and its actions)
    secure_page.py  the secure payment page's link, and the autopay offer after the page completed
    alerts.py       an expired or failed method named after an account answer
    common.py       buttons, the questions a payment form leaves to the rules, X-Actor and Idempotency-Key
This package re-exports what other modules and the tests import from `actions.payments`.
"""

from actions.payments.alerts import name_payment_method_alerts
from actions.payments.amounts import AmountProblem, has_card_number, parse_amount, requested_amount
from actions.payments.common import (
    NO,
    PAY_NOW_BUTTON,
    QUESTION_INTENTS,
    SECURE_PAGE_BUTTON,
    UPDATE_CARD_BUTTON,
    YES,
    bot_actor,
    customer_message_number,
    idempotency_key,
    payload,
)
from actions.payments.confirm import PAYMENT_SLOTS, ActionSubmitPayment
from actions.payments.quote import (
    ActionAskPaymentAmount,
    ActionAskPaymentConfirmed,
    ValidatePaymentForm,
    payment_amount_buttons,
    quote_offer,
)
from actions.payments.secure_page import (
    ActionPaymentPageCompleted,
    ActionSendSecurePaymentLink,
    send_secure_page_link,
)
from actions.payments.settings import (
    SETTING_SLOTS,
    ActionAskSettingConfirmed,
    ActionSubmitSettingChange,
    ValidateAccountSettingForm,
    asks_autopay_state,
    setting_requested,
)

__all__ = [
    "NO",
    "PAYMENT_SLOTS",
    "PAY_NOW_BUTTON",
    "QUESTION_INTENTS",
    "SECURE_PAGE_BUTTON",
    "SETTING_SLOTS",
    "UPDATE_CARD_BUTTON",
    "YES",
    "ActionAskPaymentAmount",
    "ActionAskPaymentConfirmed",
    "ActionAskSettingConfirmed",
    "ActionPaymentPageCompleted",
    "ActionSendSecurePaymentLink",
    "ActionSubmitPayment",
    "ActionSubmitSettingChange",
    "AmountProblem",
    "ValidateAccountSettingForm",
    "ValidatePaymentForm",
    "asks_autopay_state",
    "bot_actor",
    "customer_message_number",
    "has_card_number",
    "idempotency_key",
    "name_payment_method_alerts",
    "parse_amount",
    "payload",
    "payment_amount_buttons",
    "quote_offer",
    "requested_amount",
    "send_secure_page_link",
    "setting_requested",
]
