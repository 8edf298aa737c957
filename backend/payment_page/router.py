"""The bot's (or a specialist's) route to a new secure-page link, behind the service token."""

from fastapi import APIRouter, Request, Response, status

from backend.clock import NowDep
from backend.config import Settings
from backend.database import SessionDep
from backend.errors import Forbidden
from backend.params import CustomerIdPath, IdempotencyKey
from backend.payment_page import service
from backend.payment_page.schemas import LinkCreate, LinkOut
from backend.payments.deps import WriterDep, required_key
from backend.payments.router import REPLAYED, answered

router = APIRouter(prefix="/api/v1/customers/{customer_id}", tags=["payment page"])


@router.post(
    "/payment-page-links", response_model=LinkOut, status_code=status.HTTP_201_CREATED, responses=REPLAYED
)
def create_payment_page_link(
    customer_id: CustomerIdPath,
    body: LinkCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    actor: WriterDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> LinkOut:
    if actor.role == "secure_page":
        raise Forbidden("A payment page cannot make links; the bot or a specialist does.")
    settings: Settings = request.app.state.settings
    link, created = service.create_link(
        session,
        customer_id=customer_id,
        purpose=body.purpose,
        conversation_id=body.conversation_id,
        actor=actor,
        idempotency_key=required_key(idempotency_key),
        now=now,
        settings=settings,
    )
    answered(response, created)
    return link
