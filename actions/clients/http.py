"""One pooled httpx.AsyncClient per process, created on first use (never at import time)."""

import httpx

from actions.config import ActionSettings, get_settings

_shared_client: httpx.AsyncClient | None = None


def build_http_client(settings: ActionSettings) -> httpx.AsyncClient:
    timeout = httpx.Timeout(
        settings.http_read_timeout_seconds,
        connect=settings.http_connect_timeout_seconds,
    )
    limits = httpx.Limits(
        max_connections=settings.http_max_connections,
        max_keepalive_connections=settings.http_max_connections,
        keepalive_expiry=30.0,
    )
    return httpx.AsyncClient(timeout=timeout, limits=limits)


def get_shared_http_client() -> httpx.AsyncClient:
    global _shared_client
    if _shared_client is None or _shared_client.is_closed:
        _shared_client = build_http_client(get_settings())
    return _shared_client


async def close_shared_http_client() -> None:
    global _shared_client
    if _shared_client is not None:
        await _shared_client.aclose()
        _shared_client = None
