"""The typed clients over real HTTP: a small contract-shaped server runs on a free local port."""

import asyncio
import threading
import time
from decimal import Decimal
from typing import Any

import pytest
import uvicorn
from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import JSONResponse

from actions.clients.billing import BillingClient
from actions.clients.errors import (
    BackendUnavailable,
    Conflict,
    HandoffUnavailable,
    InvalidRequest,
    NotFound,
    VerificationLocked,
)
from actions.clients.handoff import EscalationRequest, HandoffClient
from actions.clients.http import build_http_client
from actions.config import DEV_ACTION_SERVER_TOKEN, DEV_IDENTITY_ASSERTION_SECRET, ActionSettings
from tests.support.stack import free_port

TOKEN = "test-backend-token"
received: list[dict] = []


# The backend's and the handoff service's routes as docs/contracts.md describes them, with canned answers.
contract_routes = APIRouter()


def _refused(authorization: str | None) -> JSONResponse | None:
    if authorization != f"Bearer {TOKEN}":
        return JSONResponse({"error": {"code": "unauthorized", "message": "bad token"}}, status_code=401)
    return None


@contract_routes.get("/api/v1/customers/{cid}/balance", response_model=None)
async def balance(
    cid: int, authorization: str | None = Header(default=None)
) -> JSONResponse | dict[str, Any]:
    if (refusal := _refused(authorization)) is not None:
        return refusal
    if cid != 4:
        return JSONResponse({"error": {"code": "not_found", "message": "no such customer"}}, status_code=404)
    return {
        "account_number": "ACC-100004", "currency": "USD", "total_due": "1234.50", "past_due": "0.00",
        "next_due_date": "2026-11-21", "next_due_amount": "1234.50",
        "last_payment": {
            "amount": "65.00", "received_date": "2026-10-20", "method": "card", "status": "posted",
        },
    }


@contract_routes.get("/api/v1/customers/{cid}/line-items")
async def line_items(cid: int, request: Request) -> list[dict[str, Any]]:
    received.append(dict(request.query_params))
    return [{
        "id": 42, "description": "Activation fee", "charge_type": "one_time", "amount": "49.00",
        "quantity": "1", "unit_rate": "49.00", "period_start": "2026-10-01", "period_end": "2026-10-31",
        "policy_rule": "R-ONE-TIME", "invoice_number": "INV-2026-000412",
    }]


@contract_routes.post("/api/v1/verifications", response_model=None)
async def verify(request: Request) -> JSONResponse | dict[str, Any]:
    body = await request.json()
    received.append(body)
    if body["account_number"] == "ACC-100009":
        locked = {"code": "verification_locked", "message": "locked", "locked_until": "2026-11-21T12:15:00Z"}
        return JSONResponse({"error": locked}, status_code=423)
    return {"verified": False, "attempts_remaining": 2}


@contract_routes.post("/api/v1/customers/{cid}/disputes")
async def dispute(cid: int, request: Request) -> JSONResponse:
    body = await request.json()
    if body["reason"] == "again":
        conflict = {"code": "conflict", "message": "open dispute exists"}
        return JSONResponse({"error": conflict}, status_code=409)
    return JSONResponse({"error": {"code": "invalid", "message": "amount too large"}}, status_code=422)


@contract_routes.get("/api/v1/customers/{cid}/invoices", response_model=None)
async def invoices(cid: int) -> JSONResponse | list[dict[str, Any]]:
    if cid == 500:
        return JSONResponse({"detail": "boom"}, status_code=500)
    if cid == 666:
        return [{"unexpected": "shape"}]
    await asyncio.sleep(1.0)  # slower than the client's read timeout in the test
    return []


@contract_routes.post("/api/escalations")
async def escalations(request: Request, authorization: str | None = Header(default=None)) -> dict[str, Any]:
    body = await request.json()
    received.append({"authorization": authorization, **body})
    return {"state": "queued", "position": 3, "eta_seconds": 240}


def _contract_server() -> FastAPI:
    app = FastAPI()
    app.include_router(contract_routes)
    return app


