from typing import Annotated

from fastapi import APIRouter, Path, Response

from backend.account_check import service
from backend.account_check.schemas import FindingsOut, FixOut, FixRequest
from backend.audit import service as audit
from backend.auth import OptionalActorDep
from backend.clock import NowDep, TodayDep
from backend.database import SessionDep
from backend.errors import InvalidInput
from backend.params import CustomerIdPath, IdempotencyKey
from backend.payments.deps import SettingsDep, required_key
from backend.payments.router import REPLAYED, answered

router = APIRouter(prefix="/api/v1/customers/{customer_id}", tags=["account check"])
FindingIdPath = Annotated[str, Path(pattern=r"^fnd_[0-9a-f]{24}$", description="A finding's stable id")]


@router.get("/findings", response_model=FindingsOut)
def list_findings(
    customer_id: CustomerIdPath,
    session: SessionDep,
    actor: OptionalActorDep,
    today: TodayDep,
    now: NowDep,
    settings: SettingsDep,
) -> FindingsOut:
    result = service.list_findings(session, customer_id=customer_id, today=today, now=now, settings=settings)
    audit.record_read(session, actor=actor, resource="findings", customer_id=customer_id)
    return result


@router.post("/findings/{finding_id}/fix", response_model=FixOut, status_code=201, responses=REPLAYED)
def fix_finding(
    customer_id: CustomerIdPath,
    finding_id: FindingIdPath,
    response: Response,
    session: SessionDep,
    actor: OptionalActorDep,
    today: TodayDep,
    now: NowDep,
    settings: SettingsDep,
    body: FixRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> FixOut:
    if actor is None:
        raise InvalidInput("Fixing a finding needs the X-Actor header, e.g. 'bot:<conversation>'.")
    result, created = service.fix_finding(
        session,
        customer_id=customer_id,
        finding_id=finding_id,
        conversation_id=body.conversation_id if body else None,
        actor=actor,
        idempotency_key=required_key(idempotency_key),
        today=today,
        now=now,
        settings=settings,
    )
    answered(response, created)
    return result
