"""A bill, statement or credit memo emailed to the customer as a PDF attachment (issue 19, "attached to emails
when asked"; docs/contracts.md, "Documents"): "email me my bill", or the "Email it to me" button next to a
download link (payload /email_document{"document_ref": "<kind>:<document id>"}); "email it to me" typed after
a link (words naming no document) means the document of that link.

The document is chosen like a download link (actions/documents.py) from the account's own list; the backend
mails it (template document_copy) to the address on file, which the bot shows masked. The Idempotency-Key is
the conversation and the document, so a double tap, or asking twice in one conversation, sends one email.

On the email channel the bot's answer is itself an email, and the handoff service attaches to it the document
of an "Email it to me" button (handoff/email/bot_reply.py): there the answer is the document's link, as
action_send_document_link gives, and no mail of its own, so the customer gets one email with the PDF, not the
document in one mail and "I've emailed it" in another."""

import json
import logging
import re

from rasa_sdk.interfaces import Tracker

from actions.base import TALK_TO_PERSON_BUTTON, AccountAnswerAction, AnswerContext
from actions.clients.documents import DocumentRef
from actions.clients.errors import NotFound, ServiceError
from actions.clients.mail import MailClient, mail_key
from actions.documents import (
    UsesDocuments,
    choose,
    id_of,
    not_found,
    send_link,
    wanted_invoice,
    wanted_kind,
    wanted_month,
)

logger = logging.getLogger(__name__)
DOCUMENT_KINDS = ("invoice_pdf", "statement_pdf", "credit_memo_pdf")
EMAIL_CHANNEL = "email"
_NAMED = re.compile(r"\b(?:bill|invoice|statement|credit\s*(?:memo|note))", re.IGNORECASE)


def on_email_channel(tracker: Tracker) -> bool:
    """The customer wrote by email (the handoff service's `channel` metadata, docs/contracts.md "Rasa"; it
    chooses how the document is delivered, never whose it is)."""
    return (tracker.latest_message.get("metadata") or {}).get("channel") == EMAIL_CHANNEL


def masked_address(address: str) -> str:
    """'dana.smith@example.com' -> 'd***@example.com': enough to recognise, not to harvest."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "the address on your account"


def _ref(value: str | None) -> tuple[str, str] | None:
    kind, _, document_id = (value or "").partition(":")
    return (kind, document_id) if kind in DOCUMENT_KINDS and document_id else None


def names_a_document(text: str) -> bool:
    """The customer's words say which document ("my statement", "the March bill", an invoice number)."""
    return bool(_NAMED.search(text) or wanted_month(text) or wanted_invoice(text))


def offered_ref(context: AnswerContext) -> tuple[str, str] | None:
    """The document of the latest download link the bot sent in this conversation ("email that to me")."""
    for event in reversed(context.tracker.events):
        if event.get("event") != "bot":
            continue
        for button in (event.get("data") or {}).get("buttons") or []:
            payload = str(button.get("payload") or "")
            if payload.startswith("/email_document"):
                try:
                    return _ref(json.loads(payload.removeprefix("/email_document")).get("document_ref"))
                except (ValueError, AttributeError):
                    return None
    return None


def wanted_ref(context: AnswerContext) -> tuple[str, str] | None:
    """(kind, document id) from the "Email it to me" button, else the document last offered when the words
    name none; None: choose from the words (actions/documents.py)."""
    tapped = _ref(context.turn.first_entity("document_ref"))
    if tapped is not None or names_a_document(context.turn.text or ""):
        return tapped
    return offered_ref(context)


class ActionEmailDocument(UsesDocuments, AccountAnswerAction):
    """An account answer (actions/answers.py ANSWERS_BY_INTENT): a visitor who asked before verifying gets
    the email once verified."""

    def __init__(self, *, mail: MailClient | None = None, **services: object) -> None:
        super().__init__(**services)
        self._mail = mail

    @property
    def mail(self) -> MailClient:
        if self._mail is None:
            self._mail = MailClient()
        return self._mail

    def name(self) -> str:
        return "action_email_document"

    async def answer(self, context: AnswerContext) -> None:
        text = context.turn.text or ""
        ref = wanted_ref(context)
        kind = ref[0] if ref else wanted_kind(text)
        month, number = (None, None) if ref else (wanted_month(text), wanted_invoice(text))
        conversation = context.tracker.sender_id
        try:
            listed = await self.documents.list_documents(customer_id=context.customer_id)
            found: DocumentRef | None
            if ref is not None:
                found = next((d for d in listed.documents if (d.kind, d.document_id) == ref), None)
            else:
                found = choose(listed.documents, kind=kind, month=month, number=number)
            if found is None:
                not_found(context.dispatcher, kind=kind, month=month, number=number)
                return
            if on_email_channel(context.tracker):
                link = await self.documents.create_link(customer_id=context.customer_id, kind=found.kind,
                                                        actor=f"bot:{conversation}", **id_of(found))
                send_link(context.dispatcher, link)
                return
            queued = await self.mail.send(
                customer_id=context.customer_id, template="document_copy", context={"title": found.title},
                attachments=[{"kind": found.kind, **id_of(found)}], actor=f"bot:{conversation}",
                key=mail_key("email-document", conversation, found.kind, found.document_id))
        except NotFound:
            not_found(context.dispatcher, kind=kind, month=month, number=number)
            return
        except ServiceError:
            logger.warning("document not emailed for conversation %s", conversation)
            context.dispatcher.utter_message(response="utter_document_email_unavailable",
                                             buttons=[TALK_TO_PERSON_BUTTON])
            return
        context.dispatcher.utter_message(
            response="utter_document_already_emailed" if queued.repeated else "utter_document_emailed",
            title=found.title, address=masked_address(queued.message.to))
