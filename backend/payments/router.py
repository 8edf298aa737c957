from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from backend.audit import service as audit
from backend.auth import OptionalActorDep
from backend.clock import NowDep, TodayDep
from backend.database import SessionDep
from backend.errors import InvalidWebhookRequest
from backend.params import CustomerIdPath
from backend.payments import service
from backend.payments.deps import ProcessorDep, SettingsDep, WriteKeyDep, WriterDep
from backend.payments.processor import InvalidWebhook
from backend.payments.schemas import (
    AutopayOut,
    PaperlessOut,
    PaymentMethodCreate,
    PaymentMethodOut,
    PaymentMethodsOut,
    PaymentOut,
    PaymentResultOut,
    QuoteCreate,
    QuoteOut,
    ToggleIn,
    WebhookOut,
)
from backend.schemas import MoneyQuery

router = APIRouter(prefix="/api/v1/customers/{customer_id}", tags=["payments"])
# Processors cannot send our bearer token: the signature authenticates (main.py mounts this one unprotected).
webhook_router = APIRouter(prefix="/api/v1/processor", tags=["payments"])

QuoteIdPath = Annotated[str, Path(min_length=8, max_length=40, pattern=r"^pq_[A-Za-z0-9_-]+$")]
REPLAYED: dict[int | str, dict[str, Any]] = {
    200: {"description": "The same Idempotency-Key again (or a confirmed quote): the earlier answer"}
}


def answered(response: Response, created: bool) -> None:
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK


@router.get("/payments", response_model=list[PaymentOut])
def list_payments(
    customer_id: CustomerIdPath,
    session: SessionDep,
    actor: OptionalActorDep,
    on_date: Annotated[date | None, Query(alias="date", description="Day the payment was received")] = None,
    amount: Annotated[MoneyQuery | None, Query()] = None,
) -> list[PaymentOut]:
    rows = service.list_payments(session, customer_id=customer_id, on_date=on_date, amount=amount)
    result = [
        PaymentOut(
            id=p.id,
            amount=p.amount,
            method=p.method,
            received_date=p.received_date,
            status=str(p.status),
            failure_reason=p.failure_reason,
            invoice_number=number,
            source=p.source,
            processor_reference=p.processor_reference,
            actor=p.actor,
            expected_post_date=p.expected_post_date,
        )
        for p, number in rows
    ]
    audit.record_read(session, actor=actor, resource="payments", customer_id=customer_id)
    return result


@router.get("/payment-methods", response_model=PaymentMethodsOut)
def payment_methods(
    customer_id: CustomerIdPath, session: SessionDep, today: TodayDep, actor: OptionalActorDep
) -> PaymentMethodsOut:
    result = service.payment_methods(session, customer_id=customer_id, today=today)
    audit.record_read(session, actor=actor, resource="payment-methods", customer_id=customer_id)
    return result


@router.post("/payment-methods", response_model=PaymentMethodOut, status_code=201, responses=REPLAYED)
def save_payment_method(
    customer_id: CustomerIdPath,
    body: PaymentMethodCreate,
    response: Response,
    session: SessionDep,
    actor: WriterDep,
    idempotency_key: WriteKeyDep,
    today: TodayDep,
    processor: ProcessorDep,
) -> PaymentMethodOut:
    result, created = service.save_payment_method(
        session,
        customer_id=customer_id,
        token=body.token,
        make_default=body.make_default,
        actor=actor,
        idempotency_key=idempotency_key,
        processor=processor,
        today=today,
    )
    answered(response, created)
    return result


@router.post("/payment-quotes", response_model=QuoteOut, status_code=201)
def create_quote(
    customer_id: CustomerIdPath,
    body: QuoteCreate,
    session: SessionDep,
    actor: WriterDep,
    now: NowDep,
    today: TodayDep,
    settings: SettingsDep,
) -> QuoteOut:
    return service.create_quote(
        session,
        customer_id=customer_id,
        amount_choice=body.amount_choice,
        amount=body.amount,
        payment_method_id=body.payment_method_id,
        actor=actor,
        now=now,
        today=today,
        settings=settings,
    )


@router.post(
    "/payment-quotes/{quote_id}/confirm", response_model=PaymentResultOut, status_code=201, responses=REPLAYED
)
def confirm_quote(
    customer_id: CustomerIdPath,
    quote_id: QuoteIdPath,
    response: Response,
    session: SessionDep,
    actor: WriterDep,
    idempotency_key: WriteKeyDep,
    now: NowDep,
    today: TodayDep,
    processor: ProcessorDep,
    settings: SettingsDep,
) -> PaymentResultOut:
    result, created = service.confirm_quote(
        session,
        customer_id=customer_id,
        quote_id=quote_id,
        actor=actor,
        idempotency_key=idempotency_key,
        processor=processor,
        now=now,
        today=today,
        settings=settings,
    )
    answered(response, created)
    return result


@router.put("/autopay", response_model=AutopayOut)
def set_autopay(
    customer_id: CustomerIdPath,
    body: ToggleIn,
    session: SessionDep,
    actor: WriterDep,
    idempotency_key: WriteKeyDep,
    today: TodayDep,
) -> AutopayOut:
    result, _created = service.set_autopay(
        session,
        customer_id=customer_id,
        enabled=body.enabled,
        actor=actor,
        idempotency_key=idempotency_key,
        today=today,
    )
    return result


@router.put("/paperless", response_model=PaperlessOut)
def set_paperless(
    customer_id: CustomerIdPath,
    body: ToggleIn,
    session: SessionDep,
    actor: WriterDep,
    idempotency_key: WriteKeyDep,
) -> PaperlessOut:
    result, _created = service.set_paperless(
        session,
        customer_id=customer_id,
        enabled=body.enabled,
        actor=actor,
        idempotency_key=idempotency_key,
    )
    return result


@webhook_router.post("/webhooks", response_model=WebhookOut)
async def processor_webhook(
    request: Request, session: SessionDep, today: TodayDep, processor: ProcessorDep
) -> WebhookOut:
    payload = await request.body()  # the raw bytes: the signature is over them
    try:
        event = processor.parse_webhook(payload=payload, headers=dict(request.headers))
    except InvalidWebhook as exc:
        raise InvalidWebhookRequest(str(exc)) from exc
    outcome = await run_in_threadpool(service.handle_webhook, session, event=event, today=today)
    return WebhookOut(event_id=event.id, outcome=outcome)  # type: ignore[arg-type]  # outcome is one of the four
