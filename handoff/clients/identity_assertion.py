"""The identity assertion the handoff service sends with every bot turn (docs/contracts.md, "Rasa"): an
HS256 JWT over the conversation, the signed-in customer (None: anonymous) and a short expiry. The action
server trusts a customer id only from it (actions/identity.py), so nobody who can reach Rasa or the actions
can claim a customer."""

from __future__ import annotations

from datetime import timedelta

import jwt

from handoff.db import utcnow

ISSUER = "billing-handoff"
AUDIENCE = "billing-actions"


def mint_identity_assertion(*, conversation_id: str, customer_id: int | None, secret: str,
                            seconds: int) -> str:
    now = utcnow()
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "conversation_id": conversation_id,
        "customer_id": customer_id,
        "iat": now,
        "exp": now + timedelta(seconds=seconds),
    }
    return jwt.encode(claims, secret, algorithm="HS256")
