"""Read receipts (issue 17): a specialist has seen the customer's messages up to a seq.

"Seen" is what a console showed: the console sends `{"type": "seen", "conversation_id", "seq"}` for the
conversation open in front of the specialist (specialists/console_socket.py); the widget gets
`{"type": "read", "seq"}` live through the conversation's channel, and once after a reconnect's replay,
derived from the stored messages (every customer message before the latest specialist message). A bot answer
never marks a message read. Contract: docs/contracts.md, "Widget WebSocket protocol"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handoff.models import Message
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


async def seen(*, services: Services, conversation_id: str, seq: int) -> None:
    """A specialist saw the conversation up to `seq`: its widgets show the messages up to there "Read"."""
    await services.pubsub.publish(conversation_channel(conversation_id), {"kind": "read", "seq": seq})


def answered_seq(session: Session, *, conversation_id: str) -> int:
    """The last customer message before the latest specialist message (0: none): a person answered it."""
    last_agent = select(func.max(Message.seq)).where(Message.conversation_id == conversation_id,
                                                     Message.sender == Sender.AGENT).scalar_subquery()
    seq = session.scalar(select(func.max(Message.seq)).where(Message.conversation_id == conversation_id,
                                                             Message.sender == Sender.CUSTOMER,
                                                             Message.seq < last_agent))
    return int(seq or 0)


async def replay(*, services: Services, conversation_id: str) -> dict[str, Any] | None:
    """The `read` frame a (re)connected widget gets after the replay, or None when nothing was read."""
    seq = await services.run(answered_seq, conversation_id=conversation_id)
    return read_frame(seq) if seq else None
