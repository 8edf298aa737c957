"""What the console's payment actions send and get back (issue 16): take a payment with the method on file
(quote, then confirm) and set up an arrangement, within policy or approved outside it."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# One console action (a dialog's life): the same id on a double click or a retry, so the backend's
# Idempotency-Key is the same and nothing is charged or arranged twice.
RequestId = Field(pattern=r"^[A-Za-z0-9-]{8,64}$", description="The console action's id (a UUID)")
# Amounts go to the backend as typed ("50.00"); it refuses zero, negatives, three decimals or words clearly.
Amount = Field(default=None, min_length=1, max_length=20)


class QuoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_choice: Literal["past_due", "full_balance", "amount"]
    amount: str | None = Amount
    request_id: str = RequestId


class ConfirmRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str = RequestId


class ArrangementRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["promise_to_pay", "instalment_plan"]
    amount: str | None = Amount
    pay_by: date | None = None
    instalments: int | None = Field(default=None, ge=1, le=24)
    override_policy: bool = False
    note: str = Field(default="", max_length=500)
    request_id: str = RequestId


class WaiverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_item_id: int | None = Field(default=None, ge=1, description="Default: the latest late fee")
    request_id: str = RequestId


class QuoteResponse(BaseModel):
    ok: bool = True
    quote: dict[str, Any] = Field(description="The backend's Quote: amount, method, summary, quote_id")


class PaymentResponse(BaseModel):
    ok: bool = True
    payment: dict[str, Any] = Field(description="The backend's Payment: status posted/pending/failed")


class ArrangementResponse(BaseModel):
    ok: bool = True
    arrangement: dict[str, Any] = Field(description="The backend's Arrangement")


class WaiverResponse(BaseModel):
    ok: bool = True
    waiver: dict[str, Any] = Field(description="The backend's answer: arrangement, credit, total_due")
