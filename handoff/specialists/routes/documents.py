"""Chat screen, account panel: the customer's documents and a short-lived download link for one of them
(docs/contracts.md, "Documents")."""

from __future__ import annotations

from fastapi import APIRouter

from handoff.deps import ChatStaffDep, ServiceDep
from handoff.specialists import account_documents
from handoff.specialists.document_schemas import (
    DocumentLinkRequest,
    DocumentLinkResponse,
    DocumentListResponse,
)
from handoff.specialists.schemas import ErrorResponse

router = APIRouter(prefix="/conversations/{conversation_id}/documents", responses={
    404: {"model": ErrorResponse, "description": "No such conversation, or no such document on this account"},
    409: {"model": ErrorResponse, "description": "Not assigned to you, or the customer is not verified"},
})


@router.get("", response_model=DocumentListResponse)
async def documents(conversation_id: str, staff: ChatStaffDep, service: ServiceDep) -> dict:
    found = await account_documents.list_documents(services=service, conversation_id=conversation_id,
                                                   staff=staff)
    return {"ok": True, "documents": found}


@router.post("/links", response_model=DocumentLinkResponse)
async def document_link(conversation_id: str, body: DocumentLinkRequest, staff: ChatStaffDep,
                        service: ServiceDep) -> dict:
    link = await account_documents.document_link(services=service, conversation_id=conversation_id,
                                                 staff=staff, kind=body.kind, document_id=body.document_id)
    return {"ok": True, "link": link}
