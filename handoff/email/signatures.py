"""Signatures of inbound email: the webhook's (generic and Mailgun) and the signed reply address.

Reply address (docs/contracts.md, "Email"): reply+<conversation_id>.<sig>@$MAIL_REPLY_DOMAIN, where sig is the
first 16 hex of HMAC-SHA256(EMAIL_REPLY_SECRET, conversation_id); the backend signs, this module verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import re

REPLY_SIG_CHARS = 16
_REPLY_LOCAL = re.compile(r"^reply\+(?P<conversation_id>[A-Za-z0-9_-]{1,64})\.(?P<sig>[0-9a-f]{16})$")
_GENERIC_HEADER = re.compile(r"^t=(?P<t>\d{1,12}),v1=(?P<v1>[0-9a-fA-F]{64})$")


def _hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def reply_signature(*, conversation_id: str, secret: str) -> str:
    return _hmac_hex(secret, conversation_id.encode())[:REPLY_SIG_CHARS]


def reply_address(*, conversation_id: str, secret: str, domain: str) -> str:
    """What the backend puts in Reply-To (tests and tools write replies to it)."""
    signature = reply_signature(conversation_id=conversation_id, secret=secret)
    return f"reply+{conversation_id}.{signature}@{domain}"


def conversation_of_reply_address(address: str, *, secret: str, domain: str) -> str | None:
    """The conversation a correctly signed reply address names, else None (wrong domain, forged signature)."""
    local, _, address_domain = address.strip().rpartition("@")
    if address_domain.lower() != domain.lower():
        return None
    match = _REPLY_LOCAL.match(local.lower())
    if match is None:
        return None
    # Conversation ids are lower-case hex (uuid4().hex); the address may have been case-folded in transit.
    conversation_id = match["conversation_id"]
    expected = reply_signature(conversation_id=conversation_id, secret=secret)
    return conversation_id if hmac.compare_digest(expected, match["sig"]) else None


def sign_generic(*, body: bytes, secret: str, timestamp: int) -> str:
    """The X-Email-Signature header value of a generic webhook body (what a sender, or a test, writes)."""
    return f"t={timestamp},v1={_hmac_hex(secret, str(timestamp).encode() + b'.' + body)}"


def generic_signature_problem(*, body: bytes, header: str | None, secret: str, tolerance_seconds: int,
                              now: float) -> str | None:
    """Why the generic webhook's signature is refused (a short reason for the log), or None if it is good."""
    if not header:
        return "no X-Email-Signature header"
    match = _GENERIC_HEADER.match(header.strip())
    if match is None:
        return "malformed X-Email-Signature header"
    timestamp = int(match["t"])
    if abs(now - timestamp) > tolerance_seconds:
        return f"signature timestamp {timestamp} outside the {tolerance_seconds} s tolerance"
    expected = _hmac_hex(secret, match["t"].encode() + b"." + body)
    if not hmac.compare_digest(expected, match["v1"].lower()):
        return "signature does not match"
    return None


def sign_mailgun(*, timestamp: str, token: str, secret: str) -> str:
    return _hmac_hex(secret, (timestamp + token).encode())


def mailgun_signature_problem(*, timestamp: str | None, token: str | None, signature: str | None,
                              secret: str, tolerance_seconds: int, now: float) -> str | None:
    """Mailgun's documented check: hex HMAC-SHA256(signing key, timestamp + token) == signature."""
    if not timestamp or not token or not signature:
        return "no Mailgun timestamp/token/signature fields"
    if not timestamp.isdigit() or len(timestamp) > 12:
        return "malformed Mailgun timestamp"
    if abs(now - int(timestamp)) > tolerance_seconds:
        return f"signature timestamp {timestamp} outside the {tolerance_seconds} s tolerance"
    expected = sign_mailgun(timestamp=timestamp, token=token, secret=secret)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        return "signature does not match"
    return None
