"""Browser origins: which page a request or WebSocket comes from, and whether it may talk to us.

A browser names the page that made a request in `Origin` (every WebSocket handshake, every non-GET fetch) or,
failing that, `Referer`. A client that sends neither is not a browser acting for a signed-in person (a
server, a test client, curl), so there is no cross-site request to refuse; its credentials are its own.
"""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(value: str) -> str | None:
    """"HTTPS://Example.com:443/" -> "https://example.com"; None for "null", paths, other schemes, junk."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def browser_origin(headers) -> str | None:
    """The Origin header, else the origin of the Referer; None when the client sent neither."""
    origin = headers.get("origin")
    if origin is not None:
        return origin
    referer = headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}"
    return None


def is_own_origin(origin: str, host_header: str) -> bool:
    """Same origin as the service itself: the page's host[:port] is the Host this request was sent to."""
    normalised = normalise_origin(origin)
    if normalised is None or not host_header:
        return False
    scheme = normalised.split("://", 1)[0]
    own = normalise_origin(f"{scheme}://{host_header}")
    return own is not None and own == normalised


def origin_allowed(origin: str | None, *, host_header: str, extra: tuple[str, ...]) -> bool:
    """No Origin/Referer (not a browser) or the service's own origin or one configured in settings."""
    if origin is None:
        return True
    return is_own_origin(origin, host_header) or normalise_origin(origin) in extra
