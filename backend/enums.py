"""Status and type vocabularies shared by models and schemas."""
from enum import StrEnum
from typing import Literal


class AccountStatus(StrEnum):
    active = "active"
    suspended = "suspended"
    closed = "closed"


class InvoiceStatus(StrEnum):
    open = "open"
    paid = "paid"
    overdue = "overdue"
    void = "void"


class ChargeType(StrEnum):
    plan = "plan"
    usage = "usage"
    one_time = "one_time"
    equipment = "equipment"
    late_fee = "late_fee"
    tax = "tax"
    proration = "proration"
    discount = "discount"
    credit = "credit"


class PaymentStatus(StrEnum):
    pending = "pending"
    posted = "posted"
    failed = "failed"
    reversed = "reversed"


class DisputeStatus(StrEnum):
    open = "open"
    under_review = "under_review"
    accepted = "accepted"
    rejected = "rejected"


OPEN_DISPUTE_STATUSES = (DisputeStatus.open, DisputeStatus.under_review)

# How a charge differs between two bills.
ChangeKind = Literal["new", "removed", "changed"]
