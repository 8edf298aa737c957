from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints, model_validator

from backend.schemas import AccountNumber

PostalCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=12, pattern=r"^[A-Za-z0-9 -]+$")
]
PhoneLast4 = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{4}$")]


class VerificationRequest(BaseModel):
    account_number: AccountNumber
    postal_code: PostalCode | None = None
    phone_last4: PhoneLast4 | None = None

    @model_validator(mode="after")
    def exactly_one_answer(self) -> "VerificationRequest":
        if (self.postal_code is None) == (self.phone_last4 is None):
            raise ValueError("send exactly one of postal_code or phone_last4")
        return self


class VerificationSucceeded(BaseModel):
    verified: Literal[True] = True
    customer_id: int
    first_name: str
    account_number: str


class VerificationFailed(BaseModel):
    verified: Literal[False] = False
    attempts_remaining: int


# One bare address: x@domain.tld, no spaces, angle brackets or control characters (PostgreSQL refuses a NUL
# in a query parameter; the caller strips a display name).
_ADDRESS_PART = r"[^@\s<>,;\x00-\x1f\x7f]+"
EmailAddress = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254,
                           pattern=rf"^{_ADDRESS_PART}@{_ADDRESS_PART}\.{_ADDRESS_PART}$"),
]


class CustomerByEmail(BaseModel):
    customer_id: int


class AccountOut(BaseModel):
    account_number: str
    status: str
    currency: str
    autopay: bool
    payment_method_masked: str | None


class CustomerOut(BaseModel):
    customer_id: int
    first_name: str
    last_name: str
    email: str
    account: AccountOut


class LockedError(BaseModel):
    code: str
    message: str
    locked_until: datetime
