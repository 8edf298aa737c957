"""Internal notes on a conversation (issue 17): written and read by the staff whose work needs the chat
(work_access), never a message: not in the widget's frames or replay, never sent to Rasa. Consoles watching
the conversation get the note live; every note is audited (`add_note`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.conversations import store
from handoff.errors import ServiceError
from handoff.models import ConversationNote, StaffUser
from handoff.pubsub import conversation_channel
from handoff.specialists import work_access
from handoff.specialists.staff import Staff

if TYPE_CHECKING:
    from handoff.context import Services


def note_out(note: ConversationNote, author: StaffUser) -> dict[str, Any]:
    return {"id": note.id, "conversation_id": note.conversation_id, "text": note.text,
            "author": {"username": author.username, "display_name": author.display_name},
            "created_at": note.created_at.isoformat()}


def notes_of(session: Session, *, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's notes, oldest first (the caller checked who may read them)."""
    rows = session.execute(select(ConversationNote, StaffUser)
                           .join(StaffUser, StaffUser.id == ConversationNote.author_id)
                           .where(ConversationNote.conversation_id == conversation_id)
                           .order_by(ConversationNote.id))
    return [note_out(note, author) for note, author in rows]


def _add(session: Session, *, conversation_id: str, staff: Staff, text: str) -> dict[str, Any] | None:
    conversation = store.get_conversation(session, conversation_id=conversation_id)
    reason = work_access.reason_to_see(session, conversation=conversation, staff=staff)
    if reason is None:
        store.audit(session, actor=staff.actor, action="add_note_refused", target=conversation_id,
                    details={"reason": "not_their_work"})
        return None
    note = ConversationNote(conversation_id=conversation_id, author_id=staff.id, text=text)
    session.add(note)
    session.flush()
    store.audit(session, actor=staff.actor, action="add_note", target=conversation_id,
                details={"note_id": note.id, "reason": reason, "chars": len(text)})
    author = session.get(StaffUser, staff.id)
    assert author is not None
    return note_out(note, author)


async def add_note(*, services: Services, conversation_id: str, staff: Staff, text: str) -> dict[str, Any]:
    text = text.strip()
    if not text:
        raise ServiceError(status_code=422, code="empty_note", message="Write something in the note.")
    try:
        note = await services.run(_add, conversation_id=conversation_id, staff=staff, text=text)
    except store.ConversationNotFound:
        raise ServiceError(status_code=404, code="conversation_not_found", message="No such chat.") from None
    if note is None:  # refused after the transaction, so the refusal's audit entry is kept
        raise work_access.refusal()
    # Only consoles forward "note" events (console_socket.py); the widget's socket ignores the kind.
    await services.pubsub.publish(conversation_channel(conversation_id), {"kind": "note", "note": note})
    return note
