"""Documents (docs/contracts.md, "Documents"): the list and the signed links (service token), and the public
download of a signed link (the link is the credential; main.py mounts `public_router` unprotected)."""

import logging
import re
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import PlainTextResponse, Response

from backend.audit import service as audit
from backend.auth import OptionalActorDep
from backend.clock import NowDep, TodayDep
from backend.config import Settings
from backend.database import SessionDep
from backend.documents import service
from backend.documents.links import TOKEN_PATTERN, BadLink, ExpiredLink
from backend.documents.schemas import DocumentListOut, DocumentOut, LinkCreate, LinkOut
from backend.errors import NotFound
from backend.params import CustomerIdPath

logger = logging.getLogger("backend.documents")
router = APIRouter(prefix="/api/v1/customers/{customer_id}/documents", tags=["documents"])
public_router = APIRouter(tags=["documents"])

DOWNLOAD_HEADERS = {
    "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
}
GONE = "This download link has expired. Ask for a new one in the chat."
TOKEN_RE = re.compile(TOKEN_PATTERN)
UNKNOWN = "This download link is not valid. Ask for a new one in the chat."


@router.get("", response_model=DocumentListOut)
def list_documents(
    customer_id: CustomerIdPath, session: SessionDep, actor: OptionalActorDep
) -> DocumentListOut:
    refs = service.list_documents(session, customer_id=customer_id)
    result = DocumentListOut(customer_id=customer_id, documents=[
        DocumentOut(kind=r.kind, document_id=r.document_id, title=r.title, date=r.date) for r in refs])
    audit.record_read(session, actor=actor, resource="documents", customer_id=customer_id)
    return result


@router.post("/links", response_model=LinkOut, status_code=201)
def create_link(
    customer_id: CustomerIdPath, body: LinkCreate, request: Request, session: SessionDep, now: NowDep,
    actor: OptionalActorDep,
) -> LinkOut:
    settings: Settings = request.app.state.settings
    link = service.create_link(
        session, settings=settings, customer_id=customer_id, kind=body.kind,
        invoice_number=body.invoice_number, month=body.month, credit_id=body.credit_id, actor=actor, now=now,
    )
    ref = link.ref
    return LinkOut(kind=ref.kind, document_id=ref.document_id, title=ref.title, filename=ref.filename,
                   url=link.url, expires_at=link.expires_at)


@public_router.get(
    "/documents/{token}", response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The PDF"},
               404: {"description": "Not a valid link"}, 410: {"description": "The link expired"}},
)
def download(
    token: Annotated[str, PathParam(description="The signed link's token")], request: Request,
    session: SessionDep, now: NowDep, today: TodayDep,
) -> Response:
    settings: Settings = request.app.state.settings
    headers = dict(DOWNLOAD_HEADERS)
    try:
        if not TOKEN_RE.fullmatch(token):
            raise BadLink("shape")
        document = service.open_link(session, settings=settings, token=token, now=now, today=today)
    except ExpiredLink:
        logger.info("document link refused: expired")
        return PlainTextResponse(GONE, status_code=410, headers=headers)
    except (BadLink, NotFound) as refused:
        logger.warning("document link refused: %s", refused)
        return PlainTextResponse(UNKNOWN, status_code=404, headers=headers)
    headers["Content-Disposition"] = f'inline; filename="{document.filename}"'
    return Response(document.content, media_type=document.media_type, headers=headers)

