from typing import Annotated, Any

from fastapi import APIRouter, Query

from backend.audit import service as audit
from backend.auth import OptionalActorDep
from backend.clock import NowDep
from backend.customers import service
from backend.customers.schemas import (
    AccountOut,
    CustomerByEmail,
    CustomerOut,
    EmailAddress,
    VerificationFailed,
    VerificationRequest,
    VerificationSucceeded,
)
from backend.database import SessionDep
from backend.errors import VerificationLocked
from backend.params import CustomerIdPath

router = APIRouter(prefix="/api/v1", tags=["customers"])

_LOCKED: dict[int | str, dict[str, Any]] = {
    423: {"description": "Verification locked for 15 minutes after 3 failures"},
}


@router.post("/verifications", response_model=VerificationSucceeded | VerificationFailed, responses=_LOCKED)
def verify(body: VerificationRequest, session: SessionDep, now: NowDep, actor: OptionalActorDep) -> object:
    method = {"method": "postal_code" if body.postal_code else "phone_last4"}
    try:
        outcome = service.verify_customer(
            session, account_number=body.account_number, postal_code=body.postal_code,
            phone_last4=body.phone_last4, now=now,
        )
    except VerificationLocked as locked:
        # The failure that locks the account, and every attempt while it is locked, are audited too.
        audit.record(session, actor=actor, action="verify.locked", resource=f"account:{body.account_number}",
                     customer_id=None, details={**method, "locked_until": locked.extra.get("locked_until")})
        session.commit()
        raise
    customer = outcome.customer
    audit.record(
        session, actor=actor, action="verify.success" if customer else "verify.failure",
        resource=f"account:{body.account_number}", customer_id=customer.id if customer else None,
        details=method,
    )
    session.commit()
    if customer is None:
        return VerificationFailed(attempts_remaining=outcome.attempts_remaining)
    return VerificationSucceeded(
        customer_id=customer.id, first_name=customer.first_name, account_number=customer.account.number
    )


@router.get("/customers/by-email", response_model=CustomerByEmail)
def find_customer_by_email(address: Annotated[EmailAddress, Query()], session: SessionDep,
                           actor: OptionalActorDep) -> CustomerByEmail:
    """Inbound email (issue 19): which customer has this address on file (exact, normalised)."""
    customer_id = service.find_customer_id_by_email(session, address=address)
    audit.record_read(session, actor=actor, resource=f"customer:{customer_id}", customer_id=customer_id)
    return CustomerByEmail(customer_id=customer_id)


@router.get("/customers/{customer_id}", response_model=CustomerOut)
def get_customer(customer_id: CustomerIdPath, session: SessionDep, actor: OptionalActorDep) -> CustomerOut:
    customer = service.get_customer(session, customer_id=customer_id)
    account = customer.account
    result = CustomerOut(
        customer_id=customer.id, first_name=customer.first_name, last_name=customer.last_name,
        email=customer.email,
        account=AccountOut(
            account_number=account.number, status=str(account.status), currency=account.currency,
            autopay=account.autopay, payment_method_masked=service.default_payment_method_masked(account),
        ),
    )
    audit.record_read(session, actor=actor, resource=f"customer:{customer_id}", customer_id=customer_id)
    return result

