"""Shared request handling: bearer token, timeouts, status codes mapped to typed errors."""

import logging
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from actions.clients.errors import (
    BackendUnavailable,
    Conflict,
    InvalidRequest,
    NotFound,
    ServiceError,
    VerificationLocked,
)
from actions.clients.http import get_shared_http_client

logger = logging.getLogger(__name__)

Model = TypeVar("Model")


class JsonApiClient:
    """Calls one service's JSON API; the httpx client is injectable and otherwise the shared pooled one."""

    unavailable_error: type[ServiceError] = BackendUnavailable
    service_name = "service"

    def __init__(self, *, base_url: str, api_token: str, http: httpx.AsyncClient | None = None) -> None:
        self._base_url = base_url.rstrip("/")
        self._api_token = api_token
        self._http = http

    @property
    def http(self) -> httpx.AsyncClient:
        return self._http if self._http is not None else get_shared_http_client()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        clean_params = {key: str(value) for key, value in (params or {}).items() if value is not None}
        all_headers = {"Authorization": f"Bearer {self._api_token}", "Accept": "application/json"}
        all_headers.update(headers or {})
        try:
            response = await self.http.request(
                method, f"{self._base_url}{path}", json=json, params=clean_params, headers=all_headers
            )
        except httpx.TimeoutException as exc:
            logger.warning("%s timed out: %s %s", self.service_name, method, path)
            raise self.unavailable_error(f"{self.service_name} timed out") from exc
        except httpx.HTTPError as exc:
            logger.warning("%s unreachable: %s %s (%s)", self.service_name, method, path, exc)
            raise self.unavailable_error(f"{self.service_name} unreachable") from exc
        return self._decode(response, method, path)

    def _decode(self, response: httpx.Response, method: str, path: str) -> Any:
        status = response.status_code
        if status < 400:
            if status == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:
                raise self.unavailable_error(f"{self.service_name} sent invalid JSON") from exc
        error = _error_body(response)
        message = error.get("message") or f"{self.service_name} answered {status}"
        if status == 404:
            raise NotFound(message)
        if status == 409:
            raise Conflict(message)
        if status == 422:
            raise InvalidRequest(message)
        if status == 423:
            raise VerificationLocked(message, locked_until=error.get("locked_until"))
        # 401/403 mean our token is wrong: an operator problem, to the customer the same as an outage.
        logger.error("%s answered %s to %s %s: %s", self.service_name, status, method, path, message)
        raise self.unavailable_error(message)

    def parse(self, model: type[Model], data: Any) -> Model:
        """`data` as `model` (a pydantic model or a type such as `list[Invoice]`); else the service is
        treated as down."""
        try:
            if isinstance(model, type) and issubclass(model, BaseModel):
                return model.model_validate(data)
            return TypeAdapter(model).validate_python(data)
        except ValidationError as exc:
            logger.error("%s answered a shape outside the contract: %s", self.service_name, exc)
            raise self.unavailable_error(f"{self.service_name} answered an unexpected shape") from exc


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error: dict[str, Any] = body["error"]
        return error
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return {"message": body["detail"]}
    return {}
