"""handoff/specialists/account_documents.py: the account panel's documents are read, and links made, as the
specialist who owns the chat (the backend audits with that X-Actor); a link is audited here too; an
unverified chat, someone else's chat and the backend's refusals are clear errors."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from handoff.assignments import claim
from handoff.clients.backend import BackendError
from handoff.errors import ServiceError
from handoff.models import AuditEntry
from handoff.specialists import account_documents
from handoff.specialists.document_schemas import DocumentLinkRequest
from tests.handoff.unit.support import FakeBackend, add_staff, queued_conversation

DOCUMENTS = [{"kind": "statement_pdf", "document_id": "2026-03", "title": "Statement for March 2026",
              "date": "2026-03-31"},
             {"kind": "credit_memo_pdf", "document_id": "12", "title": "Credit memo CM-000012",
              "date": "2026-03-02"}]


class DocumentsBackend(FakeBackend):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, int, str, Any]] = []
        self.refusal: BackendError | None = None

    async def list_documents(self, *, customer_id: int, actor: str) -> dict:
        self.calls.append(("list", customer_id, actor, None))
        return {"customer_id": customer_id, "documents": DOCUMENTS}

    async def create_document_link(self, *, customer_id: int, body: dict, actor: str) -> dict:
        self.calls.append(("link", customer_id, actor, body))
        if self.refusal:
            raise self.refusal
        return {"kind": body["kind"], "document_id": str(next(v for k, v in body.items() if k != "kind")),
                "title": "t", "filename": "f.pdf", "url": "http://127.0.0.1:8000/documents/x.y",
                "expires_at": "2026-03-10T15:45:00Z"}


@pytest.fixture
def backend() -> DocumentsBackend:
    return DocumentsBackend()


def _audit(services, action):
    return services.db.run_sync(lambda s: [(e.actor, e.target, e.details) for e in s.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))])


async def test_documents_and_links_are_asked_as_the_owner_and_audited(services, backend):
    dana = add_staff(services, "dana")
    conversation_id = queued_conversation(services, customer_id=6)
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    found = await account_documents.list_documents(services=services, conversation_id=conversation_id,
                                                   staff=dana)
    assert found == DOCUMENTS
    link = await account_documents.document_link(services=services, conversation_id=conversation_id,
                                                 staff=dana, kind="credit_memo_pdf", document_id="12")
    assert link["url"].endswith("/documents/x.y")
    assert backend.calls == [("list", 6, dana.actor, None),
                             ("link", 6, dana.actor, {"kind": "credit_memo_pdf", "credit_id": 12})]
    await account_documents.document_link(services=services, conversation_id=conversation_id, staff=dana,
                                          kind="statement_pdf", document_id="2026-03")
    assert backend.calls[-1][3] == {"kind": "statement_pdf", "month": "2026-03"}
    audited = _audit(services, "document_link")
    assert [(actor, target, details["kind"]) for actor, target, details in audited] == [
        (dana.actor, conversation_id, "credit_memo_pdf"), (dana.actor, conversation_id, "statement_pdf")]

    backend.refusal = BackendError(status_code=404, code="not_found", message="No invoice INV-2026-000999.")
    with pytest.raises(ServiceError) as refused:
        await account_documents.document_link(services=services, conversation_id=conversation_id,
                                              staff=dana, kind="invoice_pdf", document_id="INV-2026-000999")
    assert refused.value.status_code == 404 and "INV-2026-000999" in refused.value.message
    backend.refusal = BackendError(status_code=503, code="backend_unavailable", message="Not reachable.")
    with pytest.raises(ServiceError) as down:
        await account_documents.document_link(services=services, conversation_id=conversation_id,
                                              staff=dana, kind="invoice_pdf", document_id="INV-2026-000999")
    assert down.value.status_code == 502
    assert len(_audit(services, "document_link")) == 2  # refused links are not audited as made


async def test_an_unverified_chat_or_someone_elses_chat_gets_no_documents(services, backend):
    dana, lee = add_staff(services, "dana"), add_staff(services, "lee")
    anonymous = queued_conversation(services, customer_id=None)
    await claim.perform(services=services, conversation_id=anonymous, staff=dana)
    with pytest.raises(ServiceError) as unverified:
        await account_documents.list_documents(services=services, conversation_id=anonymous, staff=dana)
    assert unverified.value.status_code == 409 and unverified.value.code == "unverified_customer"
    davids = queued_conversation(services, customer_id=4)
    await claim.perform(services=services, conversation_id=davids, staff=dana)
    with pytest.raises(ServiceError) as not_theirs:
        await account_documents.document_link(services=services, conversation_id=davids, staff=lee,
                                              kind="invoice_pdf", document_id="INV-2026-000401")
    assert not_theirs.value.status_code in (403, 409)
    assert backend.calls == []


def test_a_link_request_names_a_document_of_its_kind():
    assert DocumentLinkRequest(kind="statement_pdf", document_id="2025-10").document_id == "2025-10"
    for kind, document_id in (("statement_pdf", "2025-13"), ("invoice_pdf", "2025-10"),
                              ("credit_memo_pdf", "0"), ("credit_memo_pdf", "INV-2026-000401"),
                              ("receipt_pdf", "1")):
        with pytest.raises(ValidationError):
            DocumentLinkRequest(kind=kind, document_id=document_id)
