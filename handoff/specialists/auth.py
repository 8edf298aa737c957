"""Staff accounts: argon2 password hashes, opaque session tokens (cookie or bearer), roles."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from handoff.conversations.service import Staff
from handoff.db import utcnow
from handoff.models import StaffSession, StaffUser

ROLES = ("specialist", "supervisor", "trainer")
SESSION_COOKIE = "handoff_session"
_hasher = PasswordHasher()
# Verifying against this keeps unknown usernames as slow as wrong passwords.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_digest(token: str, secret: str) -> str:
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def staff_from_user(user: StaffUser) -> Staff:
    return Staff(id=user.id, username=user.username, display_name=user.display_name, role=user.role)


def create_user(session: Session, *, username: str, password: str, display_name: str, role: str) -> StaffUser:
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    user = session.scalars(select(StaffUser).where(StaffUser.username == username)).first()
    if user is None:
        user = StaffUser(username=username, created_at=utcnow(), active=True, display_name=display_name, role=role,
                         password_hash=hash_password(password))
        session.add(user)
    else:  # seeding twice keeps one account with the documented password
        user.display_name, user.role, user.active = display_name, role, True
        if not verify_password(user.password_hash, password):
            user.password_hash = hash_password(password)
    session.flush()
    return user


def login(session: Session, *, username: str, password: str, secret: str, hours: int) -> tuple[str, Staff] | None:
    user = session.scalars(select(StaffUser).where(StaffUser.username == username)).first()
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(token_hash=_token_digest(token, secret), user_id=user.id, created_at=utcnow(),
                             expires_at=utcnow() + timedelta(hours=hours), revoked=False))
    return token, staff_from_user(user)


def staff_for_token(session: Session, *, token: str, secret: str) -> Staff | None:
    row = session.execute(
        select(StaffUser, StaffSession).join(StaffSession, StaffSession.user_id == StaffUser.id).where(
            StaffSession.token_hash == _token_digest(token, secret), StaffSession.revoked.is_(False),
            StaffSession.expires_at > utcnow(), StaffUser.active.is_(True))
    ).first()
    return staff_from_user(row[0]) if row else None


def logout(session: Session, *, token: str, secret: str) -> None:
    session.execute(update(StaffSession).where(StaffSession.token_hash == _token_digest(token, secret))
                    .values(revoked=True))
