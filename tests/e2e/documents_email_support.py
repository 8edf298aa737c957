"""Reading what the shared stack's backend queued for email (issue 19): the outbox rows and their attached
PDFs, straight from the stack's SQLite database (the stack runs no send loop; real SMTP delivery of the same
rows is tested in tests/actions/test_documents_email.py and tests/backend/test_mail_delivery.py)."""

from __future__ import annotations

import base64
import io
import time

from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.database import make_engine
from backend.mail.models import MailMessage
from tests.support.stack import Stack


def queued_mails(stack: Stack, *, template: str, customer_id: int | None = None,
                 conversation_id: str | None = None, count: int = 1, timeout: float = 60,
                 ) -> list[MailMessage]:
    """The outbox rows of that template (oldest first), once at least `count` are there."""
    engine = make_engine(stack.env["BACKEND_DATABASE_URL"])
    try:
        deadline = time.monotonic() + timeout
        while True:
            with Session(engine) as session:
                query = select(MailMessage).where(MailMessage.template == template)
                if customer_id is not None:
                    query = query.where(MailMessage.customer_id == customer_id)
                if conversation_id is not None:
                    query = query.where(MailMessage.conversation_id == conversation_id)
                rows = list(session.scalars(query.order_by(MailMessage.created_at)))
            if len(rows) >= count or time.monotonic() > deadline:
                return rows
            time.sleep(0.5)
    finally:
        engine.dispose()


def attached_pdf_text(row: MailMessage) -> tuple[str, str]:
    """(filename, extracted text) of the row's one attachment."""
    assert row.attachments is not None and len(row.attachments) == 1, row.attachments
    attachment = row.attachments[0]
    assert attachment["content_type"] == "application/pdf"
    content = base64.b64decode(attachment["data"])
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return attachment["filename"], text
