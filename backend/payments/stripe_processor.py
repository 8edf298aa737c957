"""The PaymentProcessor for Stripe, through Stripe's official Python library (`stripe`, pinned).

Configured by environment (docs/contracts.md, "Payments"): PAYMENTS_PROCESSOR=stripe, STRIPE_API_KEY,
STRIPE_API_BASE (only to point at a stand-in; empty means Stripe itself), PAYMENTS_WEBHOOK_SECRET (the
endpoint's `whsec_...` signing secret) and PAYMENTS_WEBHOOK_TOLERANCE_SECONDS.

Stripe calls made, and nothing else:
- `POST /v1/payment_methods` (type=card): tokenize_card; `GET /v1/payment_methods/{pm}`: retrieve_method;
- `POST /v1/customers` + `POST /v1/payment_methods/{pm}/attach`: a method is attached to a Stripe customer
  of its own, because Stripe lets only an attached PaymentMethod be charged more than once (autopay);
- `POST /v1/payment_intents` with confirm=true and the caller's Idempotency-Key: charge.
Our token for a method is `<customer id>:<payment method id>` (both are needed to charge an attached method).
Webhooks are verified with `stripe.Webhook.construct_event` (header `Stripe-Signature: t=...,v1=...`).
"""
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import stripe
from stripe._base_address import BaseAddresses

from backend.payments.processor import (
    CardDetails,
    ChargeResult,
    ChargeStatus,
    DeclineReason,
    InvalidWebhook,
    ProcessorDeclined,
    ProcessorUnavailable,
    WebhookEvent,
    WebhookEventType,
)

if TYPE_CHECKING:
    from backend.config import Settings

logger = logging.getLogger("backend.payments.stripe")
UNKNOWN_METHOD = "The processor does not know this payment method."
SIGNATURE_HEADER = "Stripe-Signature"

# Stripe's currencies without minor units (amounts are sent in whole units); every other one has cents.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof",
     "xpf"}
)
BRANDS = {
    "amex": "Amex", "diners": "Diners", "discover": "Discover", "eftpos_au": "Eftpos", "jcb": "JCB",
    "mastercard": "Mastercard", "unionpay": "UnionPay", "visa": "Visa",
}
# Stripe's error `code` / `decline_code` -> our reason; anything else a bank refused is card_declined.
DECLINE_CODES = {
    "insufficient_funds": DeclineReason.insufficient_funds,
    "expired_card": DeclineReason.expired_card,
    "incorrect_number": DeclineReason.incorrect_number,
    "invalid_number": DeclineReason.incorrect_number,
    "invalid_expiry_month": DeclineReason.invalid_expiry,
    "invalid_expiry_year": DeclineReason.invalid_expiry,
    "incorrect_cvc": DeclineReason.incorrect_cvc,
    "invalid_cvc": DeclineReason.incorrect_cvc,
    "authentication_required": DeclineReason.authentication_failed,
    "processing_error": DeclineReason.processing_error,
}
# A PaymentIntent in these states has taken nothing yet but may still succeed: the outcome comes by webhook.
PENDING_INTENT_STATES = frozenset(
    {"processing", "requires_action", "requires_confirmation", "requires_capture"}
)
WEBHOOK_TYPES = {
    "payment_intent.succeeded": WebhookEventType.payment_succeeded,
    "payment_intent.payment_failed": WebhookEventType.payment_failed,
    "payment_method.updated": WebhookEventType.method_updated,
    "payment_method.automatically_updated": WebhookEventType.method_updated,
}


class _DropRequestBodies(logging.Filter):
    """The library logs each request's form (card numbers when tokenizing) and answer at DEBUG: never kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "Post details" not in message and "API response body" not in message


DROP_REQUEST_BODIES = _DropRequestBodies()


def to_minor_units(*, amount: Decimal, currency: str) -> int:
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"a charge needs a positive amount with 2 decimals, not {amount}")
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        if amount != amount.to_integral_value():
            raise ValueError(f"{currency.upper()} has no minor units: {amount} cannot be charged")
        return int(amount)
    return int(amount * 100)


def decline_reason(error: Mapping[str, Any] | None) -> DeclineReason:
    """Our reason from Stripe's error object (`code`, `decline_code`)."""
    if not error:
        return DeclineReason.card_declined
    for key in ("decline_code", "code"):
        reason = DECLINE_CODES.get(str(error.get(key) or ""))
        if reason is not None:
            return reason
    return DeclineReason.card_declined


