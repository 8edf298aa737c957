"""The simulated processor's browser-facing side: what Stripe.js / Elements and Stripe's
`POST /v1/payment_methods` are for a real processor. The page's script posts the card here (form-encoded,
Stripe's field names) and gets back only a token, brand, last 4 and expiry; the backend's own routes never
see the card.

It is a separate ASGI app mounted at /sim-processor (only when PAYMENTS_PROCESSOR=simulated), logging no
bodies and answering no validation error that echoes input. In production the card goes to the real
processor's origin.
"""

from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from backend.payments.processor import PaymentProcessor, ProcessorDeclined, ProcessorUnavailable

MOUNT_PATH = "/sim-processor"
MAX_FIELD = 32


def _error(status: int, error_type: str, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"type": error_type, "code": code, "message": message}},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) <= 4 else None


def simulated_tokenizer(processor_of: Callable[[], PaymentProcessor]) -> Starlette:
    """`processor_of`: the running app's processor, read per request (the app builds it at start-up)."""

    async def create_payment_method(request: Request) -> JSONResponse:
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return _error(400, "invalid_request_error", "parameter_missing", "Send the card form-encoded.")
        form = await request.form(max_files=0, max_fields=10)
        fields = {
            key: str(form.get(key) or "")[:MAX_FIELD]
            for key in ("type", "card[number]", "card[exp_month]", "card[exp_year]", "card[cvc]")
        }
        month, year = _int(fields["card[exp_month]"]), _int(fields["card[exp_year]"])
        if fields["type"] != "card" or month is None or year is None:
            return _error(402, "card_error", "invalid_expiry", "The expiry date is not valid.")
        try:
            card = processor_of().tokenize_card(
                number=fields["card[number]"],
                exp_month=month,
                exp_year=year + 2000 if year < 100 else year,
                cvc=fields["card[cvc]"],
            )
        except ProcessorDeclined as refused:
            return _error(402, "card_error", str(refused.reason), str(refused))
        except ProcessorUnavailable:
            return _error(
                503, "api_error", "processor_unavailable", "The payment processor is not answering."
            )
        return JSONResponse(
            {
                "id": card.token,
                "object": "payment_method",
                "type": "card",
                "card": {
                    "brand": card.brand,
                    "last4": card.last4,
                    "exp_month": card.exp_month,
                    "exp_year": card.exp_year,
                },
            },
            headers={"Cache-Control": "no-store"},
        )

    return Starlette(routes=[Route("/v1/payment_methods", create_payment_method, methods=["POST"])])
