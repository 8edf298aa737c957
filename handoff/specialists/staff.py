"""Who is acting: a signed-in member of staff, as the use cases and the audit log name them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    display_name: str
    role: str
    teams: tuple[str, ...] = ()  # handoff/queue/teams.py; a supervisor works every team's queue

    @property
    def actor(self) -> str:
        """How the audit log and the backend's X-Actor name them: `<role>:<username>`."""
        return f"{self.role}:{self.username}"
