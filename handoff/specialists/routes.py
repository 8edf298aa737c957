"""The specialist console's REST API (/api/console/...)."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.clients.backend import BackendError
from handoff.config import Settings
from handoff.conversations import store
from handoff.conversations.frames import message_frame
from handoff.conversations.service import HandoffService, ServiceError, Staff
from handoff.db import utcnow
from handoff.deps import (
    bearer_token,
    chat_staff,
    current_staff,
    get_service,
    get_settings_dep,
    session_token_from,
    supervisor,
)
from handoff.models import AuditEntry, Conversation, StaffUser
from handoff.specialists import audit_export, auth, work_access
from handoff.specialists.security import csrf_token_for
from handoff.specialists.stats import today_stats

router = APIRouter(prefix="/api/console")


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TransferRequest(BaseModel):
    to_username: str = Field(min_length=1, max_length=64)


class AgentMessageRequest(BaseModel):
    text: str = Field(min_length=1, max_length=4000)
    client_id: str | None = Field(default=None, max_length=64)


class SettleRequest(BaseModel):
    decision: Literal["accepted", "rejected"]
    note: str = Field(default="", max_length=2000)
    credit_amount: str | None = None

    @field_validator("credit_amount", mode="before")
    @classmethod
    def _credit_amount(cls, value: object) -> str | None:
        return credit_amount(value)


class ResolveRequest(BaseModel):
    outcome: Literal["credit_issued", "dispute_rejected", "explained"]


MAX_CREDIT = Decimal("1000000.00")
_MONEY = re.compile(r"^[0-9]{1,9}(\.[0-9]{1,2})?$")


def credit_amount(value: object) -> str | None:
    """A credit typed by a specialist: "49.99", "$1,049.99"; never negative, zero, fractional cents or huge."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PydanticCustomError("money_type", 'Send the amount as a string like "12.50", not a number.')
    text = value.strip().removeprefix("$").replace(",", "")
    if text.startswith("-"):
        raise PydanticCustomError("money_negative", "A credit must be a positive amount.")
    if not _MONEY.match(text):
        raise PydanticCustomError(
            "money_format", "Give the credit in dollars and cents, like 12.50 (no fractions of a cent).")
    amount = Decimal(text)
    if amount <= 0:
        raise PydanticCustomError("money_zero", "A credit must be more than 0.00.")
    if amount > MAX_CREDIT:
        raise PydanticCustomError("money_too_large", "A credit cannot be more than 1,000,000.00.")
    return f"{amount:.2f}"


def _staff_json(staff: Staff) -> dict:
    return {"id": staff.id, "username": staff.username, "display_name": staff.display_name, "role": staff.role}


@router.post("/login")
async def login(body: LoginRequest, request: Request, response: Response,
                service: HandoffService = Depends(get_service),
                settings: Settings = Depends(get_settings_dep)) -> dict:
    # auth.login writes the audit entries (login, login_failed, login_locked) that also drive throttling.
    limits = auth.LoginLimits(window_minutes=settings.login_window_minutes,
                              max_failures_per_username=settings.login_max_failures_per_username,
                              max_failures_per_ip=settings.login_max_failures_per_ip)
    result = await service._db(auth.login, username=body.username.strip(), password=body.password,
                               secret=settings.session_secret, hours=settings.session_hours,
                               client_ip=request.client.host if request.client else "unknown", limits=limits)
    if isinstance(result, auth.LoginThrottled):
        raise ServiceError(status_code=429, code="too_many_failed_logins", message=result.message)
    if result is None:
        raise ServiceError(status_code=401, code="bad_credentials", message="Wrong username or password.")
    token, staff = result
    response.set_cookie(auth.SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=not settings.is_development, max_age=max(1, int(settings.session_hours * 3600)),
                        path="/")
    return {"token": token, "user": _staff_json(staff),
            "csrf_token": csrf_token_for(token, settings.session_secret)}


@router.post("/logout")
async def logout(request: Request, response: Response, staff: Staff = Depends(current_staff),
                 service: HandoffService = Depends(get_service)) -> dict:
    token = session_token_from(bearer_token(request), request.cookies)
    await service._db(auth.logout, token=token, secret=service.settings.session_secret)
    await service.touch_presence(user_id=staff.id, online=False)
    await service.record_audit(actor=staff.actor, action="logout", target=None)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return {"ok": True}


@router.get("/me")
async def me(request: Request, staff: Staff = Depends(current_staff),
             settings: Settings = Depends(get_settings_dep)) -> dict:
    """Who is signed in, and the CSRF token the console page sends with every change it makes."""
    token = session_token_from(bearer_token(request), request.cookies) or ""
    return {**_staff_json(staff), "csrf_token": csrf_token_for(token, settings.session_secret)}


