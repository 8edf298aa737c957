"""Synchronous database operations on conversations and messages (run in worker threads).

Every state change goes through `transition`, which validates it with the state machine and applies
it with a conditional UPDATE, so concurrent replicas cannot both win the same move.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handoff.conversations.states import IllegalTransition, State, check_transition
from handoff.db import utcnow
from handoff.models import Assignment, AuditEntry, Conversation, Message, StaffUser, StateChange


class ConversationNotFound(Exception):
    pass


class StateConflict(Exception):
    """The conversation changed under us (e.g. another specialist claimed it first)."""

    def __init__(self, *, current_state: str, message: str):
        super().__init__(message)
        self.current_state = current_state


def new_conversation_id() -> str:
    return uuid.uuid4().hex


def create_conversation(session: Session, *, customer_id: int | None, customer_name: str | None) -> Conversation:
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


def next_seq(session: Session, *, conversation_id: str) -> int:
    table = Conversation.__table__
    seq = session.execute(
        update(table).where(table.c.id == conversation_id).values(last_seq=table.c.last_seq + 1)
        .returning(table.c.last_seq)
    ).scalar_one_or_none()
    if seq is None:
        raise ConversationNotFound(conversation_id)
    return seq


def append_message(
    session: Session, *, conversation_id: str, sender: str, text: str, buttons: list | None = None,
    custom: dict | None = None, agent_name: str | None = None, client_id: str | None = None,
    payload: str | None = None, processed: bool = True, human_phase: bool = False,
) -> Message:
    message = Message(
        conversation_id=conversation_id, seq=next_seq(session, conversation_id=conversation_id), sender=sender,
        text=text, buttons=buttons or None, custom=custom, agent_name=agent_name, client_id=client_id,
        payload=payload, processed=processed, human_phase=human_phase, created_at=utcnow(),
    )
    session.add(message)
    session.flush()
    return message


def find_message_by_client_id(session: Session, *, conversation_id: str, client_id: str) -> Message | None:
    return session.scalars(
        select(Message).where(Message.conversation_id == conversation_id, Message.client_id == client_id)
    ).first()


def messages_after(session: Session, *, conversation_id: str, after_seq: int, limit: int = 500) -> list[Message]:
    return list(session.scalars(
        select(Message).where(Message.conversation_id == conversation_id, Message.seq > after_seq)
        .order_by(Message.seq).limit(limit)
    ))


# -- a customer message's turn: claimed by one worker, answered once ----------------------------------
# Conditional UPDATEs on the message row: on PostgreSQL a second writer waits for the first one's row lock and
# then re-checks the WHERE clause against the committed row; on SQLite every write transaction is serialised
# (BEGIN IMMEDIATE). Either way exactly one of two racing workers sees rowcount 1.

def claim_message(session: Session, *, message_id: int, claimant: str, now: datetime,
                  stale_before: datetime) -> bool:
    """Take the unanswered message for a turn, unless another worker holds a claim renewed since `stale_before`."""
    table = Message.__table__
    result = session.execute(
        update(table).where(table.c.id == message_id, table.c.processed.is_(False),
                            or_(table.c.claimed_at.is_(None), table.c.claimed_at < stale_before))
        .values(claimed_by=claimant, claimed_at=now)
    )
    return result.rowcount == 1


def earliest_unanswered(session: Session, *, conversation_id: str) -> Message | None:
    """The conversation's next turn: its oldest customer message the bot has not answered yet."""
    return session.scalars(
        select(Message).where(Message.conversation_id == conversation_id, Message.sender == "customer",
                              Message.processed.is_(False)).order_by(Message.seq).limit(1)
    ).first()


def renew_claim(session: Session, *, message_id: int, claimant: str, now: datetime) -> bool:
    """Keep a claim alive while its turn runs; False when it lapsed and was taken over, or the turn is done."""
    table = Message.__table__
    result = session.execute(
        update(table).where(table.c.id == message_id, table.c.claimed_by == claimant, table.c.processed.is_(False))
        .values(claimed_at=now)
    )
    return result.rowcount == 1


