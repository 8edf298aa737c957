from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.money import MoneyOut
from backend.payment_page.models import LinkPurpose


class LinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: LinkPurpose
    # The chat the page reports back to (the handoff service's conversation id).
    conversation_id: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$"
    )


class LinkMade(BaseModel):
    """What an Idempotency-Key remembers of a link: its nonce (the link is a credential: never stored)."""

    nonce: str


class LinkOut(BaseModel):
    url: str
    path: str
    purpose: LinkPurpose
    expires_at: datetime


class CompletionIn(BaseModel):
    """What the page posts: the processor's token of the card, never the card. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    payment_token: str = Field(min_length=4, max_length=255, pattern=r"^[A-Za-z0-9_.:-]+$")
    pay: Literal["none", "past_due", "full_balance", "amount"] = "none"
    amount: str | None = Field(default=None, max_length=20)
    autopay: bool | None = None  # None: leave autopay as it is


class CompletionOut(BaseModel):
    status: Literal["completed", "declined"]
    method: dict[str, Any]
    payment: dict[str, Any] | None
    autopay: dict[str, Any] | None
    total_due: MoneyOut
    currency: str
    summary: str
