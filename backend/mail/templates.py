"""Rendering: Jinja2 (HTML autoescaped, StrictUndefined) from
backend/mail/templates/<name>.{subject.txt,txt,html}.

Each template's context is validated by its model first (schemas.py): unknown or missing fields are a 422.
"""
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel

from backend.mail.schemas import (
    BotReplyContext,
    DocumentCopyContext,
    PaymentReminderContext,
    TicketAckContext,
    TicketReplyContext,
    TranscriptContext,
)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
CONTEXTS: dict[str, type[BaseModel]] = {
    "ticket_ack": TicketAckContext,
    "ticket_reply": TicketReplyContext,
    "bot_reply": BotReplyContext,
    "transcript": TranscriptContext,
    "payment_reminder": PaymentReminderContext,
    "document_copy": DocumentCopyContext,
}
ONE_ATTACHMENT = frozenset({"document_copy"})  # the mail is its attachment: exactly one
REMINDER_TEMPLATES = frozenset({"payment_reminder"})  # carry the preferences link; suppressed when opted out
PERSON_WRITTEN = frozenset({"ticket_reply"})  # no Auto-Submitted header
AUTO_REPLIED = frozenset({"bot_reply"})
SPEAKERS = {"customer": "You", "bot": "Assistant", "specialist": "Billing specialist", "system": "Note"}

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
    undefined=StrictUndefined,
    trim_blocks=False,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def _reminder_wording(fields: dict[str, Any]) -> dict[str, str]:
    amount = money(fields["amount"]) if fields.get("amount") is not None else "your balance"
    due = fields["due_date"].strftime("%B %-d, %Y") if fields.get("due_date") else None
    invoice = f" (invoice {fields['invoice_number']})" if fields.get("invoice_number") else ""
    kind = fields["kind"]
    if kind == "due_soon":
        return {"headline": "Your bill is due soon",
                "sentence": f"A payment of {amount}{invoice} is due{' on ' + due if due else ' soon'}."}
    if kind == "past_due":
        return {"headline": "Your account is past due",
                "sentence": f"{amount}{invoice} is past due{' since ' + due if due else ''}."}
    if kind == "autopay_failed":
        return {"headline": "Your automatic payment did not go through",
                "sentence": f"We could not collect {amount}{invoice} with autopay. Please update your "
                            "payment method or pay another way."}
    if kind == "card_expiring":
        return {"headline": "Your card on file expires soon",
                "sentence": "The card on file expires before your next due date"
                            f"{' (' + due + ')' if due else ''}. Please update your payment method."}
    return {"headline": "Your promised payment is due tomorrow",
            "sentence": f"As agreed, a payment of {amount}{invoice} is due"
                        f"{' on ' + due if due else ' tomorrow'}."}


def validate_context(template: str, context: dict[str, Any]) -> BaseModel | None:
    """The context's model, or None for an unknown template. Raises pydantic's ValidationError."""
    model = CONTEXTS.get(template)
    return model.model_validate(context) if model else None


def render(template: str, fields: dict[str, Any]) -> Rendered:
    values = dict(fields)
    values.setdefault("first_name", None)
    values.setdefault("preferences_url", None)
    values.setdefault("reply_enabled", False)
    values["speaker_names"] = SPEAKERS
    if template == "payment_reminder":
        values.update(_reminder_wording(values))
    subject = _environment.get_template(f"{template}.subject.txt").render(values)
    subject = " ".join(subject.split())[:300]  # one line: no header folding surprises
    values["subject"] = subject
    text = _environment.get_template(f"{template}.txt").render(values)
    html = _environment.get_template(f"{template}.html").render(values)
    return Rendered(subject=subject, text=text, html=html)
