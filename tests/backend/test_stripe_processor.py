"""The Stripe adapter against a local HTTP stand-in following Stripe's documented API for the calls it makes.

The stand-in is a real HTTP server (FastAPI under uvicorn, in a thread): form-encoded bodies, `Bearer sk_...`,
`Idempotency-Key` replays (the same key with other parameters is an `idempotency_error`), errors in Stripe's
shape `{"error": {"type", "code", "decline_code", "message", "payment_intent"?}}` with Stripe's status codes,
and Stripe's test card numbers. Webhooks are signed here independently of the code under test.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from backend.config import Settings
from backend.payments.processor import (
    ChargeStatus,
    DeclineReason,
    InvalidWebhook,
    ProcessorDeclined,
    ProcessorUnavailable,
    WebhookEventType,
    make_processor,
)
from backend.payments.stripe_processor import StripeProcessor, to_minor_units
from tests.support.stack import free_port

JSONDict = dict[str, Any]
API_KEY = "sk_test_standin_key"
WEBHOOK_SECRET = "whsec_standin_secret"
# Stripe's documented test cards: number -> (brand, what confirming a PaymentIntent does)
TEST_CARDS = {
    "4242424242424242": ("visa", "succeeds"),
    "5555555555554444": ("mastercard", "succeeds"),
    "4000000000000002": ("visa", "generic_decline"),
    "4000000000009995": ("visa", "insufficient_funds"),
    "4000000000000069": ("visa", "expired_card"),
    "4000000000003220": ("visa", "requires_action"),
}


@dataclass
class StripeStandIn:
    """State of the stand-in; tests read what it received and inject faults."""

    methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    customers: set[str] = field(default_factory=set)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    replays: dict[str, tuple[dict[str, Any], int, dict[str, Any]]] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)  # status codes for the next requests (5xx, 429)
    delay_seconds: float = 0.0
    url: str = ""

    def posts(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.received if r["method"] == "POST" and r["path"] == path]


def stripe_error(status: int, **error: Any) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status)


def standin_of(request: Request) -> StripeStandIn:
    state: StripeStandIn = request.app.state.standin
    return state


async def record_and_authenticate(request: Request, call_next: Any) -> Any:
    state = standin_of(request)
    form = dict(await request.form()) if request.method == "POST" else {}
    state.received.append({
        "method": request.method, "path": request.url.path, "form": form,
        "content_type": request.headers.get("content-type", ""),
        "idempotency_key": request.headers.get("idempotency-key"),
        "stripe_version": request.headers.get("stripe-version"),
    })
    if state.delay_seconds:
        await asyncio.sleep(state.delay_seconds)  # longer than the client waits: it must time out
    if state.fail_next:
        return stripe_error(state.fail_next.pop(0), type="api_error", message="An error occurred.")
    if request.headers.get("authorization") != f"Bearer {API_KEY}":
        return stripe_error(401, type="invalid_request_error", message="Invalid API Key provided.")
    request.state.form = form
    return await call_next(request)


def no_such(what: str, param: str | None = None) -> JSONResponse:
    return stripe_error(404, type="invalid_request_error", code="resource_missing", param=param,
                        message=f"No such {what}")


def public(method: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in method.items() if not key.startswith("_")}


async def create_method(request: Request) -> Any:
    state, form = standin_of(request), request.state.form
    number = str(form.get("card[number]", ""))
    if form.get("type") != "card" or number not in TEST_CARDS:
        return stripe_error(402, type="card_error", code="incorrect_number", param="number",
                            message="Your card number is incorrect.")
    brand, behaviour = TEST_CARDS[number]
    method_id = f"pm_{secrets.token_hex(12)}"
    state.methods[method_id] = {
        "id": method_id, "object": "payment_method", "type": "card", "customer": None,
        "card": {"brand": brand, "last4": number[-4:], "exp_month": int(form["card[exp_month]"]),
                 "exp_year": int(form["card[exp_year]"])},
        "_behaviour": behaviour,
    }
    return public(state.methods[method_id])


async def retrieve_method(method_id: str, request: Request) -> Any:
    method = standin_of(request).methods.get(method_id)
    return public(method) if method else no_such(f"PaymentMethod: '{method_id}'", "payment_method")


async def create_customer(request: Request) -> Any:
    state, key = standin_of(request), request.headers.get("idempotency-key")
    if key and key in state.replays:
        return state.replays[key][2]
    body = {"id": f"cus_{secrets.token_hex(8)}", "object": "customer"}
    state.customers.add(body["id"])
    if key:
        state.replays[key] = (dict(request.state.form), 200, body)
    return body


async def attach(method_id: str, request: Request) -> Any:
    state, customer = standin_of(request), request.state.form.get("customer")
    method = state.methods.get(method_id)
    if method is None or customer not in state.customers:
        return no_such("PaymentMethod or customer")
    method["customer"] = customer
    return public(method)


def confirmed_intent(method: dict[str, Any], form: dict[str, Any]) -> tuple[int, dict[str, Any], JSONDict]:
    """What confirming a PaymentIntent with this test card does: (status code, body, the intent)."""
    intent = {"id": f"pi_{secrets.token_hex(12)}", "object": "payment_intent", "amount": int(form["amount"]),
              "currency": form["currency"], "payment_method": method["id"], "status": "succeeded",
              "last_payment_error": None}
    behaviour = method["_behaviour"]
    if behaviour == "requires_action":
        intent["status"] = "requires_action"
    elif behaviour != "succeeds":
        code = "expired_card" if behaviour == "expired_card" else "card_declined"
        error = {"type": "card_error", "code": code, "decline_code": behaviour, "message": "Card declined."}
        intent.update(status="requires_payment_method", last_payment_error=error)
        return 402, {"error": {**error, "payment_intent": intent}}, intent
    return 200, intent, intent


async def create_intent(request: Request) -> Any:
    state, form = standin_of(request), dict(request.state.form)
    key = request.headers.get("idempotency-key")
    if key and key in state.replays:
        params, status, body = state.replays[key]
        if params != form:
            return stripe_error(400, type="idempotency_error",
                                message="Keys can only be used with the same parameters.")
        return JSONResponse(body, status_code=status)
    method = state.methods.get(str(form.get("payment_method")))
    if method is None:
        return no_such("PaymentMethod", "payment_method")
    if method["customer"] and form.get("customer") != method["customer"]:
        return stripe_error(400, type="invalid_request_error", code="payment_method_invalid_parameter",
                            message="The provided PaymentMethod belongs to another customer.")
    status, body, intent = confirmed_intent(method, form)
    state.intents[intent["id"]] = intent
    if key:
        state.replays[key] = (form, status, body)
    return JSONResponse(body, status_code=status)


def build_standin(state: StripeStandIn) -> FastAPI:
    app = FastAPI()
    app.state.standin = state
    app.middleware("http")(record_and_authenticate)
    app.post("/v1/payment_methods")(create_method)
    app.get("/v1/payment_methods/{method_id}")(retrieve_method)
    app.post("/v1/customers")(create_customer)
    app.post("/v1/payment_methods/{method_id}/attach")(attach)
    app.post("/v1/payment_intents")(create_intent)
    return app


@pytest.fixture(scope="module")
def standin() -> Iterator[StripeStandIn]:
    state = StripeStandIn()
    port = free_port()
    config = uvicorn.Config(build_standin(state), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the Stripe stand-in did not start"
        time.sleep(0.05)
    state.url = f"http://127.0.0.1:{port}"
    yield state
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def fresh(standin: StripeStandIn) -> StripeStandIn:
    standin.received.clear()
    standin.fail_next.clear()
    standin.delay_seconds = 0.0
    return standin


def stripe_settings(api_base: str, *, api_key: str = API_KEY) -> Settings:
    return Settings(
        APP_ENV="development", PAYMENTS_PROCESSOR="stripe", STRIPE_API_KEY=api_key, STRIPE_API_BASE=api_base,
        PAYMENTS_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )


@pytest.fixture
def processor(fresh: StripeStandIn) -> StripeProcessor:
    return StripeProcessor(stripe_settings(fresh.url), timeout_seconds=2, max_network_retries=1)


def test_make_processor_builds_the_stripe_adapter_from_the_environment_and_needs_a_key(
    fresh: StripeStandIn,
) -> None:
    assert isinstance(make_processor(stripe_settings(fresh.url)), StripeProcessor)
    with pytest.raises(ValueError, match="STRIPE_API_KEY"):
        StripeProcessor(Settings(APP_ENV="development", PAYMENTS_PROCESSOR="stripe"))
    assert fresh.received == [], "building the adapter connects to nothing"


def test_a_card_becomes_an_attached_payment_method_and_only_its_token_and_details_come_back(
    processor: StripeProcessor, fresh: StripeStandIn
) -> None:
    details = processor.tokenize_card(number="4242424242424242", exp_month=12, exp_year=2034, cvc="123")
    customer, _, method_id = details.token.partition(":")
    assert (details.brand, details.last4, details.exp_month, details.exp_year) == ("Visa", "4242", 12, 2034)
    assert customer.startswith("cus_") and method_id.startswith("pm_")
    assert fresh.methods[method_id]["customer"] == customer
    created = fresh.posts("/v1/payment_methods")[0]
    assert created["content_type"].startswith("application/x-www-form-urlencoded")
    assert created["form"]["card[number]"] == "4242424242424242" and created["form"]["type"] == "card"
    assert created["stripe_version"], "the library names its API version"
    assert [r["path"] for r in fresh.received] == [
        "/v1/payment_methods", "/v1/customers", f"/v1/payment_methods/{method_id}/attach",
    ]
    assert processor.retrieve_method(token=details.token) == details
    assert processor.retrieve_method(token=method_id) == details  # a bare id (Stripe.js), already attached


def test_card_details_stripe_refuses_and_unknown_methods_are_declined(processor: StripeProcessor) -> None:
    with pytest.raises(ProcessorDeclined) as refused:
        processor.tokenize_card(number="4242424242424241", exp_month=12, exp_year=2034, cvc="123")
    assert refused.value.reason == DeclineReason.incorrect_number
    with pytest.raises(ProcessorDeclined):
        processor.retrieve_method(token="pm_doesnotexist")
    other = processor.tokenize_card(number="5555555555554444", exp_month=1, exp_year=2033, cvc="123")
    _, _, method_id = other.token.partition(":")
    with pytest.raises(ProcessorDeclined):
        processor.retrieve_method(token=f"cus_someoneelse:{method_id}")


def test_a_charge_is_one_confirmed_payment_intent_per_idempotency_key(
    processor: StripeProcessor, fresh: StripeStandIn
) -> None:
    card = processor.tokenize_card(number="4242424242424242", exp_month=12, exp_year=2034, cvc="123")
    first = processor.charge(token=card.token, amount=Decimal("75.00"), currency="USD",
                             idempotency_key="pay-farid-0001", description="ACC-100006 past due")
    again = processor.charge(token=card.token, amount=Decimal("75.00"), currency="USD",
                             idempotency_key="pay-farid-0001", description="ACC-100006 past due")
    assert first.status == ChargeStatus.succeeded and again == first
    assert len([i for i in fresh.intents.values() if i["id"] == first.reference]) == 1
    sent = fresh.posts("/v1/payment_intents")
    assert [r["idempotency_key"] for r in sent] == ["pay-farid-0001", "pay-farid-0001"]
    form = sent[0]["form"]
    assert (form["amount"], form["currency"], form["confirm"]) == ("7500", "usd", "true")
    assert form["customer"] == card.token.split(":")[0] and form["payment_method"] == card.token.split(":")[1]
    other = processor.charge(token=card.token, amount=Decimal("0.01"), currency="usd",
                             idempotency_key="pay-farid-0002", description="one cent")
    assert other.reference != first.reference and fresh.intents[other.reference]["amount"] == 1


@pytest.mark.parametrize(("number", "reason"), [
    ("4000000000000002", DeclineReason.card_declined),
    ("4000000000009995", DeclineReason.insufficient_funds),
    ("4000000000000069", DeclineReason.expired_card),
])
def test_declines_are_results_with_stripes_reason_and_the_intent_as_reference(
    processor: StripeProcessor, fresh: StripeStandIn, number: str, reason: DeclineReason
) -> None:
    card = processor.tokenize_card(number=number, exp_month=12, exp_year=2034, cvc="123")
    result = processor.charge(token=card.token, amount=Decimal("20.00"), currency="usd",
                              idempotency_key=f"decline-{number}", description="declined")
    assert (result.status, result.decline_reason) == (ChargeStatus.declined, reason)
    assert fresh.intents[result.reference]["status"] == "requires_payment_method"
    assert result.message  # a sentence a customer may read


def test_a_card_that_needs_authentication_is_pending_until_the_webhook(
    processor: StripeProcessor, fresh: StripeStandIn
) -> None:
    card = processor.tokenize_card(number="4000000000003220", exp_month=12, exp_year=2034, cvc="123")
    result = processor.charge(token=card.token, amount=Decimal("10.00"), currency="usd",
                              idempotency_key="three-d-secure-1", description="3DS")
    assert result.status == ChargeStatus.pending
    assert fresh.intents[result.reference]["status"] == "requires_action"


def test_a_5xx_is_retried_with_the_same_key_and_charges_once(
    processor: StripeProcessor, fresh: StripeStandIn
) -> None:
    card = processor.tokenize_card(number="4242424242424242", exp_month=12, exp_year=2034, cvc="123")
    intents_before = len(fresh.intents)
    fresh.fail_next.append(500)
    result = processor.charge(token=card.token, amount=Decimal("30.00"), currency="usd",
                              idempotency_key="retry-once-1", description="retried")
    assert result.status == ChargeStatus.succeeded
    keys = [r["idempotency_key"] for r in fresh.posts("/v1/payment_intents")]
    assert keys == ["retry-once-1", "retry-once-1"]
    assert len(fresh.intents) == intents_before + 1


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_processor_that_keeps_failing_is_unavailable(
    processor: StripeProcessor, fresh: StripeStandIn, status: int
) -> None:
    card = processor.tokenize_card(number="4242424242424242", exp_month=12, exp_year=2034, cvc="123")
    intents_before = len(fresh.intents)
    fresh.fail_next.extend([status, status])
    with pytest.raises(ProcessorUnavailable):
        processor.charge(token=card.token, amount=Decimal("30.00"), currency="usd",
                         idempotency_key=f"always-{status}", description="down")
    assert len(fresh.intents) == intents_before


def test_a_timeout_and_nothing_listening_are_unavailable(fresh: StripeStandIn) -> None:
    slow = StripeProcessor(stripe_settings(fresh.url), timeout_seconds=0.5, max_network_retries=0)
    fresh.delay_seconds = 1.5
    started = time.monotonic()
    with pytest.raises(ProcessorUnavailable):
        slow.tokenize_card(number="4242424242424242", exp_month=12, exp_year=2034, cvc="123")
    assert time.monotonic() - started < 1.4
    fresh.delay_seconds = 0.0
    closed_port = f"http://127.0.0.1:{free_port()}"
    nobody = StripeProcessor(stripe_settings(closed_port), timeout_seconds=1, max_network_retries=0)
    with pytest.raises(ProcessorUnavailable):
        nobody.retrieve_method(token="pm_anything")


def test_a_refused_api_key_is_unavailable_not_a_decline(fresh: StripeStandIn) -> None:
    wrong = StripeProcessor(stripe_settings(fresh.url, api_key="sk_test_wrong"), timeout_seconds=2)
    with pytest.raises(ProcessorUnavailable):
        wrong.tokenize_card(number="4242424242424242", exp_month=12, exp_year=2034, cvc="123")


def test_no_card_number_reaches_the_log_even_at_debug(
    processor: StripeProcessor, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        card = processor.tokenize_card(number="4000000000009995", exp_month=12, exp_year=2034, cvc="987")
        processor.charge(token=card.token, amount=Decimal("5.00"), currency="usd",
                         idempotency_key="log-scan-1", description="log scan")
    assert any(record.name.startswith("stripe") for record in caplog.records), "the library logged requests"
    assert "4000000000009995" not in caplog.text and "cvc" not in caplog.text


def test_amounts_go_in_minor_units_and_never_lose_a_cent() -> None:
    assert to_minor_units(amount=Decimal("75.00"), currency="USD") == 7500
    assert to_minor_units(amount=Decimal("0.07"), currency="eur") == 7
    assert to_minor_units(amount=Decimal("1200.00"), currency="JPY") == 1200
    for amount, currency in ((Decimal("0"), "usd"), (Decimal("-1.00"), "usd"), (Decimal("1.005"), "usd"),
                             (Decimal("10.50"), "jpy")):
        with pytest.raises(ValueError):
            to_minor_units(amount=amount, currency=currency)


# --- webhooks: signed here as Stripe documents it (t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">) ---

def stripe_signature(body: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f'{stamp}.'.encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def stripe_event(event_type: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"id": f"evt_{secrets.token_hex(8)}", "object": "event", "type": event_type,
                       "created": int(time.time()), "data": {"object": obj}}).encode()


def test_signed_stripe_events_become_webhook_events(processor: StripeProcessor) -> None:
    succeeded = stripe_event("payment_intent.succeeded", {"id": "pi_123", "object": "payment_intent"})
    event = processor.parse_webhook(payload=succeeded,
                                    headers={"Stripe-Signature": stripe_signature(succeeded)})
    assert (event.type, event.reference, event.id) == (WebhookEventType.payment_succeeded, "pi_123",
                                                       json.loads(succeeded)["id"])
    failed = stripe_event("payment_intent.payment_failed", {
        "id": "pi_456", "object": "payment_intent",
        "last_payment_error": {"type": "card_error", "code": "card_declined",
                               "decline_code": "insufficient_funds"},
    })
    event = processor.parse_webhook(payload=failed, headers={"stripe-signature": stripe_signature(failed)})
    assert (event.type, event.reference, event.decline_reason) == (
        WebhookEventType.payment_failed, "pi_456", DeclineReason.insufficient_funds)
    updated = stripe_event("payment_method.automatically_updated", {
        "id": "pm_789", "object": "payment_method", "type": "card", "customer": "cus_42",
        "card": {"brand": "mastercard", "last4": "4444", "exp_month": 3, "exp_year": 2031},
    })
    event = processor.parse_webhook(payload=updated, headers={"Stripe-Signature": stripe_signature(updated)})
    assert event.type == WebhookEventType.method_updated and event.method is not None
    method = event.method
    assert (method.token, method.brand, method.last4) == ("cus_42:pm_789", "Mastercard", "4444")


def test_unsigned_forged_stale_or_malformed_events_are_refused(processor: StripeProcessor) -> None:
    body = stripe_event("payment_intent.succeeded", {"id": "pi_123", "object": "payment_intent"})
    refused = {
        "no header": {},
        "other secret": {"Stripe-Signature": stripe_signature(body, secret="whsec_attacker")},
        "stale": {"Stripe-Signature": stripe_signature(body, timestamp=int(time.time()) - 3600)},
        "garbage": {"Stripe-Signature": "v1=deadbeef"},
    }
    for name, headers in refused.items():
        with pytest.raises(InvalidWebhook):
            processor.parse_webhook(payload=body, headers=headers)
        assert name
    tampered = body.replace(b"pi_123", b"pi_999")
    with pytest.raises(InvalidWebhook):
        processor.parse_webhook(payload=tampered, headers={"Stripe-Signature": stripe_signature(body)})
    not_json = b"not an event"
    with pytest.raises(InvalidWebhook):
        processor.parse_webhook(payload=not_json, headers={"Stripe-Signature": stripe_signature(not_json)})


def test_a_signed_event_of_a_type_we_do_not_handle_is_acknowledged_not_refused(
    processor: StripeProcessor,
) -> None:
    # Stripe retries anything but a 2xx for days: an event type we do not act on must not be "invalid".
    other = stripe_event("charge.refunded", {"id": "ch_1", "object": "charge"})
    event = processor.parse_webhook(payload=other, headers={"Stripe-Signature": stripe_signature(other)})
    assert (event.type, event.processor_type, event.id) == (
        WebhookEventType.unhandled, "charge.refunded", json.loads(other)["id"])
    assert event.reference is None and event.method is None
    # The signature still decides: the same unhandled event signed with another secret is refused.
    with pytest.raises(InvalidWebhook):
        processor.parse_webhook(
            payload=other, headers={"Stripe-Signature": stripe_signature(other, secret="whsec_attacker")})
