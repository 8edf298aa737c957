"""The built-in simulated processor (development, tests, the demo), driven by Stripe's documented test cards.

| card number         | tokenize | charge                                                         |
|---------------------|----------|----------------------------------------------------------------|
| 4242424242424242    | Visa     | succeeded                                                      |
| 5555555555554444    | Mastercard | succeeded                                                    |
| 378282246310005     | Amex     | succeeded                                                      |
| 4000000000000002    | Visa     | declined, card_declined                                        |
| 4000000000009995    | Visa     | declined, insufficient_funds                                   |
| 4000000000000069    | Visa     | declined, expired_card                                         |
| 4000000000003220    | Visa     | pending (3-D Secure style); the outcome comes by webhook       |

Any other number is refused (ProcessorDeclined incorrect_number), as in a processor's test mode; an expiry in
the past is refused (invalid_expiry), a CVC that is not 3-4 digits too (incorrect_cvc).
Tokens are stateless: they carry the behaviour, brand, last 4 and expiry, never the number. The same
idempotency key always gives the same charge reference, as a real processor's idempotency does.
"""

import hashlib
import json
import re
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

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
    sign_webhook,
    verify_webhook_signature,
)

SIGNATURE_HEADER = "Processor-Signature"

# number -> (brand, behaviour)
TEST_CARDS: dict[str, tuple[str, str]] = {
    "4242424242424242": ("Visa", "ok"),
    "5555555555554444": ("Mastercard", "ok"),
    "378282246310005": ("Amex", "ok"),
    "4000000000000002": ("Visa", "decline"),
    "4000000000009995": ("Visa", "funds"),
    "4000000000000069": ("Visa", "expired"),
    "4000000000003220": ("Visa", "3ds"),
}
_DECLINES = {
    "decline": DeclineReason.card_declined,
    "funds": DeclineReason.insufficient_funds,
    "expired": DeclineReason.expired_card,
}
_TOKEN = re.compile(
    r"^simpm_(?P<behaviour>ok|decline|funds|expired|3ds)_(?P<brand>[A-Za-z]{2,16})_(?P<last4>\d{4})_"
    r"(?P<month>\d{2})(?P<year>\d{4})_[0-9a-f]{8,32}$"
)
_REFERENCE = re.compile(r"^simch_[0-9a-f]{24}$")
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
# The types the backend acts on; any other well-formed type is acknowledged as unhandled.
_HANDLED_TYPES = frozenset(str(kind) for kind in WebhookEventType if kind != WebhookEventType.unhandled)


def _event_method(raw: dict[str, object] | None) -> CardDetails | None:
    """The card of a method.updated event (KeyError, TypeError, ValueError when a field is missing or bad)."""
    if not raw:
        return None
    return CardDetails(
        token=str(raw["token"]),
        brand=str(raw["brand"]),
        last4=str(raw["last4"]),
        exp_month=int(str(raw["exp_month"])),
        exp_year=int(str(raw["exp_year"])),
    )


def simulated_token(*, brand: str, last4: str, exp_month: int, exp_year: int, behaviour: str = "ok") -> str:
    """A token as tokenize_card makes it (the demo seed gives its cards such tokens)."""
    return f"simpm_{behaviour}_{brand}_{last4}_{exp_month:02d}{exp_year:04d}_{secrets.token_hex(8)}"


def _details(token: str) -> CardDetails:
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise ProcessorDeclined(
            DeclineReason.incorrect_number, "The processor does not know this payment method."
        )
    return CardDetails(
        token=token,
        brand=match["brand"],
        last4=match["last4"],
        exp_month=int(match["month"]),
        exp_year=int(match["year"]),
    )


