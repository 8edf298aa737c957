from datetime import date, datetime

from pydantic import BaseModel, Field

from backend.documents.links import DocumentKind
from backend.schemas import DbId, InvoiceNumber


class DocumentOut(BaseModel):
    kind: DocumentKind
    document_id: str
    title: str
    date: date


class DocumentListOut(BaseModel):
    customer_id: int
    documents: list[DocumentOut]


class LinkCreate(BaseModel):
    kind: DocumentKind
    invoice_number: InvoiceNumber | None = None
    month: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2025-10"])
    credit_id: DbId | None = None


class LinkOut(BaseModel):
    kind: DocumentKind
    document_id: str
    title: str
    filename: str
    url: str
    expires_at: datetime
