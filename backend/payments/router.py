from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from backend.audit import service as audit
from backend.auth import OptionalActorDep
from backend.clock import TodayDep
from backend.database import SessionDep
from backend.params import CustomerIdPath
from backend.payments import service
from backend.payments.schemas import PaymentMethodsOut, PaymentOut
from backend.schemas import MoneyQuery

router = APIRouter(prefix="/api/v1/customers/{customer_id}", tags=["payments"])


@router.get("/payments", response_model=list[PaymentOut])
def list_payments(
    customer_id: CustomerIdPath, session: SessionDep, actor: OptionalActorDep,
    on_date: Annotated[date | None, Query(alias="date", description="Day the payment was received")] = None,
    amount: Annotated[MoneyQuery | None, Query()] = None,
) -> list[PaymentOut]:
    rows = service.list_payments(session, customer_id=customer_id, on_date=on_date, amount=amount)
    result = [
        PaymentOut(
            id=p.id, amount=p.amount, method=p.method, received_date=p.received_date, status=str(p.status),
            failure_reason=p.failure_reason, invoice_number=number,
        )
        for p, number in rows
    ]
    audit.record_read(session, actor=actor, resource="payments", customer_id=customer_id)
    return result


@router.get("/payment-methods", response_model=PaymentMethodsOut)
def payment_methods(customer_id: CustomerIdPath, session: SessionDep, today: TodayDep, actor: OptionalActorDep) -> PaymentMethodsOut:
    result = service.payment_methods(session, customer_id=customer_id, today=today)
    audit.record_read(session, actor=actor, resource="payment-methods", customer_id=customer_id)
    return result
