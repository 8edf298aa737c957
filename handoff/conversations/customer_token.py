"""Verify the website's customer token (HS256 JWT) and mint demo tokens in development."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import jwt

from handoff.db import utcnow


class InvalidCustomerToken(Exception):
    pass


@dataclass(frozen=True)
class CustomerIdentity:
    customer_id: int
    first_name: str | None


def verify_customer_token(token: str, *, secret: str) -> CustomerIdentity | None:
    """None for an anonymous visitor (no token); raises InvalidCustomerToken for a bad or expired one."""
    if not token:
        return None
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["sub", "exp"]})
        customer_id = int(claims["sub"])
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise InvalidCustomerToken(str(error)) from error
    if customer_id <= 0:
        raise InvalidCustomerToken("sub must be a positive customer id")
    name = claims.get("name")
    return CustomerIdentity(customer_id=customer_id, first_name=str(name)[:100] if name else None)


def mint_customer_token(*, customer_id: int, first_name: str, secret: str, minutes: int = 120) -> str:
    claims = {"sub": str(customer_id), "name": first_name, "exp": utcnow() + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret, algorithm="HS256")
