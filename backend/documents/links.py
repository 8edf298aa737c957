"""The download link token: `<payload>.<signature>`, both base64url without padding.

The payload is compact JSON {"v": 1, "k": kind, "d": document id, "c": customer id, "e": expiry (Unix
seconds)}; the signature is HMAC-SHA256 with DOCUMENTS_LINK_SECRET over "documents.v1." + payload. Stateless:
nothing is stored, a link works until it expires. The signature is checked before anything in it is read."""

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

DocumentKind = Literal["invoice_pdf", "statement_pdf", "credit_memo_pdf"]
DOCUMENT_KINDS: tuple[str, ...] = get_args(DocumentKind)
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{20,400}\.[A-Za-z0-9_-]{43}$"


@dataclass(frozen=True)
class LinkClaims:
    kind: DocumentKind
    document_id: str
    customer_id: int
    expires_at: datetime


class BadLink(ValueError):
    """Not a link this backend signed (edited, another key, malformed)."""


class ExpiredLink(ValueError):
    """A genuine link whose time is over."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), b"documents.v1." + payload.encode(), hashlib.sha256).digest())


def sign_link(*, secret: str, claims: LinkClaims) -> str:
    body = {
        "v": 1, "k": claims.kind, "d": claims.document_id, "c": claims.customer_id,
        "e": int(claims.expires_at.timestamp()),
    }
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_signature(secret, payload)}"


def read_link(*, secret: str, token: str, now: datetime) -> LinkClaims:
    """The claims of a genuine, unexpired link; BadLink or ExpiredLink otherwise."""
    payload, _, signature = token.partition(".")
    if not payload or not hmac.compare_digest(signature.encode(), _signature(secret, payload).encode()):
        raise BadLink("signature")
    try:
        body = json.loads(_unb64(payload))
        kind, document_id, customer_id, expiry = body["k"], body["d"], body["c"], body["e"]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise BadLink("payload") from exc
    if (
        body.get("v") != 1 or kind not in DOCUMENT_KINDS or not isinstance(document_id, str)
        or not isinstance(customer_id, int) or not isinstance(expiry, int)
    ):
        raise BadLink("payload")
    expires_at = datetime.fromtimestamp(expiry, UTC)
    if now >= expires_at:
        raise ExpiredLink("expired")
    return LinkClaims(kind=kind, document_id=document_id, customer_id=customer_id, expires_at=expires_at)
