from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from backend.audit import service as audit
from backend.auth import OptionalActorDep
from backend.database import SessionDep
from backend.errors import InvalidInput
from backend.reports import service
from backend.reports.schemas import (
    BillingActivityOut,
    CreditsByIssuer,
    CreditsByReason,
    CreditsOut,
    DisputesByOutcome,
    DisputesByResolver,
    DisputesOut,
    PaymentsByActor,
    PaymentsBySource,
    PaymentsOut,
)

router = APIRouter(prefix="/api/v1", tags=["reports"])


def _utc(moment: datetime) -> datetime:
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # "0001-01-01T00:00+01:00" is before the first time UTC can hold
        raise InvalidInput("start and end must be times between the years 1 and 9999 in UTC.") from None


@router.get("/reports/billing-activity", response_model=BillingActivityOut)
def billing_activity(
    session: SessionDep,
    actor: OptionalActorDep,
    start: Annotated[datetime, Query(description="From this time (inclusive), ISO 8601; UTC if no zone")],
    end: Annotated[datetime, Query(description="Before this time, ISO 8601; UTC if no zone")],
) -> BillingActivityOut:
    """Credits issued, disputes by outcome and payments taken in chat, in [start, end)."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        raise InvalidInput("end must be after start.")
    credits = service.credits_between(session, start=start, end=end)
    disputes = service.disputes_between(session, start=start, end=end)
    payments = service.payments_between(session, start=start, end=end)
    result = BillingActivityOut(
        start=start, end=end,
        credits=CreditsOut(
            count=credits.count,
            by_reason=[CreditsByReason(reason=g.key[0], currency=g.key[1], count=g.count, amount=g.amount)
                       for g in credits.by_reason],
            by_issuer=[CreditsByIssuer(issued_by=g.key[0], currency=g.key[1], count=g.count, amount=g.amount)
                       for g in credits.by_issuer]),
        disputes=DisputesOut(
            opened=disputes.opened,
            by_outcome=[DisputesByOutcome(outcome=g.key[0], currency=g.key[1], count=g.count, amount=g.amount)
                        for g in disputes.by_outcome],
            by_resolver=[DisputesByResolver(resolved_by=g.key[0], outcome=g.key[1], count=g.count)
                         for g in disputes.by_resolver]),
        payments=PaymentsOut(
            by_source=[PaymentsBySource(source=g.key[0], status=g.key[1], currency=g.key[2], count=g.count,
                                        amount=g.amount) for g in payments.by_source],
            by_actor=[PaymentsByActor(actor=g.key[0], currency=g.key[1], count=g.count, amount=g.amount)
                      for g in payments.by_actor]),
    )
    audit.record_read(session, actor=actor, resource="reports/billing-activity", customer_id=None)
    return result
