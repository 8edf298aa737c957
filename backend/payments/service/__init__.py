"""Payments: the record of payments received, the methods on file, and taking a payment through the processor.

Taking a payment is two steps: a quote (amount and method, for the customer to confirm) and its confirmation,
which charges once whatever the number of confirmations (the quote row is locked, the processor gets the quote
id as its idempotency key). Every write is idempotent (payments/idempotency.py) and audited with the actor.

One use case a module, each function keyword-only after the session (database work here, the processor's
charge kept apart from recording it):
    reads.py             payments received, methods on file and ways to pay, alerts
    methods.py           the method that is charged, saving a new one
    quotes.py            a quote to confirm
    confirm.py           confirming it: one charge
    charges.py           the processor's charge, then the payment recorded
    outcomes.py          a processor outcome applied, and what follows money moving
    account_settings.py  autopay and paperless
    webhooks.py          the processor's events
The router, the secure payment page, the billing jobs and reminders import them from here.
"""

from backend.payments.service.account_settings import set_autopay, set_paperless
from backend.payments.service.charges import Charged, charge_and_record, payment_result
from backend.payments.service.confirm import confirm_quote
from backend.payments.service.methods import (
    default_method,
    is_expired,
    method_out,
    save_payment_method,
    usable_method,
)
from backend.payments.service.outcomes import after_money_moved, apply_deferred_events
from backend.payments.service.quotes import create_quote, parse_amount
from backend.payments.service.reads import (
    last_autopay,
    list_payments,
    next_autopay,
    payment_alerts,
    payment_methods,
)
from backend.payments.service.webhooks import handle_webhook

__all__ = [
    "Charged",
    "after_money_moved",
    "apply_deferred_events",
    "charge_and_record",
    "confirm_quote",
    "create_quote",
    "default_method",
    "handle_webhook",
    "is_expired",
    "last_autopay",
    "list_payments",
    "method_out",
    "next_autopay",
    "parse_amount",
    "payment_alerts",
    "payment_methods",
    "payment_result",
    "save_payment_method",
    "set_autopay",
    "set_paperless",
    "usable_method",
]
