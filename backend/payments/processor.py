"""The payment processor interface: what the backend asks of a processor, whichever one is configured.

Card data (number, CVC) only ever reaches a processor; the backend keeps the processor's token, the brand,
the last 4 digits and the expiry (`CardDetails`). Two implementations: `SimulatedProcessor`
(simulated_processor.py, development, tests and the demo) and `StripeProcessor` (stripe_processor.py).
The contract is docs/contracts.md, "Payments".
"""

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from backend.config import Settings


class ChargeStatus(StrEnum):
    succeeded = "succeeded"  # the money is taken: the payment posts at once
    pending = "pending"  # e.g. 3-D Secure style authentication: the outcome arrives later by webhook
    declined = "declined"  # nothing taken; `decline_reason` says why


class DeclineReason(StrEnum):
    card_declined = "card_declined"
    insufficient_funds = "insufficient_funds"
    expired_card = "expired_card"
    incorrect_number = "incorrect_number"
    invalid_expiry = "invalid_expiry"
    incorrect_cvc = "incorrect_cvc"
    authentication_failed = "authentication_failed"
    processing_error = "processing_error"


# Sentences a customer may read (never the processor's raw text).
DECLINE_MESSAGES: dict[DeclineReason, str] = {
    DeclineReason.card_declined: "The card was declined by the bank.",
    DeclineReason.insufficient_funds: "The card was declined for insufficient funds.",
    DeclineReason.expired_card: "The card has expired.",
    DeclineReason.incorrect_number: "The card number is not valid.",
    DeclineReason.invalid_expiry: "The expiry date is not valid.",
    DeclineReason.incorrect_cvc: "The security code is not valid.",
    DeclineReason.authentication_failed: "The bank's authentication of the payment failed.",
    DeclineReason.processing_error: "The payment processor could not process the card.",
}


class WebhookEventType(StrEnum):
    payment_succeeded = "payment.succeeded"
    payment_failed = "payment.failed"
    method_updated = "method.updated"
    # Correctly signed, but of a type this backend does not act on: acknowledged (200, "ignored") so the
    # processor stops redelivering it; only a bad signature, a stale timestamp or a non-event is refused.
    unhandled = "unhandled"


@dataclass(frozen=True)
class CardDetails:
    """All the backend ever stores about a card: the processor's token and what may be shown."""

    token: str
    brand: str  # "Visa", "Mastercard", "Amex", ...
    last4: str
    exp_month: int
    exp_year: int
    kind: str = "card"

    @property
    def expires_on(self) -> date:
        """The last day of the expiry month (a card is valid through it)."""
        first_of_next = date(self.exp_year + self.exp_month // 12, self.exp_month % 12 + 1, 1)
        return date.fromordinal(first_of_next.toordinal() - 1)


@dataclass(frozen=True)
class ChargeResult:
    status: ChargeStatus
    reference: str  # the processor's id of the charge; webhooks name it
    decline_reason: DeclineReason | None = None

    @property
    def message(self) -> str | None:
        return DECLINE_MESSAGES[self.decline_reason] if self.decline_reason else None


@dataclass(frozen=True)
class WebhookEvent:
    id: str  # unique per event; a redelivery has the same id
    type: WebhookEventType
    occurred_at: datetime
    reference: str | None = None  # the charge, for payment.* events
    decline_reason: DeclineReason | None = None  # payment.failed
    method: CardDetails | None = None  # method.updated: the token and its new details
    processor_type: str | None = None  # the processor's own name of an unhandled event, kept for the record


class ProcessorError(Exception):
    """Base of the processor's errors; the router maps them (docs/contracts.md)."""


class ProcessorUnavailable(ProcessorError):
    """No answer (timeout, connection refused, 5xx): the outcome is unknown, nothing is recorded as paid.
    Repeating the call with the same idempotency key is safe."""


class ProcessorDeclined(ProcessorError):
    """The processor refused card details (tokenize/retrieve).

    A declined *charge* is a ChargeResult instead."""

    def __init__(self, reason: DeclineReason, message: str | None = None) -> None:
        super().__init__(message or DECLINE_MESSAGES[reason])
        self.reason = reason


class InvalidWebhook(ProcessorError):
    """Bad or missing signature, a timestamp outside the tolerance, or a payload that is not an event."""


@runtime_checkable
class PaymentProcessor(Protocol):
    name: str  # "simulated", "stripe": stored with each method and payment

    def tokenize_card(self, *, number: str, exp_month: int, exp_year: int, cvc: str) -> CardDetails:
        """Card data -> a reusable token.

        Raises ProcessorDeclined (bad number/expiry/cvc) or ProcessorUnavailable."""
        ...

    def retrieve_method(self, *, token: str) -> CardDetails:
        """The details of a token made by the processor (e.g. by its own page or JS). Raises ProcessorDeclined
        (incorrect_number: unknown token) or ProcessorUnavailable."""
        ...

    def charge(
        self, *, token: str, amount: Decimal, currency: str, idempotency_key: str, description: str
    ) -> ChargeResult:
        """Charges `amount` (Decimal, > 0, 2 decimals). The same idempotency_key always gives the same charge.
        A decline is a result (status declined), not an exception. Raises ProcessorUnavailable."""
        ...

    def parse_webhook(self, *, payload: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Verifies the signature and maps the processor's event to a WebhookEvent. Raises InvalidWebhook."""
        ...


# --- The webhook signature scheme (Stripe's): header "t=<unix seconds>,v1=<hex HMAC-SHA256>" over
# "<t>.<raw body>" with the shared secret; the simulated processor uses it under the name Processor-Signature.


def sign_webhook(*, payload: bytes, secret: str, timestamp: int | None = None) -> str:
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def verify_webhook_signature(
    *, payload: bytes, header: str | None, secret: str, tolerance_seconds: int, now: float | None = None
) -> None:
    if not secret:
        raise InvalidWebhook("Webhooks are refused: PAYMENTS_WEBHOOK_SECRET is not set for this environment.")
    if not header:
        raise InvalidWebhook("The webhook has no signature header.")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        stamp = int(parts["t"][0])
    except (KeyError, ValueError) as exc:
        raise InvalidWebhook("The webhook signature has no timestamp.") from exc
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance_seconds:
        raise InvalidWebhook("The webhook signature's timestamp is outside the tolerance.")
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", [])):
        raise InvalidWebhook("The webhook signature does not match.")


def make_processor(settings: "Settings") -> PaymentProcessor:
    """The processor named by PAYMENTS_PROCESSOR. Builds clients only; connects to nothing."""
    if settings.payments_processor == "stripe":
        # The adapter is another helper's file; imported only when configured (the stripe library is heavy).
        from backend.payments.stripe_processor import StripeProcessor

        processor: PaymentProcessor = StripeProcessor(settings)
        return processor
    from backend.config import DEFAULT_WEBHOOK_SECRET
    from backend.payments.simulated_processor import SimulatedProcessor

    return SimulatedProcessor(
        webhook_secret=settings.usable_secret(settings.payments_webhook_secret, DEFAULT_WEBHOOK_SECRET) or "",
        webhook_tolerance_seconds=settings.payments_webhook_tolerance_seconds,
        outage=settings.payments_simulated_outage,
    )