class SimulatedProcessor:
    name = "simulated"

    def __init__(
        self, *, webhook_secret: str, webhook_tolerance_seconds: int = 300, outage: bool = False
    ) -> None:
        self.webhook_secret = webhook_secret
        self.webhook_tolerance_seconds = webhook_tolerance_seconds
        self.outage = outage  # True: every call raises ProcessorUnavailable (the "processor down" path)

    def _available(self) -> None:
        if self.outage:
            raise ProcessorUnavailable("The simulated processor is down (PAYMENTS_SIMULATED_OUTAGE).")

    def tokenize_card(self, *, number: str, exp_month: int, exp_year: int, cvc: str) -> CardDetails:
        self._available()
        digits = re.sub(r"[\s-]", "", number)
        if digits not in TEST_CARDS:
            raise ProcessorDeclined(DeclineReason.incorrect_number)
        if not 1 <= exp_month <= 12 or not 2000 <= exp_year <= 2100:
            raise ProcessorDeclined(DeclineReason.invalid_expiry)
        today = datetime.now(UTC).date()
        if (exp_year, exp_month) < (today.year, today.month):
            raise ProcessorDeclined(DeclineReason.invalid_expiry, "The expiry date is in the past.")
        if not re.fullmatch(r"\d{3,4}", cvc):
            raise ProcessorDeclined(DeclineReason.incorrect_cvc)
        brand, behaviour = TEST_CARDS[digits]
        token = simulated_token(
            brand=brand, last4=digits[-4:], exp_month=exp_month, exp_year=exp_year, behaviour=behaviour
        )
        return _details(token)

    def retrieve_method(self, *, token: str) -> CardDetails:
        self._available()
        return _details(token)

    def charge(
        self, *, token: str, amount: Decimal, currency: str, idempotency_key: str, description: str
    ) -> ChargeResult:
        self._available()
        if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
            raise ValueError(f"a charge needs a positive amount with 2 decimals, not {amount}")
        reference = "simch_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        match = _TOKEN.fullmatch(token)
        if match is None:
            return ChargeResult(ChargeStatus.declined, reference, DeclineReason.processing_error)
        behaviour = match["behaviour"]
        if behaviour in _DECLINES:
            return ChargeResult(ChargeStatus.declined, reference, _DECLINES[behaviour])
        if behaviour == "3ds":
            return ChargeResult(ChargeStatus.pending, reference)
        return ChargeResult(ChargeStatus.succeeded, reference)

    # --- webhooks -------------------------------------------------------------------------------------
    def event_payload(
        self,
        *,
        event_type: WebhookEventType | str,
        reference: str | None = None,
        decline_reason: DeclineReason | None = None,
        method: CardDetails | None = None,
        event_id: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """A signed event as the simulated processor would send it: (raw body, headers). Used by tests and
        `python -m backend.cli simulate-webhook` (e.g. to finish a 3-D Secure style pending charge)."""
        data: dict[str, object] = {"reference": reference}
        if decline_reason is not None:
            data["decline_reason"] = str(decline_reason)
        if method is not None:
            data["method"] = {
                "token": method.token,
                "brand": method.brand,
                "last4": method.last4,
                "exp_month": method.exp_month,
                "exp_year": method.exp_year,
            }
        body = json.dumps(
            {
                "id": event_id or f"evt_{secrets.token_hex(12)}",
                "type": str(event_type),
                "created": int(time.time()),
                "data": data,
            }
        ).encode()
        return body, {
            SIGNATURE_HEADER: sign_webhook(payload=body, secret=self.webhook_secret),
            "Content-Type": "application/json",
        }

    def parse_webhook(self, *, payload: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        header = next(
            (value for key, value in headers.items() if key.lower() == SIGNATURE_HEADER.lower()), None
        )
        verify_webhook_signature(
            payload=payload,
            header=header,
            secret=self.webhook_secret,
            tolerance_seconds=self.webhook_tolerance_seconds,
        )
        try:
            body = json.loads(payload)
            raw_type = str(body["type"])
            event_id = str(body["id"])
            occurred_at = datetime.fromtimestamp(int(body["created"]), UTC)
            data = body["data"]
            handled = raw_type in _HANDLED_TYPES
            event_type = WebhookEventType(raw_type) if handled else WebhookEventType.unhandled
            reason = DeclineReason(data["decline_reason"]) if data.get("decline_reason") else None
            method = _event_method(data.get("method"))
            reference = data.get("reference")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidWebhook(f"The webhook payload is not an event: {exc}") from exc
        if not re.fullmatch(r"evt_[A-Za-z0-9]{1,64}", event_id):
            raise InvalidWebhook("The webhook event id is malformed.")
        if event_type == WebhookEventType.unhandled:
            if not _EVENT_TYPE.fullmatch(raw_type):
                raise InvalidWebhook("The webhook event type is malformed.")
            return WebhookEvent(
                id=event_id, type=event_type, occurred_at=occurred_at, processor_type=raw_type
            )
        if event_type != WebhookEventType.method_updated and not (
            reference and _REFERENCE.fullmatch(reference)
        ):
            raise InvalidWebhook("A payment event must name the charge reference.")
        if event_type == WebhookEventType.method_updated and method is None:
            raise InvalidWebhook("A method.updated event must carry the method.")
        return WebhookEvent(
            id=event_id,
            type=event_type,
            occurred_at=occurred_at,
            reference=reference,
            decline_reason=reason,
            method=method,
        )
