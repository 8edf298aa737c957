"""Typed client of the backend's documents (docs/contracts.md, "Documents"): the customer's invoices,
monthly statements and credit memos, and a short-lived signed download link for one of them."""

from datetime import date, datetime
from typing import Any

from actions.clients.billing import BackendApiClient, ContractModel


class DocumentRef(ContractModel):
    kind: str
    document_id: str
    title: str
    date: date


class DocumentList(ContractModel):
    customer_id: int
    documents: list[DocumentRef]


class DocumentLink(ContractModel):
    kind: str
    document_id: str
    title: str
    filename: str
    url: str
    expires_at: datetime


class DocumentsClient(BackendApiClient):
    async def list_documents(self, *, customer_id: int) -> DocumentList:
        data = await self.request("GET", f"/api/v1/customers/{customer_id}/documents")
        return self.parse(DocumentList, data)

    async def create_link(
        self, *, customer_id: int, kind: str, actor: str, invoice_number: str | None = None,
        month: str | None = None, credit_id: int | None = None,
    ) -> DocumentLink:
        """No id: the backend's default (the latest invoice; the month of the latest invoice)."""
        body: dict[str, Any] = {"kind": kind}
        for name, value in (("invoice_number", invoice_number), ("month", month), ("credit_id", credit_id)):
            if value is not None:
                body[name] = value
        data = await self.request("POST", f"/api/v1/customers/{customer_id}/documents/links", json=body,
                                  headers={"X-Actor": actor})
        return self.parse(DocumentLink, data)
