"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

import asyncio
import hmac
from datetime import timedelta

from fastapi import Depends, HTTPException, Request

from handoff.config import Settings
from handoff.conversations.service import HandoffService, Staff
from handoff.specialists import auth


def get_service(request: Request) -> HandoffService:
    return request.app.state.service


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def require_api_token(request: Request, settings: Settings = Depends(get_settings_dep)) -> None:
    token = bearer_token(request) or ""
    if not hmac.compare_digest(token.encode(), settings.api_token.encode()):
        raise HTTPException(status_code=401, detail="A valid bearer token is required.")


def session_token_from(headers_token: str | None, cookies: dict) -> str | None:
    return headers_token or cookies.get(auth.SESSION_COOKIE)


async def staff_for(service: HandoffService, token: str | None, *, touch: bool = True) -> Staff | None:
    if not token:
        return None
    settings = service.settings
    return await asyncio.to_thread(service._in_session, auth.staff_for_token, {
        "token": token, "secret": settings.session_secret, "touch": touch,
        "idle": timedelta(minutes=settings.session_idle_minutes)})


async def current_staff(request: Request, service: HandoffService = Depends(get_service)) -> Staff:
    staff = await staff_for(service, session_token_from(bearer_token(request), request.cookies))
    if staff is None:
        raise HTTPException(status_code=401, detail="Please log in.")
    return staff


async def chat_staff(staff: Staff = Depends(current_staff)) -> Staff:
    if staff.role not in ("specialist", "supervisor"):
        raise HTTPException(status_code=403, detail="Your role cannot work on chats.")
    return staff


async def supervisor(staff: Staff = Depends(current_staff)) -> Staff:
    if staff.role != "supervisor":
        raise HTTPException(status_code=403, detail="Only supervisors can see this page.")
    return staff
