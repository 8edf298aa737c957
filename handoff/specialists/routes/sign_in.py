"""Sign-in screen: login, logout, and who is signed in."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from handoff.deps import ServiceDep, SessionTokenDep, SettingsDep, StaffDep
from handoff.specialists import staff_sessions
from handoff.specialists.schemas import ErrorResponse, LoginRequest, LoginResponse, MeResponse, OkResponse
from handoff.specialists.security import csrf_token_for

router = APIRouter()


@router.post("/login", response_model=LoginResponse,
             responses={429: {"model": ErrorResponse, "description": "Too many failed sign-ins"}})
async def login(body: LoginRequest, request: Request, response: Response, service: ServiceDep) -> dict:
    client_ip = request.client.host if request.client else "unknown"
    token, staff = await staff_sessions.sign_in(service=service, username=body.username,
                                                password=body.password, client_ip=client_ip)
    staff_sessions.set_session_cookie(response, token=token, settings=service.settings)
    return {"token": token, "user": staff_sessions.staff_fields(staff),
            "csrf_token": csrf_token_for(token, service.settings.session_secret)}


@router.post("/logout", response_model=OkResponse)
async def logout(response: Response, staff: StaffDep, token: SessionTokenDep, service: ServiceDep) -> dict:
    await staff_sessions.sign_out(service=service, staff=staff, token=token)
    staff_sessions.clear_session_cookie(response)
    return {"ok": True}


@router.get("/me", response_model=MeResponse)
async def me(staff: StaffDep, token: SessionTokenDep, settings: SettingsDep) -> dict:
    """Who is signed in, and the CSRF token the console page sends with every change it makes."""
    return {**staff_sessions.staff_fields(staff),
            "csrf_token": csrf_token_for(token or "", settings.session_secret)}
