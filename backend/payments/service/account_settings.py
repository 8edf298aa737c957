"""Autopay and paperless billing switched on or off, idempotently and audited."""

from datetime import date
from typing import Literal

from sqlalchemy.orm import Session

from backend.audit import service as audit
from backend.auth import Actor
from backend.billing.service import get_balance
from backend.customers.models import Account
from backend.customers.service import get_account
from backend.money import format_date
from backend.payments.actors import payment_source
from backend.payments.idempotency import fingerprint, idempotent
from backend.payments.schemas import AutopayOut, PaperlessOut
from backend.payments.service.methods import usable_method
from backend.payments.service.reads import next_autopay


def set_autopay(
    session: Session,
    *,
    customer_id: int,
    enabled: bool,
    actor: Actor,
    idempotency_key: str,
    today: date,
) -> tuple[AutopayOut, bool]:
    payment_source(actor)
    request = fingerprint(op="autopay", customer_id=customer_id, enabled=enabled, role=actor.role)

    def write() -> AutopayOut:
        account = get_account(session, customer_id=customer_id)
        method = (
            usable_method(session, account=account, payment_method_id=None, today=today) if enabled else None
        )
        _switch(session, account=account, setting="autopay", enabled=enabled, actor=actor)
        session.flush()
        balance = get_balance(session, customer_id=customer_id, today=today)
        next_date, next_amount = next_autopay(balance, account)
        if not enabled:
            message = "Autopay is off. Nothing will be charged automatically; pay each bill by its due date."
        elif next_date is not None and method is not None:
            message = (
                f"Autopay is on: {method.brand} ending {method.last4} will be charged the balance on "
                f"{format_date(next_date)}."
            )
        else:
            message = "Autopay is on: the balance will be charged on your next bill's due date."
        return AutopayOut(
            autopay=enabled,
            next_autopay_date=next_date,
            next_autopay_amount=next_amount,
            method=f"{method.brand} ending {method.last4}" if method else None,
            message=message,
        )

    return idempotent(
        session,
        key=idempotency_key,
        request=request,
        customer_id=customer_id,
        answer_type=AutopayOut,
        write=write,
    )


def set_paperless(
    session: Session,
    *,
    customer_id: int,
    enabled: bool,
    actor: Actor,
    idempotency_key: str,
) -> tuple[PaperlessOut, bool]:
    payment_source(actor)
    request = fingerprint(op="paperless", customer_id=customer_id, enabled=enabled, role=actor.role)

    def write() -> PaperlessOut:
        account = get_account(session, customer_id=customer_id)
        _switch(session, account=account, setting="paperless", enabled=enabled, actor=actor)
        email = account.customer.email
        message = (
            f"Paperless billing is on: bills go to {email} and no paper bill is mailed."
            if enabled
            else "Paperless billing is off: paper bills are mailed again."
        )
        return PaperlessOut(paperless=enabled, email=email, message=message)

    return idempotent(
        session,
        key=idempotency_key,
        request=request,
        customer_id=customer_id,
        answer_type=PaperlessOut,
        write=write,
    )


def _switch(
    session: Session,
    *,
    account: Account,
    setting: Literal["autopay", "paperless"],
    enabled: bool,
    actor: Actor,
) -> None:
    """The setting on the account, audited as write.<setting>."""
    setattr(account, setting, enabled)
    audit.record(
        session,
        actor=actor,
        action=f"write.{setting}",
        resource=f"account:{account.number}",
        customer_id=account.customer_id,
        details={"enabled": enabled},
    )
