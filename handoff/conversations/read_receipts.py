"""Read receipts (issue 17): a specialist has seen the customer's messages up to a seq.

"Seen" is what a console showed: the console sends `{"type": "seen", "conversation_id", "seq"}` for the
conversation open in front of the specialist (specialists/console_socket.py); the widget gets
`{"type": "read", "seq"}` live through the conversation's channel, and once after a reconnect's replay,
derived from the stored messages (every customer message before the latest specialist message). A bot answer
never marks a message read. Contract: docs/contracts.md, "Widget WebSocket protocol"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from handoff.conversations import store
from handoff.conversations.store.conversations import table_of
from handoff.models import Conversation, Message
from handoff.pubsub import conversation_channel
from handoff.vocabulary import Sender

if TYPE_CHECKING:
    from handoff.context import Services

MAX_SEQ = 2**31 - 1


def read_frame(seq: int) -> dict[str, Any]:
    return {"type": "read", "seq": seq}


def seen_seq_of(frame: dict[str, Any]) -> int | None:
    """The seq a console's `seen` frame names, when it is a plausible one."""
    seq = frame.get("seq")
    return seq if isinstance(seq, int) and not isinstance(seq, bool) and 1 <= seq <= MAX_SEQ else None


def store_seen(session: Session, *, conversation_id: str, seq: int) -> int:
    """Keep the read position (never lowered, never past the last message); the position now."""
    conversation = store.find_conversation(session, conversation_id=conversation_id)
    if conversation is None:
        return 0
    seq = min(seq, conversation.last_seq)
    table = table_of(Conversation)
    session.execute(update(table).where(table.c.id == conversation_id, table.c.read_seq < seq)
                    .values(read_seq=seq))
    return max(seq, conversation.read_seq or 0)


async def seen(*, services: Services, conversation_id: str, seq: int) -> None:
    """A specialist saw the conversation up to `seq`: stored, and its widgets show the messages up to there
    "Read"."""
    position = await services.run(store_seen, conversation_id=conversation_id, seq=seq)
    if position:
        await services.pubsub.publish(conversation_channel(conversation_id),
                                      {"kind": "read", "seq": position})


def answered_seq(session: Session, *, conversation_id: str) -> int:
    """The last customer message before the latest specialist message (0: none): a person answered it."""
    last_agent = select(func.max(Message.seq)).where(Message.conversation_id == conversation_id,
                                                     Message.sender == Sender.AGENT).scalar_subquery()
    seq = session.scalar(select(func.max(Message.seq)).where(Message.conversation_id == conversation_id,
                                                             Message.sender == Sender.CUSTOMER,
                                                             Message.seq < last_agent))
    return int(seq or 0)


def read_seq(session: Session, *, conversation_id: str) -> int:
    """How far the customer's messages were read: the stored position, or what a specialist answered."""
    stored = session.scalar(select(Conversation.read_seq).where(Conversation.id == conversation_id))
    return max(int(stored or 0), answered_seq(session, conversation_id=conversation_id))


async def replay(*, services: Services, conversation_id: str) -> dict[str, Any] | None:
    """The `read` frame a (re)connected widget gets after the replay, or None when nothing was read."""
    seq = await services.run(read_seq, conversation_id=conversation_id)
    return read_frame(seq) if seq else None