@router.get("/queue")
async def queue(staff: Staff = Depends(chat_staff), service: HandoffService = Depends(get_service)) -> dict:
    return {"entries": await service.queue_snapshot()}


def _conversation_summary(session: Session, conversation: Conversation) -> dict:
    owner = session.get(StaffUser, conversation.assigned_specialist_id) if conversation.assigned_specialist_id else None
    return {
        "conversation_id": conversation.id,
        "state": conversation.state,
        "customer_id": conversation.customer_id,
        "customer_name": conversation.customer_name,
        "reason": conversation.escalation_reason,
        "context": conversation.context,
        "dispute_id": conversation.dispute_id,
        "dispute_amount": f"{conversation.dispute_amount:.2f}" if conversation.dispute_amount is not None else None,
        "ticket_number": conversation.ticket_number,
        "assigned_to": {"username": owner.username, "display_name": owner.display_name} if owner else None,
        "csat_score": conversation.csat_score,
        "last_seq": conversation.last_seq,
        "created_at": conversation.created_at.isoformat(),
    }


@router.get("/my-chats")
async def my_chats(staff: Staff = Depends(chat_staff), service: HandoffService = Depends(get_service)) -> dict:
    def query(session: Session) -> list[dict]:
        rows = session.scalars(select(Conversation).where(Conversation.state == "assigned",
                                                          Conversation.assigned_specialist_id == staff.id)
                               .order_by(Conversation.assigned_at))
        return [_conversation_summary(session, c) for c in rows]
    return {"chats": await service._db(query)}


@router.get("/staff")
async def colleagues(staff: Staff = Depends(chat_staff), service: HandoffService = Depends(get_service)) -> dict:
    cutoff = utcnow() - timedelta(seconds=service.settings.presence_timeout_seconds)

    def query(session: Session) -> list[dict]:
        users = session.scalars(select(StaffUser).where(StaffUser.active.is_(True),
                                                        StaffUser.role.in_(("specialist", "supervisor")))
                                .order_by(StaffUser.display_name))
        return [{"username": u.username, "display_name": u.display_name, "role": u.role,
                 "online": bool(u.last_seen_at and u.last_seen_at > cutoff)} for u in users]
    return {"staff": await service._db(query)}


@router.get("/conversations/{conversation_id}")
async def conversation_detail(conversation_id: str, after_seq: int = Query(default=0, ge=0, le=2_147_483_647),
                              staff: Staff = Depends(chat_staff),
                              service: HandoffService = Depends(get_service)) -> dict:
    def query(session: Session) -> dict | None:
        conversation, reason = work_access.look_at(session, conversation_id=conversation_id, staff=staff,
                                                   action="view_conversation")
        if reason is None:
            return None
        summary = _conversation_summary(session, conversation)
        summary["messages"] = [message_frame(m) for m in store.messages_after(
            session, conversation_id=conversation_id, after_seq=after_seq, limit=2000)]
        return summary
    summary = await service._db(query)
    if summary is None:
        raise work_access.refusal()
    return summary


@router.get("/conversations/{conversation_id}/account")
async def account_snapshot(conversation_id: str, staff: Staff = Depends(chat_staff),
                           service: HandoffService = Depends(get_service)) -> dict:
    """Balance, recent invoices with line items, payments, disputes: fetched with X-Actor (backend audits it)."""
    conversation = await service.load_owned(conversation_id=conversation_id, staff=staff)
    if conversation.customer_id is None:
        raise ServiceError(status_code=409, code="unverified_customer",
                           message="This customer is not verified, so there is no account to show.")
    customer_id, actor, backend = conversation.customer_id, staff.actor, service.backend
    await service.record_audit(actor=actor, action="view_account", target=conversation_id,
                               details={"customer_id": customer_id})

    async def section(coroutine):
        try:
            return {"ok": True, "data": await coroutine}
        except BackendError as error:
            return {"ok": False, "error": {"code": error.code, "message": error.message}}

    customer, balance, invoices, payments, disputes = await asyncio.gather(
        section(backend.get_customer(customer_id=customer_id, actor=actor)),
        section(backend.get_balance(customer_id=customer_id, actor=actor)),
        section(backend.list_invoices(customer_id=customer_id, actor=actor)),
        section(backend.list_payments(customer_id=customer_id, actor=actor)),
        section(backend.list_disputes(customer_id=customer_id, actor=actor)),
    )
    if invoices["ok"]:
        recent = (invoices["data"] or [])[:3]
        detailed = await asyncio.gather(*(section(backend.get_invoice(
            customer_id=customer_id, number=invoice["number"], actor=actor)) for invoice in recent))
        invoices["data"] = [d["data"] if d["ok"] else invoice for d, invoice in zip(detailed, recent)]
    return {"customer_id": customer_id, "customer": customer, "balance": balance, "invoices": invoices,
            "payments": payments, "disputes": disputes}


