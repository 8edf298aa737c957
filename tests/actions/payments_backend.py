"""A stand-in of the backend's payment routes (docs/contracts.md, "Payments, payment methods,
arrangements"), spoken to over HTTP by the real clients (httpx's ASGI transport): the actions' collaborator,
not the code under test. It keeps the contract's rules that the bot relies on (amount checks, single-use
quotes, idempotency keys, the processor's outcomes) and records every request so tests can say exactly what
reached the backend."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from actions.clients.billing import BillingClient
from actions.clients.payments import PaymentsClient
from actions.config import ActionSettings

TOKEN = "payments-test-token"
TODAY = date(2026, 12, 2)
D = Decimal


def money(value: Decimal) -> str:
    return f"{value:.2f}"


@dataclass
class Method:
    id: int
    brand: str
    last4: str
    expires_on: date
    is_default: bool = True

    @property
    def expired(self) -> bool:
        return self.expires_on < TODAY

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": "card",
            "brand": self.brand,
            "last4": self.last4,
            "expires_on": self.expires_on.isoformat(),
            "expired": self.expired,
            "is_default": self.is_default,
            "masked": f"{self.brand} ending {self.last4} (expires {self.expires_on:%m/%Y})",
        }


@dataclass
class PaymentsBackend:
    """One customer's account. `processor`: "succeeds", "pending", "declines" or "down"."""

    customer_id: int = 6
    first_name: str = "Farid"
    total_due: Decimal = Decimal("175.00")
    past_due: Decimal = Decimal("75.00")
    next_due_date: date = TODAY + timedelta(days=15)
    next_due_amount: Decimal = Decimal("100.00")
    methods: list[Method] = field(default_factory=lambda: [Method(11, "Visa", "1111", date(2030, 12, 31))])
    autopay: bool = False
    paperless: bool = False
    alerts: list[dict[str, str]] = field(default_factory=list)
    processor: str = "succeeds"
    options: dict[str, Any] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    arrangements: list[dict[str, Any]] = field(default_factory=list)
    quotes: dict[str, dict[str, Any]] = field(default_factory=dict)
    answered: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    # --- what tests read -----------------------------------------------------------------------------------
    def writes(self, path_end: str = "") -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] != "GET" and r["path"].endswith(path_end)]

    def billing_client(self) -> BillingClient:
        return BillingClient(settings=self._settings(), http=self._http())

    def payments_client(self) -> PaymentsClient:
        return PaymentsClient(settings=self._settings(), http=self._http())

    def _settings(self) -> ActionSettings:
        return ActionSettings(BACKEND_URL="http://backend.test", BACKEND_API_TOKEN=TOKEN)

    def _http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app()), base_url="http://backend.test"
        )

    # --- the routes ----------------------------------------------------------------------------------------
    def default_method(self) -> Method | None:
        return next((m for m in self.methods if m.is_default), None)

    def default_options(self) -> dict[str, Any]:
        nothing_due = [{"code": "nothing_due", "message": "Nothing is owed on this account right now."}]
        promise: dict[str, Any] = {
            "eligible": False,
            "reasons": nothing_due,
            "earliest_date": None,
            "latest_date": None,
            "minimum_amount": None,
            "maximum_amount": None,
        }
        below = [{"code": "past_due_below_threshold", "message": "Nothing is past due."}]
        plan: dict[str, Any] = {"eligible": False, "reasons": below, "amount": None, "choices": []}
        if self.total_due > 0:  # a promise may cover a bill that is not past due yet: at least its amount
            promise = {
                "eligible": True,
                "reasons": [],
                "earliest_date": TODAY.isoformat(),
                "latest_date": (TODAY + timedelta(days=8)).isoformat(),
                "minimum_amount": money(self.past_due if self.past_due > 0 else self.next_due_amount),
                "maximum_amount": money(self.total_due),
            }
        if self.past_due > 0:
            plan = {
                "eligible": True,
                "reasons": [],
                "amount": money(self.past_due),
                "choices": [
                    {
                        "instalments": n,
                        "amount_each": money((self.past_due / n).quantize(D("0.01"))),
                        "schedule": [
                            {
                                "number": i + 1,
                                "due_date": (TODAY + timedelta(days=30 * i)).isoformat(),
                                "amount": money((self.past_due / n).quantize(D("0.01"))),
                            }
                            for i in range(n)
                        ],
                    }
                    for n in (2, 3)
                ],
            }
        waiver = {
            "eligible": False,
            "reasons": [{"code": "no_late_fee", "message": "There is no late fee."}],
            "line_item_id": None,
            "invoice_number": None,
            "amount": None,
        }
        return {
            "currency": "USD",
            "total_due": money(self.total_due),
            "past_due": money(self.past_due),
            "oldest_unpaid_due_date": (TODAY - timedelta(days=15)).isoformat(),
            "active": [],
            "promise_to_pay": promise,
            "instalment_plan": plan,
            "late_fee_waiver": waiver,
        }

    def app(self) -> FastAPI:  # noqa: C901  # one small route per contract line, kept together
        app = FastAPI()
        base = f"/api/v1/customers/{self.customer_id}"

        def error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
            return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)

        @app.middleware("http")
        async def record_and_check(request: Request, call_next):
            body = await request.body()
            self.requests.append(
                {
                    "method": request.method,
                    "path": request.url.path,
                    "headers": dict(request.headers),
                    "body": json.loads(body) if body else None,
                }
            )
            if request.headers.get("authorization") != f"Bearer {TOKEN}":
                return error(401, "unauthorized", "bad token")
            if not request.url.path.startswith(base):
                return error(404, "not_found", "not this customer's")
            if request.method in ("POST", "PUT"):
                key = request.headers.get("idempotency-key")
                if not request.headers.get("x-actor", "").startswith("bot:") or not key:
                    return error(422, "invalid_request", "X-Actor and Idempotency-Key are required")
                signature = f"{request.method} {request.url.path} {body.decode()}"
                if key in self.answered:
                    seen, answer = self.answered[key]
                    if seen != signature:
                        return error(409, "idempotency_key_reused", "another request used this key")
                    return JSONResponse(answer, status_code=200)
                response = await call_next(request)
                content = b"".join([chunk async for chunk in response.body_iterator])
                if response.status_code in (200, 201):
                    self.answered[key] = (signature, json.loads(content))
                return JSONResponse(json.loads(content), status_code=response.status_code)
            return await call_next(request)

        @app.get(base)
        async def customer():
            return {
                "customer_id": self.customer_id,
                "first_name": self.first_name,
                "last_name": "Haddad",
                "email": "farid@example.com",
                "account": {"account_number": "ACC-100006", "currency": "USD"},
            }

        @app.get(f"{base}/balance")
        async def balance():
            return {
                "account_number": "ACC-100006",
                "currency": "USD",
                "total_due": money(self.total_due),
                "past_due": money(self.past_due),
                "next_due_date": self.next_due_date.isoformat(),
                "next_due_amount": money(self.next_due_amount),
                "last_payment": None,
            }

        @app.get(f"{base}/payment-methods")
        async def payment_methods():
            return {
                "autopay": self.autopay,
                "paperless": self.paperless,
                "on_file": [m.as_json() for m in self.methods],
                "ways_to_pay": [],
                "next_autopay_date": self.next_due_date.isoformat() if self.autopay else None,
                "last_autopay": None,
                "alerts": self.alerts,
            }

        @app.post(f"{base}/payment-quotes")
        async def quote(request: Request):
            body = await request.json()
            choice = body["amount_choice"]
            if self.total_due <= 0:
                return error(422, "nothing_due", "Nothing is due.")
            if choice == "amount":
                amount = D(body["amount"])
                if amount <= 0 or amount.as_tuple().exponent < -2:
                    return error(422, "invalid_amount", "Not an amount.")
                if amount > self.total_due:
                    return error(422, "amount_above_balance", "More than the balance.")
            else:
                amount = self.past_due if choice == "past_due" else self.total_due
            method = self.default_method()
            if method is None:
                return error(409, "no_payment_method", "No method on file.")
            if method.expired:
                return error(409, "method_expired", "The card has expired.")
            quote_id = f"pq_{len(self.quotes) + 1:032d}"
            self.quotes[quote_id] = {
                "quote_id": quote_id,
                "amount": money(amount),
                "currency": "USD",
                "method": method.as_json(),
                "total_due": money(self.total_due),
                "past_due": money(self.past_due),
                "total_due_after": money(self.total_due - amount),
                "status": "open",
            }
            return JSONResponse(self.quotes[quote_id], status_code=201)

        @app.post(f"{base}/payment-quotes/{{quote_id}}/confirm")
        async def confirm(quote_id: str):
            quote = self.quotes.get(quote_id)
            if quote is None:
                return error(404, "not_found", "No such quote.")
            if quote["status"] == "confirmed":  # any key: the one payment of this quote
                return JSONResponse(
                    next(p for p in self.payments if p["quote_id"] == quote_id), status_code=200
                )
            if self.processor == "down":
                return error(503, "processor_unavailable", "The payment processor is unavailable.")
            amount = D(quote["amount"])
            status = {"succeeds": "posted", "pending": "pending", "declines": "failed"}[self.processor]
            if status == "posted":
                self.total_due -= amount
                self.past_due = max(self.past_due - amount, D("0"))
            quote["status"] = "confirmed"
            payment = {
                "id": len(self.payments) + 1,
                "amount": money(amount),
                "currency": "USD",
                "status": status,
                "method": "Visa ending 1111",
                "received_date": TODAY.isoformat(),
                "expected_post_date": (TODAY + timedelta(days=2)).isoformat()
                if status == "pending"
                else None,
                "failure_reason": "insufficient_funds" if status == "failed" else None,
                "failure_message": "The card was declined for insufficient funds."
                if status == "failed"
                else None,
                "quote_id": quote_id,
                "total_due": money(self.total_due),
                "past_due": money(self.past_due),
                "pending_payments": money(amount) if status == "pending" else "0.00",
            }
            self.payments.append(payment)
            return JSONResponse(payment, status_code=201)

        @app.put(f"{base}/autopay")
        async def autopay(request: Request):
            enabled = (await request.json())["enabled"]
            method = self.default_method()
            if enabled and (method is None or method.expired):
                return error(409, "method_expired", "The card has expired.")
            self.autopay = enabled
            return {
                "autopay": enabled,
                "next_autopay_date": self.next_due_date.isoformat() if enabled else None,
                "next_autopay_amount": money(self.next_due_amount) if enabled else None,
                "method": "Visa ending 1111" if enabled else None,
                "message": "ok",
            }

        @app.put(f"{base}/paperless")
        async def paperless(request: Request):
            self.paperless = (await request.json())["enabled"]
            return {"paperless": self.paperless, "email": "farid@example.com", "message": "ok"}

        @app.get(f"{base}/arrangement-options")
        async def options():
            return self.options or self.default_options()

        @app.post(f"{base}/arrangements")
        async def arrangements(request: Request):
            body = await request.json()
            arrangement = {
                "id": len(self.arrangements) + 1,
                "kind": body["kind"],
                "status": "active",
                "amount": body.get("amount"),
                "pay_by": body.get("pay_by"),
                "instalments": [],
            }
            self.arrangements.append(arrangement)
            return JSONResponse(arrangement, status_code=201)

        @app.post(f"{base}/late-fee-waivers")
        async def waiver(request: Request):
            self.total_due -= D("25.00")
            arrangement = {"id": len(self.arrangements) + 1, "kind": "late_fee_waiver", "status": "applied"}
            self.arrangements.append(arrangement)
            return JSONResponse(
                {
                    "arrangement": arrangement,
                    "credit": {"amount": "25.00"},
                    "total_due": money(self.total_due),
                },
                status_code=201,
            )

        @app.post(f"{base}/payment-page-links")
        async def payment_page_link(request: Request):
            body = await request.json()
            if body.get("purpose") not in ("update_method", "pay"):
                return error(422, "invalid_request", "purpose")
            return JSONResponse(
                {
                    "url": "http://backend.test/pay/abc123",
                    "path": "/pay/abc123",
                    "purpose": body["purpose"],
                    "expires_at": "2026-12-02T12:15:00Z",
                },
                status_code=201,
            )

        return app
