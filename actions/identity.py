"""Who the customer is, from signed facts only (docs/contracts.md, "Actions"): the handoff service's identity
assertion in the latest message's metadata, or the verified-customer slot signed by this action server (set
from the assertion of the message that started the session, actions/session_start.py, or by the verification
form).

Both are bound to the conversation (`tracker.sender_id`), so a tracker forged for another conversation, a
copied slot, an unsigned or expired assertion or a bare `customer_id` count as an anonymous visitor."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Any

import jwt
from rasa_sdk.interfaces import Tracker

from actions.config import get_settings

logger = logging.getLogger(__name__)

ISSUER = "billing-handoff"
AUDIENCE = "billing-actions"
# Clocks of the handoff and action hosts may differ a little.
CLOCK_LEEWAY_SECONDS = 10
SLOT = "verified_customer_id"
SESSION_METADATA_SLOT = "session_started_metadata"  # Rasa's default slot
# keeps slot signatures apart from anything else signed with the key
_SLOT_PURPOSE = b"verified-customer-slot\x00"


@dataclass(frozen=True)
class HandoffTurn:
    """A turn the handoff service sent: its conversation and the signed-in customer (None: anonymous)."""

    conversation_id: str
    customer_id: int | None


def _secret(secret: str | None) -> str:
    return secret if secret is not None else get_settings().identity_assertion_secret


def verify_assertion(token: Any, *, conversation_id: str, secret: str | None = None) -> HandoffTurn | None:
    """The assertion's facts if it is a valid, unexpired HS256 JWT of the handoff service for this
    conversation."""
    if not isinstance(token, str) or not token:
        return None
    try:
        claims = jwt.decode(
            token,
            _secret(secret),
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=CLOCK_LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "conversation_id"]},
        )
    except jwt.PyJWTError as error:
        logger.info("identity assertion refused for conversation %s: %s", conversation_id, error)
        return None
    if claims.get("conversation_id") != conversation_id:
        logger.info("identity assertion of another conversation refused for conversation %s", conversation_id)
        return None
    customer_id = claims.get("customer_id")
    if customer_id is not None and (
        isinstance(customer_id, bool) or not isinstance(customer_id, int) or customer_id <= 0
    ):
        return None
    return HandoffTurn(conversation_id=conversation_id, customer_id=customer_id)


def handoff_turn(tracker: Tracker, *, secret: str | None = None) -> HandoffTurn | None:
    """The latest message's verified assertion; None when the turn did not come from the handoff service."""
    metadata = tracker.latest_message.get("metadata") or {}
    return verify_assertion(metadata.get("identity"), conversation_id=tracker.sender_id, secret=secret)


def session_start_turn(tracker: Tracker, *, secret: str | None = None) -> HandoffTurn | None:
    """The verified assertion of the message that starts the session: Rasa passes that message's metadata to
    `action_session_start` in the slot `session_started_metadata` (None: no message, or not the handoff's)."""
    metadata = tracker.get_slot(SESSION_METADATA_SLOT)
    if not isinstance(metadata, dict):
        return None
    return verify_assertion(metadata.get("identity"), conversation_id=tracker.sender_id, secret=secret)


def _slot_signature(customer_id: int, conversation_id: str, secret: str | None) -> str:
    message = _SLOT_PURPOSE + f"{conversation_id}\x00{customer_id}".encode()
    return hmac.new(_secret(secret).encode(), message, hashlib.sha256).hexdigest()


def signed_customer_slot(
    customer_id: int, *, conversation_id: str, secret: str | None = None
) -> dict[str, Any]:
    """The value of slot `verified_customer_id`: the id and an HMAC binding it to this conversation."""
    return {"customer_id": customer_id, "signature": _slot_signature(customer_id, conversation_id, secret)}


def signed_in_slots(customer_id: int, *, conversation_id: str, secret: str | None = None) -> dict[str, Any]:
    """The slots that make the customer of a verified assertion verified for the rest of the session."""
    return {
        "identity_verified": True,
        SLOT: signed_customer_slot(customer_id, conversation_id=conversation_id, secret=secret),
    }


def customer_id_from_slot(tracker: Tracker, *, secret: str | None = None) -> int | None:
    """The verified customer of this conversation, if the slot carries this server's signature for it."""
    value = tracker.get_slot(SLOT)
    if not isinstance(value, dict):
        return None
    customer_id, signature = value.get("customer_id"), value.get("signature")
    if isinstance(customer_id, bool) or not isinstance(customer_id, int) or customer_id <= 0:
        return None
    if not isinstance(signature, str):
        return None
    expected = _slot_signature(customer_id, tracker.sender_id, secret)
    if not hmac.compare_digest(signature, expected):
        logger.info(
            "verified_customer_id slot with a bad signature ignored in conversation %s", tracker.sender_id
        )
        return None
    return customer_id
