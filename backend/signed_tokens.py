"""Stateless signed tokens for public links: `<payload>.<signature>`, both base64url without padding.

The payload is compact JSON; the signature is HMAC-SHA256 with the link's secret over `<domain>` + payload,
so a token of one kind of link (documents, reminder pay links) is never valid as another. The signature is
checked before anything in the payload is read."""

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

SIGNATURE_PATTERN = r"[A-Za-z0-9_-]{43}"


class BadToken(ValueError):
    """Not a token this backend signed for this domain (edited, another key, malformed)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, domain: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), domain.encode() + payload.encode(), hashlib.sha256).digest())


def sign(*, secret: str, domain: str, body: dict[str, Any]) -> str:
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_signature(secret, domain, payload)}"


def read(*, secret: str, domain: str, token: str) -> dict[str, Any]:
    """The payload of a genuine token (a JSON object); BadToken otherwise."""
    payload, _, signature = token.partition(".")
    expected = _signature(secret, domain, payload)
    if not payload or not hmac.compare_digest(signature.encode(), expected.encode()):
        raise BadToken("signature")
    try:
        body = json.loads(_unb64(payload))
    except (ValueError, binascii.Error) as exc:
        raise BadToken("payload") from exc
    if not isinstance(body, dict):
        raise BadToken("payload")
    return body
