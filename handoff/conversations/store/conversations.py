"""Conversations: creation, the one way to change state (`transition`), connection marks, tickets, audit.

Every state change goes through `transition`, which validates it with the state machine and applies
it with a conditional UPDATE, so concurrent replicas cannot both win the same move.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, Table, select, update
from sqlalchemy.orm import Session

from handoff.conversations.states import State, check_transition
from handoff.db import Base, utcnow
from handoff.models import AuditEntry, Conversation, StateChange


class ConversationNotFound(Exception):
    pass


class StateConflict(Exception):
    """The conversation changed under us (e.g. another specialist claimed it first)."""

    def __init__(self, *, current_state: str, message: str):
        super().__init__(message)
        self.current_state = current_state


def table_of(model: type[Base]) -> Table:
    """A model's Core table: conditional UPDATEs run on it, leaving the session's objects alone."""
    return cast(Table, model.__table__)


def rows_changed(session: Session, statement: Executable) -> int:
    """How many rows an UPDATE changed (for a conditional one, 1 means this writer won the race)."""
    return cast("CursorResult[Any]", session.execute(statement)).rowcount


def new_conversation_id() -> str:
    return uuid.uuid4().hex


def create_conversation(session: Session, *, customer_id: int | None,
                        customer_name: str | None) -> Conversation:
    now = utcnow()
    conversation = Conversation(
        id=new_conversation_id(), customer_id=customer_id, customer_name=customer_name, state=State.BOT.value,
        last_seq=0, escalation_count=0, created_at=now, updated_at=now,
    )
    session.add(conversation)
    session.flush()
    return conversation


def get_conversation(session: Session, *, conversation_id: str, for_update: bool = False) -> Conversation:
    statement = select(Conversation).where(Conversation.id == conversation_id)
    if for_update:
        statement = statement.with_for_update()
    conversation = session.scalars(statement).first()
    if conversation is None:
        raise ConversationNotFound(conversation_id)
    return conversation


def find_conversation(session: Session, *, conversation_id: str) -> Conversation | None:
    try:
        return get_conversation(session, conversation_id=conversation_id)
    except ConversationNotFound:
        return None


def update_conversation(session: Session, *, conversation_id: str, **values: Any) -> None:
    """Columns that are not the state (the state changes only through `transition`)."""
    if "state" in values:
        raise ValueError("the state changes only through transition()")
    session.execute(update(Conversation).where(Conversation.id == conversation_id).values(**values))


def mark_customer_connected(session: Session, *, conversation_id: str) -> None:
    update_conversation(session, conversation_id=conversation_id, customer_connected_at=utcnow(),
                        customer_disconnected_at=None)


def mark_customer_disconnected(session: Session, *, conversation_id: str,
                               connected_at: datetime | None) -> None:
    """Only if no newer connection took over (its `customer_connected_at` would differ)."""
    statement = update(Conversation).where(Conversation.id == conversation_id)
    if connected_at is not None:
        statement = statement.where(Conversation.customer_connected_at == connected_at)
    session.execute(statement.values(customer_disconnected_at=utcnow()))


def transition(
    session: Session, *, conversation_id: str, target: str, actor: str, note: str | None = None,
    allowed_from: frozenset[str] | None = None, **changes: Any,
) -> str:
    """Move a conversation to `target`; returns the state it left. Raises IllegalTransition/StateConflict."""
    conversation = get_conversation(session, conversation_id=conversation_id)
    current = conversation.state
    if allowed_from is not None and current not in allowed_from:
        raise StateConflict(current_state=current, message=f"The conversation is {current}.")
    check_transition(current, target)
    now = utcnow()
    table = table_of(Conversation)
    changed = rows_changed(session, update(table)
                           .where(table.c.id == conversation_id, table.c.state == current)
                           .values(state=target, updated_at=now, **changes))
    if changed != 1:
        # Someone else moved it between our read and our write.
        session.expire(conversation)
        latest = get_conversation(session, conversation_id=conversation_id).state
        raise StateConflict(current_state=latest, message=f"The conversation is already {latest}.")
    session.add(StateChange(conversation_id=conversation_id, from_state=current, to_state=target, actor=actor,
                            note=note, at=now))
    session.expire(conversation)
    return current


def audit(session: Session, *, actor: str, action: str, target: str | None = None,
          details: dict[str, Any] | None = None) -> None:
    session.add(AuditEntry(actor=actor, action=action, target=target, details=details, at=utcnow()))


def waiting_conversations(session: Session) -> list[Conversation]:
    return list(session.scalars(
        select(Conversation).where(Conversation.state.in_((State.QUEUED.value, State.TICKET.value)))
    ))


def queued_and_gone_before(session: Session, *, cutoff: datetime) -> list[str]:
    """Queued conversations whose customer disconnected before `cutoff` and has not come back."""
    return list(session.scalars(select(Conversation.id).where(
        Conversation.state == State.QUEUED, Conversation.customer_disconnected_at.is_not(None),
        Conversation.customer_disconnected_at < cutoff)))


def allocate_ticket_number(session: Session) -> str:
    for _ in range(10):
        candidate = "TCK-" + uuid.uuid4().hex[:8].upper()
        if session.scalar(select(Conversation.id).where(Conversation.ticket_number == candidate)) is None:
            return candidate
    raise RuntimeError("could not allocate a unique ticket number")
