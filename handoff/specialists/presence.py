"""Online or away (issue 17): an away specialist's console stays connected, but they do not count as online
for queue ETAs or for queueing instead of making a ticket (store.online_specialist_count)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from handoff.conversations import store
from handoff.models import StaffUser
from handoff.specialists.staff import Staff


def status_of(session: Session, *, staff: Staff) -> str:
    user = session.get(StaffUser, staff.id)
    return "away" if user is not None and user.away else "online"


def set_status(session: Session, *, staff: Staff, status: str) -> str:
    user = session.get(StaffUser, staff.id)
    if user is not None and user.away != (status == "away"):
        user.away = status == "away"
        store.audit(session, actor=staff.actor, action=f"presence_{status}", target=staff.username)
    return status
