"""The account panel's documents (issue 19): the customer's invoices, monthly statements and credit memos as
the backend lists them, and a short-lived signed download link for one of them (docs/contracts.md,
"Documents"). Both go to the backend with the specialist's `X-Actor` (the backend audits them); a link is
also audited here as `document_link`."""

from __future__ import annotations

from typing import Any

from handoff.assignments.ownership import load_verified
from handoff.clients.backend import BackendError
from handoff.context import Services
from handoff.conversations import store
from handoff.errors import ServiceError
from handoff.specialists.staff import Staff

# What the backend's link route takes for each kind: the one id it needs.
ID_FIELD = {"invoice_pdf": "invoice_number", "statement_pdf": "month", "credit_memo_pdf": "credit_id"}


def _refusal(error: BackendError) -> ServiceError:
    return ServiceError(status_code=502 if error.status_code >= 500 else error.status_code, code=error.code,
                        message=error.message)


async def _customer_id(*, services: Services, conversation_id: str, staff: Staff) -> int:
    return await load_verified(services=services, conversation_id=conversation_id, staff=staff,
                               refusal="This customer is not verified, so there are no documents to show.")


async def list_documents(*, services: Services, conversation_id: str, staff: Staff) -> list[dict[str, Any]]:
    customer_id = await _customer_id(services=services, conversation_id=conversation_id, staff=staff)
    try:
        answer = await services.backend.list_documents(customer_id=customer_id, actor=staff.actor)
    except BackendError as error:
        raise _refusal(error) from None
    documents: list[dict[str, Any]] = answer.get("documents", [])
    return documents


async def document_link(*, services: Services, conversation_id: str, staff: Staff, kind: str,
                        document_id: str) -> dict[str, Any]:
    customer_id = await _customer_id(services=services, conversation_id=conversation_id, staff=staff)
    body: dict[str, Any] = {"kind": kind}
    body[ID_FIELD[kind]] = int(document_id) if kind == "credit_memo_pdf" else document_id
    try:
        link: dict[str, Any] = await services.backend.create_document_link(
            customer_id=customer_id, body=body, actor=staff.actor)
    except BackendError as error:
        raise _refusal(error) from None
    await services.db.run(store.audit, actor=staff.actor, action="document_link", target=conversation_id,
                          details={"customer_id": customer_id, "kind": link.get("kind"),
                                   "document_id": link.get("document_id"),
                                   "expires_at": link.get("expires_at")})
    return link
