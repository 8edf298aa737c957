"""JSON errors shaped like the backend's: {"error": {"code", "message"}}; never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from handoff.conversations.states import IllegalTransition
from handoff.conversations.store import ConversationNotFound, StateConflict

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """A refusal with a clear, user-facing message."""

    def __init__(self, *, status_code: int, code: str, message: str):
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message


class StorageUnavailable(ServiceError):
    """The database cannot be reached (outage, failover): nothing was stored. `client_id` names the customer
    message that was not stored, when there is one."""

    def __init__(self, *, client_id: str | None = None):
        super().__init__(status_code=503, code="temporarily_unavailable",
                         message="Part of our system is briefly unavailable. Please try again in a moment.")
        self.client_id = client_id


def error_response(status_code: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status_code, content={"error": {"code": code, "message": message}})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(_request: Request, error: ServiceError):
        return error_response(error.status_code, error.code, error.message)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database_unavailable(_request: Request, error: Exception):
        # The database is down or failing over: nothing was stored, the caller may retry.
        log.warning("database unavailable: %s", getattr(error, "orig", error))
        unavailable = StorageUnavailable()
        return error_response(unavailable.status_code, unavailable.code, unavailable.message)

    @app.exception_handler(ConversationNotFound)
    async def _not_found(_request: Request, _error: ConversationNotFound):
        return error_response(404, "conversation_not_found", "No conversation with that id.")

    @app.exception_handler(IllegalTransition)
    async def _illegal(_request: Request, error: IllegalTransition):
        return error_response(409, "illegal_transition", str(error))

    @app.exception_handler(StateConflict)
    async def _conflict(_request: Request, error: StateConflict):
        return error_response(409, "state_conflict", str(error))

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item.get('loc', [])[1:]) or 'body'}: {item.get('msg')}"
            for item in error.errors()
        )
        return error_response(422, "invalid_request", problems or "The request is not valid.")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException):
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
            error.status_code, "error")
        return error_response(error.status_code, code, str(error.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, error: Exception):
        log.exception("unexpected error", exc_info=error)
        return error_response(500, "internal_error", "Something went wrong on our side. Please try again.")
