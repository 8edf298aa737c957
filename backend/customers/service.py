"""Customers, their account, and identity verification for the chat."""
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from backend.customers.models import Account, Customer, VerificationState
from backend.errors import NotFound, VerificationLocked

MAX_FAILED_VERIFICATIONS = 3
VERIFICATION_LOCK = timedelta(minutes=15)


def get_customer(session: Session, *, customer_id: int) -> Customer:
    customer = session.scalar(
        select(Customer)
        .where(Customer.id == customer_id)
        .options(joinedload(Customer.account).selectinload(Account.payment_methods))
    )
    if customer is None or customer.account is None:
        raise NotFound(f"No customer {customer_id}.")
    return customer


def normalise_email(address: str) -> str:
    """The one comparison form of an address: trimmed, lower case (no +tag or dot folding)."""
    return address.strip().lower()


def find_customer_id_by_email(session: Session, *, address: str) -> int:
    """The one customer whose address on file is `address` (normalised); none or several -> NotFound, so an
    address shared by two accounts is never guessed."""
    wanted = normalise_email(address)
    ids = session.scalars(
        select(Customer.id).where(func.lower(func.trim(Customer.email)) == wanted).limit(2)
    ).all()
    if len(ids) != 1:
        raise NotFound("No customer has this address on file.")
    return ids[0]


def get_account(session: Session, *, customer_id: int) -> Account:
    account = session.scalar(select(Account).where(Account.customer_id == customer_id))
    if account is None:
        raise NotFound(f"No customer {customer_id}.")
    return account


def default_payment_method_masked(account: Account) -> str | None:
    methods = [method for method in account.payment_methods if method.is_default] or account.payment_methods
    return methods[0].masked if methods else None


def _normalize_postal_code(text: str) -> str:
    return "".join(text.split()).replace("-", "").upper()


@dataclass(frozen=True)
class VerificationOutcome:
    customer: Customer | None
    attempts_remaining: int


def verify_customer(
    session: Session, *, account_number: str, postal_code: str | None, phone_last4: str | None, now: datetime
) -> VerificationOutcome:
    """Checks one answer; counts failures per account number, existing or not, and locks after three."""
    state = session.get(VerificationState, account_number, with_for_update=True)
    if state is None:
        state = VerificationState(account_number=account_number, failed_attempts=0)
        session.add(state)
    if state.locked_until is not None:
        if state.locked_until > now:
            session.rollback()
            raise VerificationLocked(
                "Too many failed verification attempts; chat verification is locked for this account.",
                locked_until=state.locked_until.isoformat(),
            )
        state.locked_until = None
        state.failed_attempts = 0

    customer = session.scalar(
        select(Customer)
        .join(Account)
        .where(Account.number == account_number)
        .options(joinedload(Customer.account))
    )
    matched = False
    if customer is not None:
        if postal_code is not None:
            matched = hmac.compare_digest(
                _normalize_postal_code(postal_code).encode(),
                _normalize_postal_code(customer.postal_code).encode(),
            )
        elif phone_last4 is not None:
            matched = hmac.compare_digest(phone_last4.encode(), customer.phone_last4.encode())

    if matched:
        state.failed_attempts = 0
        session.commit()
        return VerificationOutcome(customer=customer, attempts_remaining=MAX_FAILED_VERIFICATIONS)

    state.failed_attempts += 1
    if state.failed_attempts >= MAX_FAILED_VERIFICATIONS:
        state.locked_until = now + VERIFICATION_LOCK
        session.commit()
        raise VerificationLocked(
            "Too many failed verification attempts; chat verification is locked for 15 minutes.",
            locked_until=state.locked_until.isoformat(),
        )
    session.commit()
    return VerificationOutcome(
        customer=None, attempts_remaining=MAX_FAILED_VERIFICATIONS - state.failed_attempts
    )
