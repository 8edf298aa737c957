"""Path, query and header parameters shared by the routers."""
from typing import Annotated

from fastapi import Header, Path

CustomerIdPath = Annotated[int, Path(ge=1, le=2_147_483_647, description="Customer id")]
IdPath = Annotated[int, Path(ge=1, le=2_147_483_647)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=8, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$",
        description="Unique per credit; a retry reuses it",
    ),
]
