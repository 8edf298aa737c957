"""Search past conversations: what the specialist's work needs, anything for a supervisor (audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from handoff.deps import ChatStaffDep, ServiceDep
from handoff.specialists import search as searching
from handoff.specialists.inbox_schemas import SearchResponse

router = APIRouter()


@router.get("/search", response_model=SearchResponse)
async def search(q: Annotated[str, Query(min_length=2, max_length=100)], staff: ChatStaffDep,
                 service: ServiceDep) -> dict:
    """By customer name or number, account or invoice number, dispute id, ticket number or message text."""
    return {"results": await service.run(searching.search, staff=staff, query=q)}
