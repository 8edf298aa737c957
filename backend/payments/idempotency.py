"""Idempotency-Key for the payments and arrangements writes: the first answer is stored with a fingerprint of
the request; the same key and request gets that answer again, the same key with another request a 409."""

import hashlib
import json
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.errors import IdempotencyKeyReused
from backend.payments.models import IdempotencyRecord

Answer = TypeVar("Answer", bound=BaseModel)


def fingerprint(**fields: object) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


def stored_answer(session: Session, *, key: str, request: str, answer_type: type[Answer]) -> Answer | None:
    record = session.get(IdempotencyRecord, key, populate_existing=True)
    if record is None:
        return None
    if record.fingerprint != request:
        raise IdempotencyKeyReused("This Idempotency-Key was already used for a different request.")
    return answer_type.model_validate(record.response)


class AlreadyAnswered(Exception):
    def __init__(self, answer: BaseModel) -> None:
        super().__init__("answered by a concurrent request with the same key")
        self.answer = answer


def idempotent(
    session: Session,
    *,
    key: str,
    request: str,
    customer_id: int | None,
    answer_type: type[Answer],
    write: Callable[[], Answer],
) -> tuple[Answer, bool]:
    """Runs `write` (adds to the session, never commits) once per key; commits it with the stored answer.
    Returns (answer, created). A concurrent twin with the same key waits on the key's row, then replays."""
    earlier = stored_answer(session, key=key, request=request, answer_type=answer_type)
    if earlier is not None:
        return earlier, False
    try:
        answer = write()
    except AlreadyAnswered as replayed:
        session.rollback()
        return answer_type.model_validate(replayed.answer.model_dump()), False
    session.add(
        IdempotencyRecord(
            key=key,
            fingerprint=request,
            customer_id=customer_id,
            status_code=201,
            response=answer.model_dump(mode="json"),
        )
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        earlier = stored_answer(session, key=key, request=request, answer_type=answer_type)
        if earlier is None:
            raise
        return earlier, False
    return answer, True
