"""The dependencies of the payment-family routes (payments, arrangements, the payment page, the account check,
system credits), written once as Annotated aliases like backend.database.SessionDep."""

from typing import Annotated

from fastapi import Depends, Request

from backend.auth import Actor, OptionalActorDep
from backend.config import Settings
from backend.errors import InvalidInput
from backend.params import IdempotencyKey
from backend.payments.actors import writer
from backend.payments.processor import PaymentProcessor


async def get_processor(request: Request) -> PaymentProcessor:
    processor: PaymentProcessor = request.app.state.processor
    return processor


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def required_key(idempotency_key: str | None) -> str:
    if not idempotency_key:
        raise InvalidInput("This write needs an Idempotency-Key header, so a retry cannot do it twice.")
    return idempotency_key


async def write_actor(actor: OptionalActorDep) -> Actor:
    """The X-Actor of a payments or arrangements write (actors.writer): required, never `system`."""
    return writer(actor)


async def write_key(idempotency_key: IdempotencyKey = None) -> str:
    """The Idempotency-Key of a write: required, so a retry cannot do it twice."""
    return required_key(idempotency_key)


ProcessorDep = Annotated[PaymentProcessor, Depends(get_processor)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
# Declare WriterDep before WriteKeyDep: FastAPI resolves them in that order, so a write without X-Actor is
# told so first, as when the routes called writer() and then required_key().
WriterDep = Annotated[Actor, Depends(write_actor)]
WriteKeyDep = Annotated[str, Depends(write_key)]
