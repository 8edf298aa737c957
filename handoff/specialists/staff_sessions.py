"""Signing staff in and out of the console: the login and logout use cases, and the session cookie."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import Response

from handoff.config import Settings
from handoff.context import Services
from handoff.conversations import store
from handoff.errors import ServiceError
from handoff.specialists import auth, presence
from handoff.specialists.staff import Staff


async def sign_in(*, service: Services, username: str, password: str,
                  client_ip: str) -> tuple[str, Staff]:
    """A new session token and who it signs in; a refusal (401 wrong credentials, 429 throttled) otherwise.

    auth.login writes the audit entries (login, login_failed, login_locked) that also drive the throttling."""
    settings = service.settings
    limits = auth.LoginLimits(window_minutes=settings.login_window_minutes,
                              max_failures_per_username=settings.login_max_failures_per_username,
                              max_failures_per_ip=settings.login_max_failures_per_ip)
    result = await service.db.run(auth.login, username=username.strip(), password=password,
                                  secret=settings.session_secret, hours=settings.session_hours,
                                  client_ip=client_ip, limits=limits)
    if isinstance(result, auth.LoginThrottled):
        raise ServiceError(status_code=429, code="too_many_failed_logins", message=result.message)
    if result is None:
        raise ServiceError(status_code=401, code="bad_credentials", message="Wrong username or password.")
    # A fresh sign-in is online: away belonged to the session it was chosen in.
    await service.db.run(presence.set_status, staff=result[1], status="online")
    return result


async def sign_out(*, service: Services, staff: Staff, token: str | None) -> None:
    """Revoke the session, show its owner offline and audit it."""
    if token:
        await service.db.run(auth.logout, token=token, secret=service.settings.session_secret)
    await service.db.run(store.set_presence, user_id=staff.id, online=False)
    await service.db.run(store.audit, actor=staff.actor, action="logout", target=None)


def staff_fields(staff: Staff) -> dict[str, Any]:
    """id, username, display_name, role: who is signed in, as the console shows them."""
    return asdict(staff)


def set_session_cookie(response: Response, *, token: str, settings: Settings) -> None:
    max_age = max(1, int(settings.session_hours * 3600))
    response.set_cookie(auth.SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=not settings.is_development, max_age=max_age, path="/")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
