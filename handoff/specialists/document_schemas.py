"""What the account panel's documents part sends and gets back (issue 19; docs/contracts.md, "Documents")."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DocumentKind = Literal["invoice_pdf", "statement_pdf", "credit_memo_pdf"]
ID_PATTERNS = {"invoice_pdf": r"^INV-\d{4}-\d{6}$", "statement_pdf": r"^\d{4}-(0[1-9]|1[0-2])$",
               "credit_memo_pdf": r"^[1-9]\d{0,9}$"}


class DocumentItem(BaseModel):
    kind: DocumentKind
    document_id: str
    title: str
    date: date


class DocumentListResponse(BaseModel):
    ok: Literal[True] = True
    documents: list[DocumentItem]


class DocumentLinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: DocumentKind
    document_id: str = Field(min_length=1, max_length=20,
                             description="INV-YYYY-NNNNNN, YYYY-MM or a credit id, as the list names it")

    @model_validator(mode="after")
    def id_fits_the_kind(self) -> DocumentLinkRequest:
        if not re.fullmatch(ID_PATTERNS[self.kind], self.document_id):
            raise ValueError(f"document_id {self.document_id!r} does not name a {self.kind}")
        return self


class DocumentLink(BaseModel):
    kind: DocumentKind
    document_id: str
    title: str
    filename: str
    url: str
    expires_at: datetime


class DocumentLinkResponse(BaseModel):
    ok: Literal[True] = True
    link: DocumentLink
