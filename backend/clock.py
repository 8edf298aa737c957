"""Today's date and the current time as dependencies, so tests can pin them."""
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Depends


async def get_today() -> date:
    return datetime.now(UTC).date()


async def get_now() -> datetime:
    return datetime.now(UTC)


TodayDep = Annotated[date, Depends(get_today)]
NowDep = Annotated[datetime, Depends(get_now)]
