"""Staff accounts: argon2 password hashes, opaque session tokens (cookie or bearer), roles."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from handoff.conversations import store
from handoff.db import utcnow
from handoff.models import AuditEntry, StaffSession, StaffUser
from handoff.queue.teams import Team, format_teams, parse_teams
from handoff.specialists.staff import Staff
from handoff.vocabulary import StaffRole

ROLES = tuple(role.value for role in StaffRole)
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
    return Staff(id=user.id, username=user.username, display_name=user.display_name, role=user.role,
                 teams=parse_teams(user.teams))


def create_user(session: Session, *, username: str, password: str, display_name: str, role: str,
                teams: tuple[str, ...] | None = None) -> StaffUser:
    """`teams` (handoff/queue/teams.py): general for a new account unless given; kept for an existing one."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    stored_teams = format_teams(teams) if teams is not None else None
    user = session.scalars(select(StaffUser).where(StaffUser.username == username)).first()
    if user is None:
        user = StaffUser(username=username, created_at=utcnow(), active=True, display_name=display_name,
                         role=role, teams=stored_teams or Team.GENERAL.value,
                         password_hash=hash_password(password))
        session.add(user)
    else:  # seeding twice keeps one account with the documented password
        user.display_name, user.role, user.active = display_name, role, True
        if stored_teams is not None:
            user.teams = stored_teams
        if not verify_password(user.password_hash, password):
            user.password_hash = hash_password(password)
    session.flush()
    return user


@dataclass(frozen=True)
class LoginLimits:
    window_minutes: int = 15
    max_failures_per_username: int = 5
    max_failures_per_ip: int = 20


@dataclass(frozen=True)
class LoginThrottled:
    """Returned instead of a session while too many sign-ins failed recently."""

    retry_after_minutes: int
    reason: str  # "username" or "client_ip"

    @property
    def message(self) -> str:
        unit = "minute" if self.retry_after_minutes == 1 else "minutes"
        return f"Too many failed sign-ins; try again in {self.retry_after_minutes} {unit}."


# Failed and successful sign-ins are audit-log rows (the database, not process memory), so the
# counters hold across replicas and restarts. The target names the username; details keep the IP.
def _username_target(username: str) -> str:
    return f"username:{username[:64]}"


def _retry_after(failure_times: list[datetime], limit: int, window: timedelta, now: datetime) -> int | None:
    """Minutes until fewer than `limit` failures remain in the window, or None if not locked."""
    if len(failure_times) < limit:
        return None
    newest_first = sorted(failure_times, reverse=True)
    unlocks_at = newest_first[limit - 1] + window
    return max(1, math.ceil((unlocks_at - now).total_seconds() / 60))


def _throttle(session: Session, *, username: str, client_ip: str, limits: LoginLimits,
              now: datetime) -> LoginThrottled | None:
    window = timedelta(minutes=limits.window_minutes)
    since = now - window
    target = _username_target(username)
    last_success = session.scalar(select(func.max(AuditEntry.at)).where(
        AuditEntry.action == "login", AuditEntry.target == target, AuditEntry.at >= since))
    username_failures = list(session.scalars(select(AuditEntry.at).where(
        AuditEntry.action == "login_failed", AuditEntry.target == target,
        AuditEntry.at > (last_success or since))))
    retry = _retry_after(username_failures, limits.max_failures_per_username, window, now)
    if retry is not None:
        return LoginThrottled(retry_after_minutes=retry, reason="username")
    ip_failures = list(session.scalars(select(AuditEntry.at).where(
        AuditEntry.action == "login_failed", AuditEntry.at >= since,
        AuditEntry.details["client_ip"].as_string() == client_ip)))
    retry = _retry_after(ip_failures, limits.max_failures_per_ip, window, now)
    if retry is not None:
        return LoginThrottled(retry_after_minutes=retry, reason="client_ip")
    return None


def login(session: Session, *, username: str, password: str, secret: str, hours: float,
          client_ip: str = "unknown",
          limits: LoginLimits = LoginLimits()) -> tuple[str, Staff] | LoginThrottled | None:
    """A session token, None for wrong credentials, or LoginThrottled (checked before the password)."""
    now = utcnow()
    target = _username_target(username)
    throttled = _throttle(session, username=username, client_ip=client_ip, limits=limits, now=now)
    if throttled is not None:
        store.audit(session, actor=f"anonymous:{username[:40]}", action="login_locked", target=target,
                    details={"client_ip": client_ip, "reason": throttled.reason,
                             "retry_after_minutes": throttled.retry_after_minutes})
        return throttled
    user = session.scalars(select(StaffUser).where(StaffUser.username == username)).first()
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password)
        user = None
    elif not verify_password(user.password_hash, password):
        user = None
    if user is None:
        store.audit(session, actor=f"anonymous:{username[:40]}", action="login_failed", target=target,
                    details={"client_ip": client_ip})
        return None
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(token_hash=_token_digest(token, secret), user_id=user.id, created_at=now,
                             expires_at=now + timedelta(hours=hours), revoked=False, last_used_at=now))
    store.audit(session, actor=f"{user.role}:{user.username}", action="login", target=target,
                details={"client_ip": client_ip})
    return token, staff_from_user(user)


def staff_for_token(session: Session, *, token: str, secret: str, idle: timedelta | None = None,
                    touch: bool = True) -> Staff | None:
    """The signed-in staff member, or None once the session is revoked, past its absolute expiry or idle
    for longer than `idle`. `touch` records this request as activity (an automatic ping does not)."""
    now = utcnow()
    row = session.execute(
        select(StaffUser, StaffSession).join(StaffSession, StaffSession.user_id == StaffUser.id).where(
            StaffSession.token_hash == _token_digest(token, secret), StaffSession.revoked.is_(False),
            StaffSession.expires_at > now, StaffUser.active.is_(True))
    ).first()
    if row is None:
        return None
    user, staff_session = row
    last_used = staff_session.last_used_at or staff_session.created_at
    if idle is not None and now - last_used >= idle:
        return None
    # One write per stretch of activity, not per request: at most every tenth of the idle limit (max 1 min).
    touch_every = min(timedelta(minutes=1), idle / 10) if idle is not None else timedelta(minutes=1)
    if touch and now - last_used >= touch_every:
        staff_session.last_used_at = now
    return staff_from_user(user)


def logout(session: Session, *, token: str, secret: str) -> None:
    session.execute(update(StaffSession).where(StaffSession.token_hash == _token_digest(token, secret))
                    .values(revoked=True))
