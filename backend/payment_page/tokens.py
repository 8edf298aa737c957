"""The link token: `<payload>.<signature>`, both base64url; the payload is JSON {"c": customer id,
"p": purpose, "e": expiry (unix seconds), "n": nonce}; the signature is HMAC-SHA256 with PAYMENT_PAGE_SECRET
over the payload.
A token is checked for its signature before anything in it is read."""

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from backend.payment_page.models import LinkPurpose

TOKEN_PATTERN = r"^[A-Za-z0-9_-]{20,400}\.[A-Za-z0-9_-]{43}$"


@dataclass(frozen=True)
class LinkClaims:
    customer_id: int
    purpose: LinkPurpose
    expires_at: datetime
    nonce: str


class BadLinkToken(ValueError):
    """Not a token this backend signed (edited, other key, malformed)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), b"payment-page." + payload.encode(), hashlib.sha256).digest())


def sign_link(*, secret: str, claims: LinkClaims) -> str:
    body = {
        "c": claims.customer_id,
        "p": str(claims.purpose),
        "e": int(claims.expires_at.timestamp()),
        "n": claims.nonce,
    }
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_signature(secret, payload)}"


def read_link(*, secret: str, token: str) -> LinkClaims:
    payload, _, signature = token.partition(".")
    if not payload or not hmac.compare_digest(signature.encode(), _signature(secret, payload).encode()):
        raise BadLinkToken("signature")
    try:
        body = json.loads(_unb64(payload))
        return LinkClaims(
            customer_id=int(body["c"]),
            purpose=LinkPurpose(body["p"]),
            expires_at=datetime.fromtimestamp(int(body["e"]), UTC),
            nonce=str(body["n"]),
        )
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise BadLinkToken("payload") from exc
