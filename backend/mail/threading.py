"""Threading headers: the signed reply address and stable Message-IDs (docs/contracts.md, "Email").

The handoff service verifies `reply+<conversation_id>.<sig>@MAIL_REPLY_DOMAIN` with the same
EMAIL_REPLY_SECRET.
"""
import hashlib
import hmac
import uuid


def reply_signature(*, secret: str, conversation_id: str) -> str:
    digest = hmac.new(secret.encode(), conversation_id.encode(), hashlib.sha256).hexdigest()
    return digest[:16]


def reply_address(*, secret: str, conversation_id: str, domain: str) -> str:
    signature = reply_signature(secret=secret, conversation_id=conversation_id)
    return f"reply+{conversation_id}.{signature}@{domain}"


def new_message_id(*, domain: str, conversation_id: str | None) -> str:
    token = uuid.uuid4().hex
    if conversation_id:
        return f"<conv-{conversation_id}-{token}@{domain}>"
    return f"<mail-{token}@{domain}>"


def preferences_token(*, secret: str, customer_id: int) -> str:
    """The email-preferences link's credential: the customer id and an HMAC of it (no expiry: it sits in
    mail the customer keeps; it only shows and changes that customer's reminder choice)."""
    digest = hmac.new(secret.encode(), f"preferences:{customer_id}".encode(), hashlib.sha256).hexdigest()
    return f"{customer_id}.{digest[:32]}"


def customer_of_preferences_token(*, secret: str, token: str) -> int | None:
    number, _, _signature = token.partition(".")
    if not number.isdigit() or len(number) > 10:
        return None
    expected = preferences_token(secret=secret, customer_id=int(number))
    return int(number) if hmac.compare_digest(expected.encode(), token.encode()) else None
