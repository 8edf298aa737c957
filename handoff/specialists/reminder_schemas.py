"""What the account panel's reminders part gets back (issue 19; docs/contracts.md, "Payment reminders")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel


class ReminderItem(BaseModel):
    id: int
    kind: Literal["due_soon", "past_due", "autopay_failed", "card_expiring", "promise_due"]
    headline: str
    invoice_number: str | None = None
    amount: str | None = None
    due_date: date | None = None
    day: date
    mail_status: str | None = None
    created_at: datetime
    seen_at: datetime | None = None


class ReminderListResponse(BaseModel):
    ok: Literal[True] = True
    reminders: list[ReminderItem]
