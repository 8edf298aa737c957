"""FastAPI dependencies shared by the routers, and their `Annotated` aliases (as in the backend's auth.py).

A route names what it needs by type: `staff: ChatStaffDep`, `db: DatabaseDep`; no `Depends()` defaults.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from handoff.config import Settings
from handoff.context import Services
from handoff.db import Database
from handoff.specialists import auth
from handoff.specialists.staff import Staff
from handoff.vocabulary import CHAT_ROLES, StaffRole


def get_service(request: Request) -> Services:
    """Everything a use case works with (handoff/context.py), built in the app's lifespan."""
    services: Services = request.app.state.services
    return services


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_database(request: Request) -> Database:
    return get_service(request).db


ServiceDep = Annotated[Services, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def require_api_token(request: Request, settings: SettingsDep) -> None:
    token = bearer_token(request) or ""
    if not hmac.compare_digest(token.encode(), settings.api_token.encode()):
        raise HTTPException(status_code=401, detail="A valid bearer token is required.")


def session_token_from(headers_token: str | None, cookies: dict[str, str]) -> str | None:
    return headers_token or cookies.get(auth.SESSION_COOKIE)


def request_session_token(request: Request) -> str | None:
    """The console session of this request: the bearer token, else the session cookie."""
    return session_token_from(bearer_token(request), request.cookies)


SessionTokenDep = Annotated[str | None, Depends(request_session_token)]


async def staff_for(service: Services, token: str | None, *, touch: bool = True) -> Staff | None:
    if not token:
        return None
    settings = service.settings
    return await service.db.run(auth.staff_for_token, token=token, secret=settings.session_secret,
                                touch=touch, idle=timedelta(minutes=settings.session_idle_minutes))


async def current_staff(service: ServiceDep, token: SessionTokenDep) -> Staff:
    staff = await staff_for(service, token)
    if staff is None:
        raise HTTPException(status_code=401, detail="Please log in.")
    return staff


StaffDep = Annotated[Staff, Depends(current_staff)]


async def chat_staff(staff: StaffDep) -> Staff:
    if staff.role not in CHAT_ROLES:
        raise HTTPException(status_code=403, detail="Your role cannot work on chats.")
    return staff


async def supervisor(staff: StaffDep) -> Staff:
    if staff.role != StaffRole.SUPERVISOR:
        raise HTTPException(status_code=403, detail="Only supervisors can see this page.")
    return staff


async def trainer(staff: StaffDep) -> Staff:
    if staff.role != StaffRole.TRAINER:
        raise HTTPException(status_code=403, detail="Only trainers can review and teach the bot.")
    return staff


async def model_operator(staff: StaffDep) -> Staff:
    if staff.role not in (StaffRole.TRAINER, StaffRole.SUPERVISOR):
        raise HTTPException(status_code=403,
                            detail="Only trainers and supervisors can retrain or ship the bot.")
    return staff


ChatStaffDep = Annotated[Staff, Depends(chat_staff)]
SupervisorDep = Annotated[Staff, Depends(supervisor)]
TrainerDep = Annotated[Staff, Depends(trainer)]
ModelOperatorDep = Annotated[Staff, Depends(model_operator)]
