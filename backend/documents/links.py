"""The download link token: `<payload>.<signature>`, both base64url without padding.

The payload is compact JSON {"v": 1, "k": kind, "d": document id, "c": customer id, "e": expiry (Unix
seconds)}; the signature is HMAC-SHA256 with DOCUMENTS_LINK_SECRET over "documents.v1." + payload
(backend/signed_tokens.py). Stateless: nothing is stored, a link works until it expires. The signature is
checked before anything in it is read."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

from backend import signed_tokens

DocumentKind = Literal["invoice_pdf", "statement_pdf", "credit_memo_pdf"]
DOCUMENT_KINDS: tuple[str, ...] = get_args(DocumentKind)
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{20,400}\.[A-Za-z0-9_-]{43}$"
DOMAIN = "documents.v1."


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


def sign_link(*, secret: str, claims: LinkClaims) -> str:
    body = {
        "v": 1, "k": claims.kind, "d": claims.document_id, "c": claims.customer_id,
        "e": int(claims.expires_at.timestamp()),
    }
    return signed_tokens.sign(secret=secret, domain=DOMAIN, body=body)


def read_link(*, secret: str, token: str, now: datetime) -> LinkClaims:
    """The claims of a genuine, unexpired link; BadLink or ExpiredLink otherwise."""
    try:
        body = signed_tokens.read(secret=secret, domain=DOMAIN, token=token)
        kind, document_id, customer_id, expiry = body["k"], body["d"], body["c"], body["e"]
    except (signed_tokens.BadToken, KeyError) as exc:
        raise BadLink(str(exc)) from exc
    if (
        body.get("v") != 1 or kind not in DOCUMENT_KINDS or not isinstance(document_id, str)
        or not isinstance(customer_id, int) or not isinstance(expiry, int)
    ):
        raise BadLink("payload")
    expires_at = datetime.fromtimestamp(expiry, UTC)
    if now >= expires_at:
        raise ExpiredLink("expired")
    return LinkClaims(kind=kind, document_id=document_id, customer_id=customer_id, expires_at=expires_at)
