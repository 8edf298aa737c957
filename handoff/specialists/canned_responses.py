"""Canned responses (issue 17): supervisors keep them (create, edit, delete; audited), specialists put one
into the reply box with its placeholders filled from the chat's customer account.

Placeholders: `{first_name}`, `{total_due}` (money as `$1,234.50`), `{due_date}` (`December 15, 2026`). A body
naming any other `{word}` is refused when saved, so a typo never reaches a customer as a blank."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.assignments.ownership import account_customer_id, load_owned
from handoff.clients.backend import BackendError
from handoff.conversations import store
from handoff.db import utcnow
from handoff.errors import ServiceError
from handoff.models import CannedResponse
from handoff.specialists.staff import Staff

if TYPE_CHECKING:
    from handoff.context import Services

PLACEHOLDERS = ("first_name", "total_due", "due_date")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def money(value: object) -> str | None:
    """A backend money string ("1234.5") as the console writes money: `$1,234.50` (Decimal, never float)."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite():
        return None
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


def long_date(value: object) -> str | None:
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return None
    return f"{day:%B} {day.day}, {day.year}"


def check_body(body: str) -> None:
    unknown = sorted({name for name in _PLACEHOLDER.findall(body) if name not in PLACEHOLDERS})
    if unknown:
        raise ServiceError(status_code=422, code="unknown_placeholder",
                           message="Unknown placeholder " + ", ".join("{" + n + "}" for n in unknown) +
                           ". Use {first_name}, {total_due} or {due_date}.")


def response_out(row: CannedResponse) -> dict[str, Any]:
    return {"id": row.id, "title": row.title, "body": row.body, "updated_by": row.updated_by,
            "updated_at": row.updated_at.isoformat()}


def list_responses(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(CannedResponse).order_by(CannedResponse.title, CannedResponse.id))
    return [response_out(row) for row in rows]


def _get(session: Session, response_id: int) -> CannedResponse:
    row = session.get(CannedResponse, response_id)
    if row is None:
        raise ServiceError(status_code=404, code="canned_response_not_found",
                           message="No such canned response.")
    return row


def get_response(session: Session, *, response_id: int) -> dict[str, Any]:
    return response_out(_get(session, response_id))


def create(session: Session, *, staff: Staff, title: str, body: str) -> dict[str, Any]:
    check_body(body)
    row = CannedResponse(title=title.strip(), body=body, updated_by=staff.actor, updated_at=utcnow())
    session.add(row)
    session.flush()
    store.audit(session, actor=staff.actor, action="canned_response_created", target=f"canned:{row.id}",
                details={"title": row.title})
    return response_out(row)


def update(session: Session, *, staff: Staff, response_id: int, title: str, body: str) -> dict[str, Any]:
    check_body(body)
    row = _get(session, response_id)
    row.title, row.body, row.updated_by, row.updated_at = title.strip(), body, staff.actor, utcnow()
    store.audit(session, actor=staff.actor, action="canned_response_updated", target=f"canned:{row.id}",
                details={"title": row.title})
    return response_out(row)


def delete(session: Session, *, staff: Staff, response_id: int) -> None:
    row = _get(session, response_id)
    store.audit(session, actor=staff.actor, action="canned_response_deleted", target=f"canned:{row.id}",
                details={"title": row.title})
    session.delete(row)


async def _part(call: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """One backend answer, or {} when the backend refuses it (that placeholder is then missing)."""
    try:
        return await call
    except BackendError:
        return {}


async def _account_values(*, services: Services, customer_id: int, actor: str) -> dict[str, str]:
    backend = services.backend
    customer, balance = await asyncio.gather(
        _part(backend.get_customer(customer_id=customer_id, actor=actor)),
        _part(backend.get_balance(customer_id=customer_id, actor=actor)))
    values = {"first_name": customer.get("first_name") or None,
              "total_due": money(balance["total_due"]) if balance.get("total_due") is not None else None,
              "due_date": long_date(balance["next_due_date"]) if balance.get("next_due_date") else None}
    return {name: value for name, value in values.items() if value}


async def fill(*, services: Services, conversation_id: str, staff: Staff, response_id: int) -> dict[str, Any]:
    """The response's body for this chat's customer (the owner or a supervisor): `{text, missing}`."""
    conversation = await load_owned(services=services, conversation_id=conversation_id, staff=staff)
    row = await services.run(get_response, response_id=response_id)
    body: str = row["body"]
    used = [name for name in PLACEHOLDERS if "{" + name + "}" in body]
    values: dict[str, str] = {}
    customer_id = account_customer_id(conversation)
    if used and customer_id is not None:
        values = await _account_values(services=services, customer_id=customer_id, actor=staff.actor)
    text = _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), body)
    await services.run(store.audit, actor=staff.actor, action="use_canned_response", target=conversation_id,
                       details={"canned_response_id": response_id, "filled": sorted(values)})
    return {"text": text, "missing": [name for name in used if name not in values]}
