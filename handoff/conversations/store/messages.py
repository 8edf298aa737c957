"""Messages: gap-free sequence numbers, lookups, and a customer message's bot turn claimed by one worker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from handoff.conversations.store.conversations import ConversationNotFound, rows_changed, table_of
from handoff.db import utcnow
from handoff.models import Conversation, Message
from handoff.vocabulary import Sender


def next_seq(session: Session, *, conversation_id: str) -> int:
    table = table_of(Conversation)
    seq: int | None = session.execute(
        update(table).where(table.c.id == conversation_id).values(last_seq=table.c.last_seq + 1)
        .returning(table.c.last_seq)
    ).scalar_one_or_none()
    if seq is None:
        raise ConversationNotFound(conversation_id)
    return seq


def append_message(
    session: Session, *, conversation_id: str, sender: str, text: str,
    buttons: list[dict[str, str]] | None = None,
    custom: dict[str, Any] | None = None, agent_name: str | None = None, client_id: str | None = None,
    payload: str | None = None, processed: bool = True, human_phase: bool = False,
) -> Message:
    message = Message(
        conversation_id=conversation_id, seq=next_seq(session, conversation_id=conversation_id),
        sender=sender,
        text=text, buttons=buttons or None, custom=custom, agent_name=agent_name, client_id=client_id,
        payload=payload, processed=processed, human_phase=human_phase, created_at=utcnow(),
    )
    session.add(message)
    session.flush()
    return message


def get_message(session: Session, *, message_id: int) -> Message | None:
    return session.get(Message, message_id)


def find_message_by_client_id(session: Session, *, conversation_id: str, client_id: str) -> Message | None:
    return session.scalars(
        select(Message).where(Message.conversation_id == conversation_id, Message.client_id == client_id)
    ).first()


def conversation_and_client_message(session: Session, *, conversation_id: str,
                                    client_id: str) -> tuple[Conversation, Message | None]:
    """The conversation and its message with this client_id (None: not stored yet), in one statement."""
    row = session.execute(
        select(Conversation, Message).outerjoin(Message, and_(Message.conversation_id == Conversation.id,
                                                              Message.client_id == client_id))
        .where(Conversation.id == conversation_id)
    ).first()
    if row is None:
        raise ConversationNotFound(conversation_id)
    return row[0], row[1]


def messages_after(session: Session, *, conversation_id: str, after_seq: int,
                   limit: int = 500) -> list[Message]:
    return list(session.scalars(
        select(Message).where(Message.conversation_id == conversation_id, Message.seq > after_seq)
        .order_by(Message.seq).limit(limit)
    ))


def current_questions(session: Session, *, conversation_id: str) -> list[Message]:
    """The bot's and system's messages with buttons since the customer's last message, newest first: the
    question(s) still open. Any customer message answers them, so older buttons are stale."""
    answered_up_to = session.scalar(select(func.max(Message.seq)).where(
        Message.conversation_id == conversation_id, Message.sender == Sender.CUSTOMER)) or 0
    since = session.scalars(select(Message).where(
        Message.conversation_id == conversation_id, Message.seq > answered_up_to,
        Message.sender.in_((Sender.BOT, Sender.SYSTEM))).order_by(Message.seq.desc()))
    return [message for message in since if message.buttons]


def human_phase_lines(session: Session, *, conversation_id: str, from_seq: int) -> list[Message]:
    """What the customer and the specialist wrote to each other from `from_seq` on, in order."""
    return list(session.scalars(select(Message).where(
        Message.conversation_id == conversation_id, Message.seq >= from_seq,
        Message.sender.in_((Sender.AGENT, Sender.CUSTOMER)),
        Message.human_phase.is_(True)).order_by(Message.seq)))


def unanswered_customer_message_ids(session: Session, *, conversation_id: str) -> list[int]:
    return list(session.scalars(select(Message.id).where(
        Message.conversation_id == conversation_id, Message.sender == Sender.CUSTOMER,
        Message.processed.is_(False)).order_by(Message.seq)))


# -- a customer message's turn: claimed by one worker, answered once ----------------------------------
# Conditional UPDATEs on the message row: on PostgreSQL a second writer waits for the first one's row lock and
# then re-checks the WHERE clause against the committed row; on SQLite every write transaction is serialised
# (BEGIN IMMEDIATE). Either way exactly one of two racing workers sees rowcount 1.

def claim_message(session: Session, *, message_id: int, claimant: str, now: datetime,
                  stale_before: datetime) -> bool:
    """Take the unanswered message for a turn, unless another worker renewed a claim after `stale_before`."""
    table = table_of(Message)
    return rows_changed(session, update(table).where(
        table.c.id == message_id, table.c.processed.is_(False),
        or_(table.c.claimed_at.is_(None), table.c.claimed_at < stale_before),
    ).values(claimed_by=claimant, claimed_at=now)) == 1


def earliest_unanswered(session: Session, *, conversation_id: str) -> Message | None:
    """The conversation's next turn: its oldest customer message the bot has not answered yet."""
    return session.scalars(
        select(Message).where(Message.conversation_id == conversation_id, Message.sender == Sender.CUSTOMER,
                              Message.processed.is_(False)).order_by(Message.seq).limit(1)
    ).first()


def claim_if_next(session: Session, *, conversation_id: str, message_id: int, seq: int, claimant: str,
                  now: datetime) -> bool:
    """Claim a customer message just stored, if it is the conversation's next turn: unanswered, unclaimed,
    and no earlier customer message unanswered (that one's turn comes first)."""
    table, earlier = table_of(Message), aliased(Message)
    return rows_changed(session, update(table).where(
        table.c.id == message_id, table.c.processed.is_(False), table.c.claimed_at.is_(None),
        ~exists().where(earlier.conversation_id == conversation_id, earlier.sender == Sender.CUSTOMER,
                        earlier.processed.is_(False), earlier.seq < seq),
    ).values(claimed_by=claimant, claimed_at=now)) == 1


def earliest_unanswered_with_conversation(session: Session, *,
                                          conversation_id: str) -> tuple[Message, Conversation] | None:
    """`earliest_unanswered` and its conversation, in one statement."""
    row = session.execute(
        select(Message, Conversation).join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.conversation_id == conversation_id, Message.sender == Sender.CUSTOMER,
               Message.processed.is_(False)).order_by(Message.seq).limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def renew_claim(session: Session, *, message_id: int, claimant: str, now: datetime) -> bool:
    """Keep a claim alive during its turn; False when it lapsed and was taken over, or the turn is done."""
    table = table_of(Message)
    return rows_changed(session, update(table).where(
        table.c.id == message_id, table.c.claimed_by == claimant, table.c.processed.is_(False),
    ).values(claimed_at=now)) == 1


def release_claim(session: Session, *, message_id: int, claimant: str) -> None:
    """Give an unfinished turn back at once (its worker failed or is stopping), if the claim is still ours."""
    table = table_of(Message)
    session.execute(
        update(table).where(table.c.id == message_id, table.c.claimed_by == claimant,
                            table.c.processed.is_(False))
        .values(claimed_by=None, claimed_at=None)
    )


def finish_message(session: Session, *, message_id: int) -> bool:
    """Mark the message answered; False if it already was (store nothing then: it has its answer)."""
    table = table_of(Message)
    return rows_changed(session, update(table).where(table.c.id == message_id, table.c.processed.is_(False))
                        .values(processed=True, claimed_by=None, claimed_at=None)) == 1