@pytest.fixture(scope="module")
def server_url():
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(_contract_server(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("contract server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def settings(server_url) -> ActionSettings:
    return ActionSettings(
        BACKEND_URL=server_url,
        BACKEND_API_TOKEN=TOKEN,
        HANDOFF_URL=server_url,
        HANDOFF_API_TOKEN="test-handoff-token",
        ACTIONS_HTTP_READ_TIMEOUT=0.3,
        ACTIONS_HTTP_CONNECT_TIMEOUT=0.3,
    )


@pytest.fixture
async def http(settings):
    client = build_http_client(settings)
    yield client
    await client.aclose()


async def test_money_arrives_as_decimal(settings, http):
    balance = await BillingClient(settings=settings, http=http).get_balance(customer_id=4)
    assert balance.total_due == Decimal("1234.50") and isinstance(balance.total_due, Decimal)
    assert balance.last_payment.received_date.isoformat() == "2026-10-20"


async def test_query_filters_are_sent_as_contract_strings(settings, http):
    from datetime import date

    received.clear()
    items = await BillingClient(settings=settings, http=http).find_line_items(
        customer_id=4, amount=Decimal("49"), on_date=date(2026, 10, 3), name="late_fee"
    )
    assert received[-1] == {"amount": "49.00", "date": "2026-10-03", "name": "late_fee"}
    assert items[0].invoice_number == "INV-2026-000412" and items[0].amount == Decimal("49.00")


async def test_other_customers_data_is_not_found(settings, http):
    with pytest.raises(NotFound):
        await BillingClient(settings=settings, http=http).get_balance(customer_id=5)


async def test_wrong_token_is_an_outage_to_the_customer(settings, http):
    client = BillingClient(settings=settings.model_copy(update={"backend_api_token": "wrong"}), http=http)
    with pytest.raises(BackendUnavailable):
        await client.get_balance(customer_id=4)


async def test_verification_answers_and_lock(settings, http):
    client = BillingClient(settings=settings, http=http)
    result = await client.verify(account_number="ACC-100004", phone_last4="1234")
    assert (result.verified, result.attempts_remaining) == (False, 2)
    assert received[-1] == {"account_number": "ACC-100004", "phone_last4": "1234"}
    with pytest.raises(VerificationLocked) as locked:
        await client.verify(account_number="ACC-100009", postal_code="10001")
    assert locked.value.locked_until == "2026-11-21T12:15:00Z"


async def test_conflict_and_bad_input_are_typed(settings, http):
    client = BillingClient(settings=settings, http=http)
    with pytest.raises(Conflict):
        await client.open_dispute(customer_id=4, line_item_id=42, reason="again")
    with pytest.raises(InvalidRequest):
        await client.open_dispute(customer_id=4, line_item_id=42, reason="x", amount=Decimal("99"))


async def test_server_error_slow_answer_and_unexpected_shape_are_unavailable(settings, http):
    client = BillingClient(settings=settings, http=http)
    with pytest.raises(BackendUnavailable):
        await client.list_invoices(customer_id=500)
    with pytest.raises(BackendUnavailable, match="timed out"):
        await client.list_invoices(customer_id=4)
    with pytest.raises(BackendUnavailable, match="unexpected shape"):
        await client.list_invoices(customer_id=666)


async def test_nothing_listening_is_unavailable(http):
    closed = ActionSettings(
        BACKEND_URL=f"http://127.0.0.1:{free_port()}", HANDOFF_URL=f"http://127.0.0.1:{free_port()}"
    )
    with pytest.raises(BackendUnavailable):
        await BillingClient(settings=closed, http=http).get_balance(customer_id=4)
    with pytest.raises(HandoffUnavailable):
        await HandoffClient(settings=closed, http=http).escalate(
            EscalationRequest(conversation_id="c", reason="request_human", summary="s")
        )


async def test_escalation_follows_the_contract(settings, http):
    result = await HandoffClient(settings=settings, http=http).escalate(
        EscalationRequest(
            conversation_id="conv-9",
            reason="dispute",
            customer_id=4,
            dispute_id=900,
            line_item={"id": 42, "amount": "49.00"},
            summary="David disputes ...",
            slots={"dispute_reason": "twice"},
        )
    )
    assert (result.state, result.position, result.eta_seconds) == ("queued", 3, 240)
    body = received[-1]
    assert body["authorization"] == "Bearer test-handoff-token"
    assert (
        body["reason"] == "dispute" and body["dispute_id"] == 900 and body["line_item"]["amount"] == "49.00"
    )
    assert "explanation" not in body  # None fields are left out


def test_production_refuses_default_tokens():
    with pytest.raises(RuntimeError):
        ActionSettings(APP_ENV="production").check_production_secrets()
    real = {
        "BACKEND_API_TOKEN": "prod-backend-token-1234567890",
        "HANDOFF_API_TOKEN": "prod-handoff-token-1234567890",
        "ACTION_SERVER_TOKEN": "prod-action-server-token-1234567890",
        "IDENTITY_ASSERTION_SECRET": "prod-identity-assertion-secret-1234567890",
    }
    ActionSettings(APP_ENV="production", **real).check_production_secrets()
    defaults = {
        "ACTION_SERVER_TOKEN": DEV_ACTION_SERVER_TOKEN,
        "IDENTITY_ASSERTION_SECRET": DEV_IDENTITY_ASSERTION_SECRET,
    }
    for name, default in defaults.items():  # one development default or placeholder left is enough
        for value in (default, "CHANGE_ME-" + name.lower()):
            with pytest.raises(RuntimeError, match=name):
                ActionSettings(APP_ENV="production", **{**real, name: value}).check_production_secrets()
