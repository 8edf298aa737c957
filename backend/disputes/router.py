from fastapi import APIRouter, Response, status
from sqlalchemy.orm import Session

from backend.audit import service as audit
from backend.auth import OptionalActorDep, StaffActorDep
from backend.clock import NowDep, TodayDep
from backend.database import SessionDep
from backend.disputes import service
from backend.disputes.schemas import CreditCreate, CreditOut, DisputeCreate, DisputeOut, SettleRequest
from backend.errors import InvalidInput
from backend.params import CustomerIdPath, IdempotencyKey, IdPath

router = APIRouter(prefix="/api/v1", tags=["disputes"])


def credit_out(view: service.CreditView) -> CreditOut:
    credit = view.credit
    return CreditOut(
        id=credit.id, customer_id=view.customer_id, amount=credit.amount, reason=credit.reason,
        issued_by=credit.issued_by, line_item_id=credit.line_item_id, invoice_number=view.invoice_number,
        dispute_id=credit.dispute_id, idempotency_key=credit.idempotency_key, created_at=credit.created_at,
    )


def dispute_out(session: Session, view: service.DisputeView) -> DisputeOut:
    d = view.dispute
    return DisputeOut(
        id=d.id, customer_id=d.customer_id, line_item_id=d.line_item_id, invoice_number=view.invoice.number,
        description=view.line.description, charge_amount=view.line.amount, amount=d.amount, reason=d.reason,
        status=str(d.status), resolution_note=d.resolution_note, conversation_id=d.conversation_id,
        opened_by=d.opened_by, resolved_by=d.resolved_by, created_at=d.created_at, resolved_at=d.resolved_at,
        credit=credit_out(service.credit_view(session, view.credit)) if view.credit else None,
    )


@router.post(
    "/customers/{customer_id}/disputes", response_model=DisputeOut, status_code=status.HTTP_201_CREATED
)
def open_dispute(
    customer_id: CustomerIdPath, body: DisputeCreate, session: SessionDep, actor: OptionalActorDep
) -> DisputeOut:
    view = service.open_dispute(
        session, customer_id=customer_id, line_item_id=body.line_item_id, reason=body.reason,
        amount=body.amount, conversation_id=body.conversation_id, actor=actor,
    )
    return dispute_out(session, view)


@router.get("/customers/{customer_id}/disputes", response_model=list[DisputeOut])
def list_disputes(
    customer_id: CustomerIdPath, session: SessionDep, actor: OptionalActorDep
) -> list[DisputeOut]:
    result = [dispute_out(session, view) for view in service.list_disputes(session, customer_id=customer_id)]
    audit.record_read(session, actor=actor, resource="disputes", customer_id=customer_id)
    return result


@router.post("/disputes/{dispute_id}/settle", response_model=DisputeOut)
def settle_dispute(
    dispute_id: IdPath, body: SettleRequest, session: SessionDep, actor: StaffActorDep, now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> DisputeOut:
    view = service.settle_dispute(
        session, dispute_id=dispute_id, decision=body.decision, note=body.note,
        credit_amount=body.credit_amount, idempotency_key=idempotency_key, actor=actor, now=now,
    )
    return dispute_out(session, view)


@router.post(
    "/customers/{customer_id}/credits", response_model=CreditOut, status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": CreditOut, "description": "The same Idempotency-Key again: the credit made before"}
    },
)
def issue_credit(
    customer_id: CustomerIdPath, body: CreditCreate, response: Response, session: SessionDep,
    actor: StaffActorDep, today: TodayDep, idempotency_key: IdempotencyKey = None,
) -> CreditOut:
    if not idempotency_key:
        raise InvalidInput(
            "Issuing a credit needs an Idempotency-Key header, so a retry cannot credit twice."
        )
    view, created = service.issue_credit(
        session, customer_id=customer_id, amount=body.amount, reason=body.reason,
        line_item_id=body.line_item_id, invoice_number=body.invoice_number, dispute_id=body.dispute_id,
        actor=actor, idempotency_key=idempotency_key, today=today,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return credit_out(view)
