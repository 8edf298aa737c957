from fastapi import APIRouter, Response

from backend.arrangements import service
from backend.arrangements.schemas import (
    ArrangementCreate,
    ArrangementOut,
    OptionsOut,
    PromiseCreate,
    WaiverCreate,
    WaiverOut,
)
from backend.audit import service as audit
from backend.auth import OptionalActorDep
from backend.clock import TodayDep
from backend.database import SessionDep
from backend.params import CustomerIdPath
from backend.payments.deps import SettingsDep, WriteKeyDep, WriterDep
from backend.payments.router import REPLAYED, answered
from backend.payments.service import parse_amount

router = APIRouter(prefix="/api/v1/customers/{customer_id}", tags=["arrangements"])


@router.get("/arrangement-options", response_model=OptionsOut)
def arrangement_options(
    customer_id: CustomerIdPath,
    session: SessionDep,
    today: TodayDep,
    actor: OptionalActorDep,
    settings: SettingsDep,
) -> OptionsOut:
    result = service.options(session, customer_id=customer_id, today=today, settings=settings)
    audit.record_read(session, actor=actor, resource="arrangement-options", customer_id=customer_id)
    return result


@router.get("/arrangements", response_model=list[ArrangementOut])
def list_arrangements(
    customer_id: CustomerIdPath, session: SessionDep, actor: OptionalActorDep
) -> list[ArrangementOut]:
    result = service.list_arrangements(session, customer_id=customer_id)
    audit.record_read(session, actor=actor, resource="arrangements", customer_id=customer_id)
    return result


@router.post("/arrangements", response_model=ArrangementOut, status_code=201, responses=REPLAYED)
def create_arrangement(
    customer_id: CustomerIdPath,
    body: ArrangementCreate,
    response: Response,
    session: SessionDep,
    actor: WriterDep,
    idempotency_key: WriteKeyDep,
    today: TodayDep,
    settings: SettingsDep,
) -> ArrangementOut:
    promise = isinstance(body, PromiseCreate)
    result, created = service.create_arrangement(
        session,
        customer_id=customer_id,
        kind=body.kind,
        amount=parse_amount(body.amount) if isinstance(body, PromiseCreate) else None,
        pay_by=body.pay_by if isinstance(body, PromiseCreate) else None,
        instalments=None if promise else body.instalments,  # type: ignore[union-attr]  # a PlanCreate here
        override_policy=body.override_policy,
        note=body.note,
        conversation_id=body.conversation_id,
        actor=actor,
        idempotency_key=idempotency_key,
        today=today,
        settings=settings,
    )
    answered(response, created)
    return result


@router.post("/late-fee-waivers", response_model=WaiverOut, status_code=201, responses=REPLAYED)
def waive_late_fee(
    customer_id: CustomerIdPath,
    body: WaiverCreate,
    response: Response,
    session: SessionDep,
    actor: WriterDep,
    idempotency_key: WriteKeyDep,
    today: TodayDep,
    settings: SettingsDep,
) -> WaiverOut:
    result, created = service.waive_late_fee(
        session,
        customer_id=customer_id,
        line_item_id=body.line_item_id,
        conversation_id=body.conversation_id,
        actor=actor,
        idempotency_key=idempotency_key,
        today=today,
        settings=settings,
    )
    answered(response, created)
    return result
