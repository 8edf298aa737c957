"""The specialist console's REST API (/api/console/...), a module a screen: sign-in, queue, chat, supervisor.

Each route checks who may call it (handoff/deps.py), calls one use case or query and answers a model of
handoff/specialists/schemas.py, so every answer is described in /openapi.json."""

from __future__ import annotations

from fastapi import APIRouter

from handoff.specialists.routes import (
    canned_responses,
    chats,
    credits,
    documents,
    notes,
    payments,
    presence,
    queue,
    reminders,
    search,
    sign_in,
    supervisor,
    system_credits,
)
from handoff.specialists.schemas import ERROR_RESPONSES

router = APIRouter(prefix="/api/console", responses=ERROR_RESPONSES)
for screen in (sign_in, queue, chats, payments, notes, canned_responses, credits, presence, documents,
               reminders, search, supervisor, system_credits):
    router.include_router(screen.router)