def release_claim(session: Session, *, message_id: int, claimant: str) -> None:
    """Give an unfinished turn back at once (its worker failed or is stopping), if the claim is still ours."""
    table = Message.__table__
    session.execute(
        update(table).where(table.c.id == message_id, table.c.claimed_by == claimant, table.c.processed.is_(False))
        .values(claimed_by=None, claimed_at=None)
    )


def finish_message(session: Session, *, message_id: int) -> bool:
    """Mark the message answered; False if it already was (store nothing then: it has its answer)."""
    table = Message.__table__
    result = session.execute(
        update(table).where(table.c.id == message_id, table.c.processed.is_(False))
        .values(processed=True, claimed_by=None, claimed_at=None)
    )
    return result.rowcount == 1


def transition(
    session: Session, *, conversation_id: str, target: str, actor: str, note: str | None = None,
    allowed_from: frozenset[str] | None = None, **changes,
) -> str:
    """Move a conversation to `target`; returns the state it left. Raises IllegalTransition/StateConflict."""
    conversation = get_conversation(session, conversation_id=conversation_id)
    current = conversation.state
    if allowed_from is not None and current not in allowed_from:
        raise StateConflict(current_state=current, message=f"The conversation is {current}.")
    check_transition(current, target)
    now = utcnow()
    result = session.execute(
        update(Conversation.__table__)
        .where(Conversation.__table__.c.id == conversation_id, Conversation.__table__.c.state == current)
        .values(state=target, updated_at=now, **changes)
    )
    if result.rowcount != 1:
        # Someone else moved it between our read and our write.
        session.expire(conversation)
        latest = get_conversation(session, conversation_id=conversation_id).state
        raise StateConflict(current_state=latest, message=f"The conversation is already {latest}.")
    session.add(StateChange(conversation_id=conversation_id, from_state=current, to_state=target, actor=actor,
                            note=note, at=now))
    session.expire(conversation)
    return current


def audit(session: Session, *, actor: str, action: str, target: str | None = None, details: dict | None = None) -> None:
    session.add(AuditEntry(actor=actor, action=action, target=target, details=details, at=utcnow()))


def open_assignment(session: Session, *, conversation_id: str) -> Assignment | None:
    return session.scalars(
        select(Assignment).where(Assignment.conversation_id == conversation_id, Assignment.ended_at.is_(None))
        .order_by(Assignment.id.desc())
    ).first()


def end_assignment(session: Session, *, conversation_id: str, reason: str) -> None:
    assignment = open_assignment(session, conversation_id=conversation_id)
    if assignment is not None:
        assignment.ended_at = utcnow()
        assignment.end_reason = reason


def online_specialist_count(session: Session, *, now: datetime, timeout_seconds: int) -> int:
    return session.scalar(
        select(func.count()).select_from(StaffUser).where(
            StaffUser.active.is_(True), StaffUser.role.in_(("specialist", "supervisor")),
            StaffUser.last_seen_at > now - timedelta(seconds=timeout_seconds),
        )
    ) or 0


def recent_handling_seconds(session: Session, *, now: datetime) -> list[float]:
    rows = session.execute(
        select(Assignment.started_at, Assignment.ended_at).where(
            Assignment.end_reason == "resolved", Assignment.ended_at > now - timedelta(hours=24)
        )
    ).all()
    return [(ended - started).total_seconds() for started, ended in rows if ended and started]


def waiting_conversations(session: Session) -> list[Conversation]:
    return list(session.scalars(
        select(Conversation).where(Conversation.state.in_((State.QUEUED.value, State.TICKET.value)))
    ))


def allocate_ticket_number(session: Session) -> str:
    for _ in range(10):
        candidate = "TCK-" + uuid.uuid4().hex[:8].upper()
        if session.scalar(select(Conversation.id).where(Conversation.ticket_number == candidate)) is None:
            return candidate
    raise RuntimeError("could not allocate a unique ticket number")


__all__ = [
    "ConversationNotFound", "IllegalTransition", "IntegrityError", "StateConflict", "allocate_ticket_number",
    "append_message", "audit", "claim_message", "create_conversation", "earliest_unanswered", "end_assignment",
    "find_message_by_client_id", "finish_message", "get_conversation", "messages_after", "next_seq",
    "online_specialist_count", "open_assignment", "recent_handling_seconds", "release_claim", "renew_claim",
    "transition", "waiting_conversations",
]
