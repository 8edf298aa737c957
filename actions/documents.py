"""A copy of a bill in the chat (issue 19): "send me my last bill", "statement for October", "my credit memo"
-> a short-lived signed download link to the PDF as a link button (docs/contracts.md, "Documents").

Which document comes from the customer's own words: "statement" -> the monthly statement, "credit memo" /
"credit note" -> the latest credit memo, else the invoice; a month ("October", "October 2025", "2025-10")
or an invoice number picks one from the account's documents (newest first), none -> the latest. The link is
made for this conversation (`X-Actor: bot:<conversation>`, audited by the backend)."""

import json
import logging
import re
from datetime import UTC, date, datetime
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.base import TALK_TO_PERSON_BUTTON, AccountAnswerAction, AnswerContext, UsesServices
from actions.clients.documents import DocumentLink, DocumentRef, DocumentsClient
from actions.clients.errors import NotFound, ServiceError

logger = logging.getLogger(__name__)

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
_MONTH_WORD = re.compile(
    r"\b(" + "|".join(m[:3] + f"(?:{m[3:]})?" for m in MONTHS) + r")\.?(?:\s+(?:of\s+)?(\d{4}))?\b", re.I
)
_ISO_MONTH = re.compile(r"\b(\d{4})-(0[1-9]|1[0-2])\b")
_INVOICE = re.compile(r"\bINV-?(\d{4})-?(\d{6})\b", re.I)
_STATEMENT = re.compile(r"\bstatement", re.I)
_CREDIT_MEMO = re.compile(r"\bcredit\s*(?:memo|note)", re.I)


def wanted_kind(text: str) -> str:
    if _CREDIT_MEMO.search(text):
        return "credit_memo_pdf"
    return "statement_pdf" if _STATEMENT.search(text) else "invoice_pdf"


def wanted_month(text: str) -> tuple[int, int | None] | None:
    """(month, year or None) named in the text: "October", "Oct 2025", "2025-10". "May" alone counts
    only with a year or after "for"/"from"/"of"/"in" (it is also a verb)."""
    iso = _ISO_MONTH.search(text)
    if iso:
        return int(iso.group(2)), int(iso.group(1))
    for match in _MONTH_WORD.finditer(text):
        name = match.group(1).lower()
        month = next(i for i, m in enumerate(MONTHS, 1) if m.startswith(name[:3]))
        year = int(match.group(2)) if match.group(2) else None
        before = text[: match.start()].lower().split()[-1:] or [""]
        if month == 5 and year is None and before[0] not in ("for", "from", "of", "in"):
            continue
        return month, year
    return None


def wanted_invoice(text: str) -> str | None:
    match = _INVOICE.search(text)
    return f"INV-{match.group(1)}-{match.group(2)}" if match else None


def pick(documents: list[DocumentRef], *, kind: str, month: tuple[int, int | None]) -> DocumentRef | None:
    """The newest document of `kind` in that month (a statement's month; an invoice's issue month)."""
    number, year = month
    for document in documents:
        if document.kind != kind:
            continue
        day = (date.fromisoformat(document.document_id + "-01") if kind == "statement_pdf"
               else document.date)
        if day.month == number and (year is None or day.year == year):
            return document
    return None


def choose(documents: list[DocumentRef], *, kind: str, month: tuple[int, int | None] | None,
           number: str | None) -> DocumentRef | None:
    """The document the customer named in the account's list (newest first): an invoice number, else the
    kind in a month, else the newest of the kind."""
    if number is not None:
        return next((d for d in documents if d.kind == "invoice_pdf" and d.document_id == number), None)
    if month is not None:
        return pick(documents, kind=kind, month=month)
    return next((d for d in documents if d.kind == kind), None)


def not_found(dispatcher: CollectingDispatcher, *, kind: str, month: tuple[int, int | None] | None,
              number: str | None) -> None:
    period = f" for {month_words(month)}" if month else (f" {number}" if number else "")
    dispatcher.utter_message(response="utter_document_not_found", document=KIND_WORDS[kind], period=period)


def month_words(month: tuple[int, int | None]) -> str:
    name = MONTHS[month[0] - 1].capitalize()
    return f"{name} {month[1]}" if month[1] else name


KIND_WORDS = {"invoice_pdf": "bill", "statement_pdf": "statement", "credit_memo_pdf": "credit memo"}


class UsesDocuments(UsesServices):
    def __init__(self, *, billing: Any = None, handoff: Any = None, documents: Any = None) -> None:
        super().__init__(billing=billing, handoff=handoff)
        self._documents = documents

    @property
    def documents(self) -> DocumentsClient:
        if self._documents is None:
            self._documents = DocumentsClient()
        client: DocumentsClient = self._documents
        return client


class ActionSendDocumentLink(UsesDocuments, AccountAnswerAction):
    """An account answer (actions/answers.py ANSWERS_BY_INTENT): a visitor who asked before verifying gets
    the link from action_answer_after_verification once verified."""

    def name(self) -> str:
        return "action_send_document_link"

    async def answer(self, context: AnswerContext) -> None:
        text = context.turn.text or ""
        kind, month, number = wanted_kind(text), wanted_month(text), wanted_invoice(text)
        actor = f"bot:{context.tracker.sender_id}"
        try:
            if number is not None:
                link = await self.documents.create_link(
                    customer_id=context.customer_id, kind="invoice_pdf", invoice_number=number, actor=actor)
            elif month is not None or kind == "credit_memo_pdf":
                listed = await self.documents.list_documents(customer_id=context.customer_id)
                found = choose(listed.documents, kind=kind, month=month, number=None)
                if found is None:
                    not_found(context.dispatcher, kind=kind, month=month, number=None)
                    return
                link = await self.documents.create_link(
                    customer_id=context.customer_id, kind=kind, actor=actor, **id_of(found))
            else:
                link = await self.documents.create_link(
                    customer_id=context.customer_id, kind=kind, actor=actor)
        except NotFound:
            not_found(context.dispatcher, kind=kind, month=None, number=number)
            return
        except ServiceError:
            logger.warning("no document link for conversation %s", context.tracker.sender_id)
            context.dispatcher.utter_message(response="utter_document_unavailable",
                                             buttons=[TALK_TO_PERSON_BUTTON])
            return
        send_link(context.dispatcher, link)


def id_of(document: DocumentRef) -> dict[str, Any]:
    if document.kind == "invoice_pdf":
        return {"invoice_number": document.document_id}
    if document.kind == "statement_pdf":
        return {"month": document.document_id}
    return {"credit_id": int(document.document_id)}


def email_button(kind: str, document_id: str) -> dict[str, str]:
    """ "Email it to me" next to a download link: the same document as a PDF attachment
    (actions/documents_email.py; on the email channel the handoff service attaches it to the bot's reply)."""
    ref = json.dumps({"document_ref": f"{kind}:{document_id}"}, separators=(",", ":"))
    return {"title": "Email it to me", "payload": f"/email_document{ref}"}


def send_link(dispatcher: CollectingDispatcher, link: DocumentLink) -> None:
    expires = link.expires_at if link.expires_at.tzinfo else link.expires_at.replace(tzinfo=UTC)
    minutes = max(1, round((expires - datetime.now(UTC)).total_seconds() / 60))
    dispatcher.utter_message(
        response="utter_document_link", title=link.title, minutes=minutes,
        buttons=[{"title": f"Download {link.title} (PDF)", "url": link.url},
                 email_button(link.kind, link.document_id)],
    )
