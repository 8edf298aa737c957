"""One exception hierarchy, mapped to HTTP JSON in one place: {"error": {"code", "message", ...extra}}.

A class says its HTTP status and error code once, as class keywords (a subclass inherits what it does not
say); a raise says the message and any extra fields of the body (docs/contracts.md lists the codes).
`install_error_handlers` answers every error, the framework's and the database's too, with that one shape.
"""

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("backend.errors")


class BackendError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init_subclass__(cls, *, status: int | None = None, code: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status_code = status
        if code is not None:
            cls.code = code

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


# The statuses (docs/contracts.md, "Errors").
class InvalidWebhookRequest(BackendError, status=400, code="invalid_webhook"): ...


class Unauthorized(BackendError, status=401, code="unauthorized"): ...


class Forbidden(BackendError, status=403, code="forbidden"): ...


class NotFound(BackendError, status=404, code="not_found"): ...


class Conflict(BackendError, status=409, code="conflict"): ...


class InvalidInput(BackendError, status=422, code="invalid_input"): ...


class VerificationLocked(BackendError, status=423, code="verification_locked"): ...


class PaymentProcessorUnavailable(BackendError, status=503, code="processor_unavailable"): ...


class DatabaseUnavailable(BackendError, status=503, code="database_unavailable"): ...


# Payments and arrangements (docs/contracts.md, "Payments").
class InvalidAmount(InvalidInput, code="invalid_amount"): ...


class AmountAboveBalance(InvalidInput, code="amount_above_balance"): ...


class NothingDue(InvalidInput, code="nothing_due"): ...


class OutsidePolicy(InvalidInput, code="outside_policy"): ...


class MethodDeclined(InvalidInput, code="method_declined"): ...


class IdempotencyKeyReused(Conflict, code="idempotency_key_reused"): ...


class NoPaymentMethod(Conflict, code="no_payment_method"): ...


class MethodExpired(Conflict, code="method_expired"): ...


class QuoteExpired(Conflict, code="quote_expired"): ...


class BalanceChanged(Conflict, code="balance_changed"): ...


# Account check (docs/contracts.md, "Account check").
class FindingNotFound(NotFound, code="finding_not_found"): ...


class SpecialistRequired(Conflict, code="specialist_required"):
    """Outside what the bot may settle: the answer carries the reasons and the summary for the handover."""


def error_response(status_code: int, code: str, message: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status_code == 401 else None
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code, headers=headers)


def backend_error_response(error: BackendError) -> JSONResponse:
    return error_response(error.status_code, error.code, error.message, **error.extra)


def _describe_validation_errors(errors: list[dict[str, Any]]) -> str:
    parts = []
    for error in errors[:5]:
        location = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body",))
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts) or "invalid request"


_HTTP_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(BackendError)
    async def backend_error(_request: Request, exc: BackendError) -> JSONResponse:
        return backend_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return backend_error_response(InvalidInput(_describe_validation_errors(list(exc.errors()))))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # routing's own answers (no such path, another method): the status stays, the code is named for it
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        return error_response(exc.status_code, code, message)

    @app.exception_handler(IntegrityError)
    async def integrity_error(_request: Request, exc: IntegrityError) -> JSONResponse:
        logger.warning("integrity error: %s", exc.orig)
        return backend_error_response(
            Conflict("The change conflicts with the current data; reload and retry.")
        )

    @app.exception_handler(OperationalError)
    async def database_unavailable(_request: Request, exc: OperationalError) -> JSONResponse:
        logger.error("database unavailable: %s", exc.orig)
        return backend_error_response(
            DatabaseUnavailable("The billing database is unavailable; try again shortly.")
        )

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return backend_error_response(BackendError("The billing service hit an unexpected error."))
