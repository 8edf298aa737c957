"""Supervisors oversee the account check's credits (issue 18): the credits the system issued in a range of
local dates, reversing one (with a reason), and the bot's limits. The backend does and audits each change
with the supervisor's X-Actor; the console's own audit log records it too."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from handoff.clients.backend import BackendError
from handoff.context import Services
from handoff.conversations import store
from handoff.db import utcnow
from handoff.errors import ServiceError
from handoff.specialists.staff import Staff
from handoff.specialists.stats import MAX_RANGE_DAYS, utc_range
from handoff.specialists.system_credit_schemas import Limits, LimitsIn, SystemCredit


def _refusal(error: BackendError) -> ServiceError:
    return ServiceError(status_code=502 if error.status_code >= 500 else error.status_code, code=error.code,
                        message=error.message)


def _unreadable() -> ServiceError:
    return ServiceError(status_code=502, code="backend_bad_answer",
                        message="The billing system answered something unreadable.")


async def list_credits(*, services: Services, staff: Staff, start: date | None,
                       end: date | None) -> dict[str, Any]:
    timezone = services.settings.timezone
    today = utcnow().astimezone(ZoneInfo(timezone)).date()
    start, end = start or today, end or today
    if end < start or (end - start).days >= MAX_RANGE_DAYS:
        raise ServiceError(status_code=422, code="bad_range",
                           message=f"Pick an end on or after the start, at most {MAX_RANGE_DAYS} days.")
    utc_start, utc_end = utc_range(start, end, timezone)
    try:
        answer = await services.backend.list_system_credits(start=utc_start.isoformat(),
                                                            end=utc_end.isoformat(), actor=staff.actor)
        credits = [SystemCredit.model_validate(item).model_dump() for item in answer["credits"]]
    except BackendError as error:
        raise _refusal(error) from None
    except (ValidationError, KeyError, TypeError):
        raise _unreadable() from None
    return {"start": start, "end": end, "timezone": timezone, "credits": credits}


async def reverse(*, services: Services, staff: Staff, credit_id: int, reason: str) -> dict[str, Any]:
    try:
        answer = await services.backend.reverse_system_credit(
            credit_id=credit_id, reason=reason, idempotency_key=f"console-reverse:{credit_id}",
            actor=staff.actor)
        credit = SystemCredit.model_validate(answer).model_dump()
    except BackendError as error:
        raise _refusal(error) from None
    except ValidationError:
        raise _unreadable() from None
    await services.run(store.audit, actor=staff.actor, action="reverse_system_credit",
                       target=f"credit:{credit_id}",
                       details={"reason": reason, "amount": credit["amount"],
                                "customer_id": credit["customer_id"]})
    return credit


async def limits(*, services: Services, staff: Staff) -> dict[str, Any]:
    try:
        answer = await services.backend.account_check_limits(actor=staff.actor)
        return Limits.model_validate(answer).model_dump()
    except BackendError as error:
        raise _refusal(error) from None
    except ValidationError:
        raise _unreadable() from None


async def set_limits(*, services: Services, staff: Staff, body: LimitsIn) -> dict[str, Any]:
    wanted = body.model_dump(mode="json")
    try:
        answer = await services.backend.set_account_check_limits(body=wanted, actor=staff.actor)
        result = Limits.model_validate(answer).model_dump()
    except BackendError as error:
        raise _refusal(error) from None
    except ValidationError:
        raise _unreadable() from None
    await services.run(store.audit, actor=staff.actor, action="change_bot_limits", target=None,
                       details=wanted)
    return result