def _error_object(exc: stripe.StripeError) -> dict[str, Any]:
    body = exc.json_body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return dict(body["error"])
    return {}


def split_token(token: str) -> tuple[str | None, str]:
    customer, separator, method = token.partition(":")
    return (customer, method) if separator else (None, customer)


class StripeProcessor:
    name = "stripe"

    def __init__(
        self, settings: "Settings", *, timeout_seconds: float = 20.0, max_network_retries: int = 1,
    ) -> None:
        if settings.stripe_api_key is None or not settings.stripe_api_key.get_secret_value():
            raise ValueError("PAYMENTS_PROCESSOR is 'stripe' but STRIPE_API_KEY is not set")
        if stripe.log == "debug" or os.environ.get("STRIPE_LOG") == "debug":
            raise ValueError("STRIPE_LOG=debug prints every request, card numbers included: unset it")
        logging.getLogger("stripe").addFilter(DROP_REQUEST_BODIES)  # one instance: added once, however often
        self.webhook_secret = settings.payments_webhook_secret.get_secret_value()
        self.webhook_tolerance_seconds = settings.payments_webhook_tolerance_seconds
        base_addresses: BaseAddresses = {}
        if settings.stripe_api_base:
            base_addresses["api"] = settings.stripe_api_base.rstrip("/")
        # Retries (connection errors, 409, 5xx) resend the same Idempotency-Key, so a charge is never doubled.
        self.client = stripe.StripeClient(
            settings.stripe_api_key.get_secret_value(),
            base_addresses=base_addresses,
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout_seconds),
        )

    # --- methods ------------------------------------------------------------------------------------------
    def tokenize_card(self, *, number: str, exp_month: int, exp_year: int, cvc: str) -> CardDetails:
        card = {"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": cvc}
        # `card` with raw numbers: Stripe takes it in test mode and from accounts allowed raw card data.
        params: dict[str, Any] = {"type": "card", "card": card}
        method = self._call(lambda: self.client.v1.payment_methods.create(params))  # type: ignore[arg-type]  # plain dict of documented params
        return self._attach(method)

    def retrieve_method(self, *, token: str) -> CardDetails:
        customer, method_id = split_token(token)
        method = self._call(lambda: self.client.v1.payment_methods.retrieve(method_id))
        if customer is not None and method.get("customer") != customer:
            raise ProcessorDeclined(DeclineReason.incorrect_number, UNKNOWN_METHOD)
        return self._attach(method)

    def _attach(self, method: dict[str, Any]) -> CardDetails:
        """Attaches a method to a Stripe customer of its own (once: idempotency keys make repeats no-ops)."""
        if method.get("type") != "card" or not method.get("card"):
            raise ProcessorDeclined(DeclineReason.processing_error, "Only cards can be saved here.")
        customer = method.get("customer")
        if not customer:
            method_id = method["id"]
            created = self._call(lambda: self.client.v1.customers.create(
                {"metadata": {"payment_method": method_id}}, {"idempotency_key": f"customer-for-{method_id}"}
            ))
            method = self._call(lambda: self.client.v1.payment_methods.attach(
                method["id"], {"customer": created["id"]}, {"idempotency_key": f"attach-{method['id']}"}
            ))
            customer = created["id"]
        return self._details(method, customer=str(customer))

    @staticmethod
    def _details(method: Mapping[str, Any], *, customer: str | None) -> CardDetails:
        card = method["card"]
        token = f"{customer}:{method['id']}" if customer else str(method["id"])
        return CardDetails(
            token=token, brand=BRANDS.get(str(card["brand"]), str(card["brand"]).title()),
            last4=str(card["last4"]), exp_month=int(card["exp_month"]), exp_year=int(card["exp_year"]),
        )

    def _call(self, request: Any) -> dict[str, Any]:
        """One library call, its answer as a plain dict; its failures as this interface's: a card refused ->
        ProcessorDeclined; no or a bad answer (timeout, no connection, 5xx, 429, key refused) ->
        ProcessorUnavailable."""
        try:
            answer: stripe.StripeObject = request()
            return dict(answer.to_dict())
        except stripe.CardError as exc:
            raise ProcessorDeclined(decline_reason(_error_object(exc))) from exc
        except stripe.InvalidRequestError as exc:
            if exc.code == "resource_missing":
                raise ProcessorDeclined(DeclineReason.incorrect_number, UNKNOWN_METHOD) from exc
            logger.error("Stripe refused a request: %s (%s)", exc.code, exc.http_status)
            raise ProcessorUnavailable("The payment processor refused the request.") from exc
        except (stripe.AuthenticationError, stripe.PermissionError) as exc:
            logger.error("Stripe refused the API key (%s): check STRIPE_API_KEY", exc.http_status)
            raise ProcessorUnavailable("The payment processor is not reachable with our key.") from exc
        except stripe.StripeError as exc:  # APIConnectionError (timeouts), APIError (5xx), RateLimitError...
            logger.warning("Stripe unavailable: %s %s", type(exc).__name__, exc.http_status or "")
            raise ProcessorUnavailable("The payment processor did not answer.") from exc

    # --- charges ------------------------------------------------------------------------------------------
    def charge(
        self, *, token: str, amount: Decimal, currency: str, idempotency_key: str, description: str
    ) -> ChargeResult:
        customer, method_id = split_token(token)
        params: dict[str, Any] = {
            "amount": to_minor_units(amount=amount, currency=currency),
            "currency": currency.lower(),
            "payment_method": method_id,
            "confirm": True,
            "description": description,
            "payment_method_types": ["card"],
        }
        if customer:
            params["customer"] = customer
        try:
            intent = self._call(lambda: self.client.v1.payment_intents.create(
                params, {"idempotency_key": idempotency_key}  # type: ignore[arg-type]  # a plain dict of documented params
            ))
        except ProcessorDeclined as declined:
            card_error = declined.__cause__
            error = _error_object(card_error) if isinstance(card_error, stripe.StripeError) else {}
            intent_id = (error.get("payment_intent") or {}).get("id")
            reference = str(intent_id or f"declined:{idempotency_key}")
            return ChargeResult(ChargeStatus.declined, reference, declined.reason)
        status = intent.get("status")
        if status == "succeeded":
            return ChargeResult(ChargeStatus.succeeded, str(intent["id"]))
        if status in PENDING_INTENT_STATES:
            return ChargeResult(ChargeStatus.pending, str(intent["id"]))
        reason = decline_reason(intent.get("last_payment_error"))
        return ChargeResult(ChargeStatus.declined, str(intent["id"]), reason)

    # --- webhooks -----------------------------------------------------------------------------------------
    def parse_webhook(self, *, payload: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        header = next((value for key, value in headers.items() if key.lower() == SIGNATURE_HEADER.lower()),
                      None)
        try:
            event = stripe.Webhook.construct_event(
                payload, header, self.webhook_secret, self.webhook_tolerance_seconds
            ).to_dict()
        except stripe.SignatureVerificationError as exc:
            raise InvalidWebhook(f"The Stripe signature does not verify: {exc.user_message or exc}") from exc
        except ValueError as exc:
            raise InvalidWebhook("The webhook body is not a Stripe event.") from exc
        event_type = WEBHOOK_TYPES.get(str(event.get("type")))
        try:
            occurred_at = datetime.fromtimestamp(int(event["created"]), UTC)
            if event_type is None:  # signed by Stripe but not one we act on: acknowledged, never retried
                return WebhookEvent(
                    id=str(event["id"]), type=WebhookEventType.unhandled, occurred_at=occurred_at,
                    processor_type=str(event["type"])[:100],
                )
            obj = event["data"]["object"]
            if event_type == WebhookEventType.method_updated:
                customer = obj.get("customer")
                return WebhookEvent(
                    id=str(event["id"]), type=event_type, occurred_at=occurred_at,
                    method=self._details(obj, customer=str(customer) if customer else None),
                )
            failed = event_type == WebhookEventType.payment_failed
            reason = decline_reason(obj.get("last_payment_error")) if failed else None
            return WebhookEvent(
                id=str(event["id"]), type=event_type, occurred_at=occurred_at, reference=str(obj["id"]),
                decline_reason=reason,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidWebhook(f"The Stripe event lacks a field: {exc}") from exc
