"""Input types shared by the domains' request schemas."""
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints


def _printable(text: str) -> str:
    if any(ord(char) < 32 and char not in "\t\n" for char in text):
        raise ValueError("must not contain control characters")
    return text


ReasonText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), AfterValidator(_printable)
]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_printable)
]
PositiveMoneyIn = Annotated[
    Decimal,
    Field(gt=0, max_digits=12, decimal_places=2, description="Amount as a string with up to 2 decimals"),
]
MoneyQuery = Annotated[Decimal, Field(ge=-9999999999, le=9999999999, max_digits=12, decimal_places=2)]
DbId = Annotated[int, Field(ge=1, le=2_147_483_647)]
InvoiceNumber = Annotated[str, StringConstraints(pattern=r"^INV-\d{4}-\d{6}$")]
AccountNumber = Annotated[
    str,
    BeforeValidator(lambda value: value.strip().upper() if isinstance(value, str) else value),
    StringConstraints(pattern=r"^ACC-\d{6}$"),
]
