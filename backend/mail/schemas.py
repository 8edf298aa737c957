"""Request and answer shapes of /api/v1/mail/messages and each template's context
(docs/contracts.md, "Email")."""
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from backend.mail.models import MailStatus

ShortText = Annotated[str, Field(min_length=1, max_length=200)]
TicketNumber = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9-]+$")]
# One plain address (no display name, no whitespace: nothing can be smuggled into a header).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$"
EmailAddress = Annotated[str, Field(max_length=254, pattern=EMAIL_PATTERN)]
ConversationId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TicketAckContext(Strict):
    ticket_number: TicketNumber
    first_name: ShortText | None = None
    summary: Annotated[str, Field(max_length=500)] | None = None


class TicketReplyContext(Strict):
    body_text: Annotated[str, Field(min_length=1, max_length=10_000)]
    ticket_number: TicketNumber | None = None
    specialist_name: ShortText | None = None
    first_name: ShortText | None = None


class BotReplyContext(Strict):
    body_text: Annotated[str, Field(min_length=1, max_length=10_000)]
    subject: Annotated[str, Field(max_length=200)] | None = None
    first_name: ShortText | None = None


class TranscriptLine(Strict):
    speaker: Literal["customer", "bot", "specialist", "system"]
    text: Annotated[str, Field(max_length=5_000)]
    at: Annotated[str, Field(max_length=40)] | None = None


class TranscriptContext(Strict):
    lines: Annotated[list[TranscriptLine], Field(min_length=1, max_length=500)]
    ticket_number: TicketNumber | None = None
    first_name: ShortText | None = None


class PaymentReminderContext(Strict):
    kind: Literal["due_soon", "past_due", "autopay_failed", "card_expiring", "promise_due"]
    invoice_number: Annotated[str, Field(pattern=r"^INV-\d{4}-\d{6}$")] | None = None
    amount: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] | None = None
    due_date: date | None = None
    pay_url: HttpUrl | None = None


class DocumentCopyContext(Strict):
    """A document the customer asked to have emailed: the PDF is the mail's attachment (exactly one)."""
    title: ShortText
    first_name: ShortText | None = None


class Thread(Strict):
    conversation_id: ConversationId
    in_reply_to: Annotated[str, Field(pattern=r"^<[^<>\s]{1,996}>$")] | None = None


class Attachment(BaseModel):
    model_config = ConfigDict(extra="allow")
    kind: Annotated[str, Field(min_length=1, max_length=40)]


class MailRequest(Strict):
    template: Annotated[str, Field(min_length=1, max_length=40)]
    to: EmailAddress | None = None
    customer_id: Annotated[int, Field(ge=1, le=2_147_483_647)] | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    thread: Thread | None = None
    attachments: Annotated[list[Attachment], Field(max_length=5)] | None = None


class MailMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    template: str
    to: str
    customer_id: int | None
    conversation_id: str | None
    subject: str
    status: MailStatus
    message_id: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    requested_by: str
