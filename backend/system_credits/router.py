from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from backend.audit import service as audit
from backend.auth import OptionalActorDep
from backend.clock import NowDep, TodayDep
from backend.database import SessionDep
from backend.errors import InvalidInput
from backend.params import IdempotencyKey, IdPath
from backend.payments.deps import SettingsDep, required_key
from backend.payments.router import REPLAYED, answered
from backend.system_credits import service
from backend.system_credits.schemas import (
    LimitsIn,
    LimitsOut,
    LimitValues,
    ReversalOut,
    ReverseRequest,
    SystemCreditOut,
    SystemCreditsOut,
)

router = APIRouter(prefix="/api/v1", tags=["system credits"])


def _utc(moment: datetime) -> datetime:
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # a time at the calendar's edge whose UTC falls outside it
        raise InvalidInput(f"{moment.isoformat()} is out of range.") from None


def system_credit_out(view: service.SystemCreditView) -> SystemCreditOut:
    credit, reversal = view.credit, view.reversal
    return SystemCreditOut(
        credit_id=credit.id, customer_id=view.customer_id, invoice_number=view.invoice_number,
        dispute_id=credit.dispute_id, amount=credit.amount, currency=view.currency, reason=credit.reason,
        issued_by=credit.issued_by, created_at=credit.created_at,
        reversal=ReversalOut(
            credit_id=reversal.id, amount=reversal.amount, reversed_by=reversal.issued_by,
            reason=reversal.reason.split(": ", 1)[-1], created_at=reversal.created_at,
        ) if reversal is not None else None,
    )


@router.get("/system-credits", response_model=SystemCreditsOut)
def list_system_credits(
    session: SessionDep,
    actor: OptionalActorDep,
    start: Annotated[datetime, Query(description="From this time (inclusive), ISO 8601; UTC if no zone")],
    end: Annotated[datetime, Query(description="Before this time, ISO 8601; UTC if no zone")],
) -> SystemCreditsOut:
    """Every credit the account check issued in [start, end), newest first, with its reversal if any."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        raise InvalidInput("end must be after start.")
    views = service.list_system_credits(session, start=start, end=end)
    audit.record_read(session, actor=actor, resource="system_credits", customer_id=None)
    return SystemCreditsOut(start=start, end=end, credits=[system_credit_out(v) for v in views])


@router.post(
    "/system-credits/{credit_id}/reverse", response_model=SystemCreditOut, status_code=201, responses=REPLAYED
)
def reverse_credit(
    credit_id: IdPath,
    body: ReverseRequest,
    response: Response,
    session: SessionDep,
    actor: OptionalActorDep,
    now: NowDep,
    today: TodayDep,
    idempotency_key: IdempotencyKey = None,
) -> SystemCreditOut:
    supervisor = service.require_supervisor(actor, what="Reversing a credit")
    view, created = service.reverse_credit(
        session, credit_id=credit_id, reason=body.reason, actor=supervisor,
        idempotency_key=required_key(idempotency_key), now=now, today=today,
    )
    answered(response, created)
    return system_credit_out(view)


@router.get("/account-check/limits", response_model=LimitsOut)
def get_limits(session: SessionDep, settings: SettingsDep) -> LimitsOut:
    """The bot's limits in force: a supervisor's override, or the ACCOUNT_CHECK_* settings."""
    return service.get_limits(session, settings=settings)


@router.post("/account-check/limits", response_model=LimitsOut)
def set_limits(
    body: LimitsIn, session: SessionDep, actor: OptionalActorDep, settings: SettingsDep, now: NowDep
) -> LimitsOut:
    supervisor = service.require_supervisor(actor, what="Changing the bot's limits")
    values = LimitValues(
        max_credit=body.max_credit, max_credit_12_months=body.max_credit_12_months,
        min_confidence=body.min_confidence,
    )
    return service.set_limits(
        session, values=values, reason=body.reason, actor=supervisor, settings=settings, now=now
    )
