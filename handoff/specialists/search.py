"""Search past conversations (issue 17): by customer name or number, account or invoice number, dispute id,
ticket number or the text of a message. A specialist finds only what their work needs (work_access); a
supervisor anything. Every search is audited with its number of results."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, String, cast, or_, select
from sqlalchemy.orm import Session

from handoff.conversations import store
from handoff.models import Conversation, Message
from handoff.specialists import work_access
from handoff.specialists.queries import conversation_summary
from handoff.specialists.staff import Staff

MAX_RESULTS = 50
SCANNED = 500  # candidates looked at (newest first) before the access filter
SNIPPET_CHARS = 120
_NUMBER = re.compile(r"^#?(\d{1,9})$")
_ACCOUNT = re.compile(r"^ACC-\d+$", re.IGNORECASE)
_INVOICE = re.compile(r"^INV-[\d-]+$", re.IGNORECASE)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _snippet(text: str, query: str) -> str:
    at = text.lower().find(query.lower())
    start = max(0, at - SNIPPET_CHARS // 3) if at >= 0 else 0
    piece = text[start:start + SNIPPET_CHARS]
    return ("…" if start else "") + piece + ("…" if start + SNIPPET_CHARS < len(text) else "")


def _matched(session: Session, conversation: Conversation, query: str, number: int | None) -> tuple[str, str]:
    """What matched, and a snippet to show."""
    lowered = query.lower()
    if conversation.customer_name and lowered in conversation.customer_name.lower():
        return "customer", conversation.customer_name
    if number is not None and conversation.dispute_id == number:
        return "dispute", f"Dispute #{number}"
    if number is not None and conversation.customer_id == number:
        return "customer", f"Customer #{number}"
    if conversation.ticket_number and lowered in conversation.ticket_number.lower():
        return "ticket", conversation.ticket_number
    text = session.scalars(select(Message.text).where(Message.conversation_id == conversation.id,
                                                      Message.text.ilike(_like(query), escape="\\"))
                           .order_by(Message.seq.desc()).limit(1)).first()
    kind = "account" if _ACCOUNT.match(query) else "invoice" if _INVOICE.match(query) else "text"
    if text is not None:
        return kind, _snippet(text, query)
    summary = str((conversation.context or {}).get("summary") or "")
    return kind, _snippet(summary, query) if lowered in summary.lower() else "In the escalation details"


def search(session: Session, *, staff: Staff, query: str) -> list[dict[str, Any]]:
    query = query.strip()
    like = _like(query)
    number_match = _NUMBER.match(query)
    number = int(number_match.group(1)) if number_match else None
    conditions: list[ColumnElement[bool]] = [
        Conversation.customer_name.ilike(like, escape="\\"),
        Conversation.ticket_number.ilike(like, escape="\\"),
        cast(Conversation.context, String).ilike(like, escape="\\"),  # account/invoice numbers, slots
        Conversation.id.in_(select(Message.conversation_id).where(Message.text.ilike(like, escape="\\"))),
    ]
    if number is not None:
        conditions += [Conversation.dispute_id == number, Conversation.customer_id == number]
    candidates = session.scalars(select(Conversation).where(or_(*conditions))
                                 .order_by(Conversation.updated_at.desc(), Conversation.id).limit(SCANNED))
    results = []
    for conversation in candidates:
        if work_access.reason_to_see(session, conversation=conversation, staff=staff) is None:
            continue
        matched, snippet = _matched(session, conversation, query, number)
        results.append({**conversation_summary(session, conversation), "matched": matched, "snippet": snippet,
                        "updated_at": conversation.updated_at.isoformat()})
        if len(results) >= MAX_RESULTS:
            break
    store.audit(session, actor=staff.actor, action="search_conversations", target=None,
                details={"chars": len(query), "results": len(results)})
    return results
