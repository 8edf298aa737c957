"""POST/GET /api/v1/mail/messages (docs/contracts.md, "Email"): bearer token (main.py), Idempotency-Key."""
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status

from backend.auth import OptionalActorDep
from backend.clock import NowDep
from backend.config import Settings
from backend.database import SessionDep
from backend.errors import InvalidInput
from backend.mail import service
from backend.mail.schemas import ConversationId, MailMessageOut, MailRequest
from backend.params import IdempotencyKey

router = APIRouter(prefix="/api/v1/mail", tags=["mail"])
MailIdPath = Annotated[str, Path(pattern=r"^mail_[0-9a-f]{24}$")]
REPLAYED: dict[int | str, dict[str, Any]] = {
    200: {"description": "The same Idempotency-Key and body again: the same email (never a second one)"}
}


@router.post("/messages", response_model=MailMessageOut, status_code=status.HTTP_202_ACCEPTED,
             responses=REPLAYED)
def queue_message(
    body: MailRequest, request: Request, response: Response, session: SessionDep, actor: OptionalActorDep,
    now: NowDep, idempotency_key: IdempotencyKey = None,
) -> MailMessageOut:
    if not idempotency_key:
        raise InvalidInput("This write needs an Idempotency-Key header, so a retry never sends it twice.")
    settings: Settings = request.app.state.settings
    message, created = service.enqueue(
        session, key=idempotency_key, request=body, actor=actor, settings=settings, now=now
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return message


@router.get("/messages", response_model=list[MailMessageOut])
def list_messages(
    session: SessionDep,
    customer_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    conversation_id: Annotated[ConversationId | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[MailMessageOut]:
    return service.list_messages(
        session, customer_id=customer_id, conversation_id=conversation_id, limit=limit
    )


@router.get("/messages/{mail_id}", response_model=MailMessageOut)
def get_message(mail_id: MailIdPath, session: SessionDep) -> MailMessageOut:
    return service.get_message(session, mail_id=mail_id)