@router.post("/conversations/{conversation_id}/claim")
async def claim(conversation_id: str, staff: Staff = Depends(chat_staff),
                service: HandoffService = Depends(get_service)) -> dict:
    await service.claim(conversation_id=conversation_id, staff=staff)
    return {"ok": True, "conversation_id": conversation_id, "assigned_to": staff.username}


@router.post("/conversations/{conversation_id}/release")
async def release(conversation_id: str, staff: Staff = Depends(chat_staff),
                  service: HandoffService = Depends(get_service)) -> dict:
    await service.release(conversation_id=conversation_id, staff=staff)
    return {"ok": True}


@router.post("/conversations/{conversation_id}/transfer")
async def transfer(conversation_id: str, body: TransferRequest, staff: Staff = Depends(chat_staff),
                   service: HandoffService = Depends(get_service)) -> dict:
    await service.transfer(conversation_id=conversation_id, staff=staff, to_username=body.to_username)
    return {"ok": True}


@router.post("/conversations/{conversation_id}/messages")
async def send_message(conversation_id: str, body: AgentMessageRequest, staff: Staff = Depends(chat_staff),
                       service: HandoffService = Depends(get_service)) -> dict:
    message = await service.send_agent_message(conversation_id=conversation_id, staff=staff, text=body.text,
                                               client_id=body.client_id)
    return message_frame(message)


@router.post("/conversations/{conversation_id}/typing")
async def typing(conversation_id: str, staff: Staff = Depends(chat_staff),
                 service: HandoffService = Depends(get_service)) -> dict:
    await service.load_owned(conversation_id=conversation_id, staff=staff)  # only in a chat you work on
    await service.agent_typing(conversation_id=conversation_id, staff=staff)
    return {"ok": True}


@router.post("/conversations/{conversation_id}/settle")
async def settle(conversation_id: str, body: SettleRequest, staff: Staff = Depends(chat_staff),
                 service: HandoffService = Depends(get_service)) -> dict:
    dispute = await service.settle_dispute(conversation_id=conversation_id, staff=staff, decision=body.decision,
                                           note=body.note, credit_amount=body.credit_amount)
    return {"ok": True, "dispute": dispute}


@router.post("/conversations/{conversation_id}/resolve")
async def resolve(conversation_id: str, body: ResolveRequest, staff: Staff = Depends(chat_staff),
                  service: HandoffService = Depends(get_service)) -> dict:
    await service.resolve(conversation_id=conversation_id, staff=staff, outcome=body.outcome)
    return {"ok": True}


@router.get("/stats")
async def stats(staff: Staff = Depends(supervisor), service: HandoffService = Depends(get_service)) -> dict:
    return await service._db(today_stats, now=utcnow(), timezone=service.settings.timezone)


@router.get("/audit")
async def audit_log(limit: int = Query(default=200, ge=1, le=2000), staff: Staff = Depends(supervisor),
                    service: HandoffService = Depends(get_service)) -> dict:
    def query(session: Session) -> list[dict]:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
        return [{"at": r.at.isoformat(), "actor": r.actor, "action": r.action, "target": r.target,
                 "details": r.details} for r in rows]
    return {"entries": await service._db(query)}



@router.get("/audit/export")
async def export_audit_log(start: datetime = Query(description="From this time (inclusive), ISO 8601; UTC if no zone"),
                           end: datetime = Query(description="Before this time, ISO 8601; UTC if no zone"),
                           format: Literal["csv", "json"] = Query(default="csv"),
                           staff: Staff = Depends(supervisor), service: HandoffService = Depends(get_service)):
    """Every audit entry in [start, end), oldest first, as a CSV or JSON download (supervisors only)."""
    start, end = audit_export.as_utc(start), audit_export.as_utc(end)
    if end <= start:
        raise ServiceError(status_code=422, code="bad_range", message="end must be after start.")
    entries = await service._db(audit_export.entries_between, start=start, end=end)
    await service.record_audit(actor=staff.actor, action="audit_export", target=None,
                               details={"start": start.isoformat(), "end": end.isoformat(), "format": format,
                                        "entries": len(entries)})
    return audit_export.download(entries, start=start, end=end, format=format)
