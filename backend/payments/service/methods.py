"""The payment methods on file: which one is charged, whether it can be, and saving a new one (a processor
token) idempotently."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit import service as audit
from backend.auth import Actor
from backend.customers.models import Account, PaymentMethod
from backend.customers.service import get_account
from backend.errors import (
    MethodDeclined,
    MethodExpired,
    NoPaymentMethod,
    NotFound,
    PaymentProcessorUnavailable,
)
from backend.money import format_date
from backend.payments.actors import payment_source
from backend.payments.idempotency import fingerprint, idempotent
from backend.payments.processor import PaymentProcessor, ProcessorDeclined, ProcessorUnavailable
from backend.payments.schemas import PaymentMethodOut


def is_expired(method: PaymentMethod, today: date) -> bool:
    return method.expires_on is not None and method.expires_on < today


def default_method(session: Session, *, account: Account) -> PaymentMethod | None:
    return session.scalar(
        select(PaymentMethod)
        .where(PaymentMethod.account_id == account.id)
        .order_by(PaymentMethod.is_default.desc(), PaymentMethod.id.desc())
    )


def method_out(method: PaymentMethod, today: date) -> PaymentMethodOut:
    return PaymentMethodOut(
        id=method.id,
        kind=method.kind,
        brand=method.brand,
        last4=method.last4,
        expires_on=method.expires_on,
        masked=method.masked,
        is_default=method.is_default,
        expired=is_expired(method, today),
    )


def usable_method(
    session: Session, *, account: Account, payment_method_id: int | None, today: date
) -> PaymentMethod:
    if payment_method_id is None:
        method = default_method(session, account=account)
    else:
        method = session.scalar(
            select(PaymentMethod).where(
                PaymentMethod.id == payment_method_id, PaymentMethod.account_id == account.id
            )
        )
        if method is None:
            raise NotFound(f"No payment method {payment_method_id} on this account.")
    if method is None or not method.token:
        raise NoPaymentMethod(
            "There is no payment method on file that can be charged; add one on the secure page."
        )
    if is_expired(method, today):
        raise MethodExpired(
            f"The {method.brand} ending {method.last4} expired on "
            f"{format_date(method.expires_on or today)}; update it on the secure page."
        )
    return method


def save_payment_method(
    session: Session,
    *,
    customer_id: int,
    token: str,
    make_default: bool,
    actor: Actor,
    idempotency_key: str,
    processor: PaymentProcessor,
    today: date,
) -> tuple[PaymentMethodOut, bool]:
    payment_source(actor)
    request = fingerprint(
        op="save-method", customer_id=customer_id, token=token, make_default=make_default, role=actor.role
    )

    def write() -> PaymentMethodOut:
        account = get_account(session, customer_id=customer_id)
        try:
            card = processor.retrieve_method(token=token)
        except ProcessorDeclined as exc:
            raise MethodDeclined(str(exc), reason=str(exc.reason)) from exc
        except ProcessorUnavailable as exc:
            raise PaymentProcessorUnavailable(
                "The payment processor is not answering; try again later."
            ) from exc
        method = session.scalar(select(PaymentMethod).where(PaymentMethod.token == card.token))
        if method is not None and method.account_id != account.id:
            raise MethodDeclined(
                "This payment method cannot be used for this account.", reason="card_declined"
            )
        if method is None:
            method = PaymentMethod(
                account_id=account.id,
                kind=card.kind,
                brand=card.brand,
                last4=card.last4,
                expires_on=card.expires_on,
                processor=processor.name,
                token=card.token,
                is_default=False,
            )
            session.add(method)
            session.flush()
        if make_default:
            for other in session.scalars(select(PaymentMethod).where(PaymentMethod.account_id == account.id)):
                other.is_default = other.id == method.id
        audit.record(
            session,
            actor=actor,
            action="write.payment_method",
            resource=f"payment-method:{method.id}",
            customer_id=customer_id,
            details={
                "brand": card.brand,
                "last4": card.last4,
                "expires_on": card.expires_on.isoformat(),
                "make_default": make_default,
            },
        )
        session.flush()
        return method_out(method, today)

    return idempotent(
        session,
        key=idempotency_key,
        request=request,
        customer_id=customer_id,
        answer_type=PaymentMethodOut,
        write=write,
    )
