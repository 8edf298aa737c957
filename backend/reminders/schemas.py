from datetime import date, datetime

from pydantic import BaseModel

from backend.money import MoneyOut
from backend.reminders.models import ReminderKind


class ReminderOut(BaseModel):
    id: int
    customer_id: int
    kind: ReminderKind
    subject: str  # invoice:<n>, payment:<id>, card:<method id>:<YYYY-MM>, arrangement:<id>, instalment:<id>
    invoice_number: str | None
    amount: MoneyOut | None
    due_date: date | None
    day: date  # the billing job's day that sent it
    mail_id: str
    mail_status: str | None  # the email's outbox status (queued/sent/suppressed/...)
    headline: str  # what the chat widget shows, e.g. "You have $75.00 past due since November 17"
    created_at: datetime
    seen_at: datetime | None
