from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    resource: str
    customer_id: int | None
    reason: str | None
    details: dict[str, Any]
