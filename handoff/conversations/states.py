"""The conversation state machine: every state change goes through `check_transition`."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    BOT = "bot"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    TICKET = "ticket"
    ABANDONED = "abandoned"


ALLOWED_TRANSITIONS: dict[State, frozenset[State]] = {
    State.BOT: frozenset({State.QUEUED, State.TICKET}),
    # queued -> ticket: the shift ends while customers wait.
    State.QUEUED: frozenset({State.ASSIGNED, State.ABANDONED, State.TICKET}),
    # assigned -> queued is a release; assigned -> assigned is a transfer to a colleague.
    State.ASSIGNED: frozenset({State.QUEUED, State.ASSIGNED, State.RESOLVED}),
    State.RESOLVED: frozenset({State.BOT}),
    # A ticket is picked up by the next shift, or re-escalated live once someone is online.
    State.TICKET: frozenset({State.ASSIGNED, State.QUEUED}),
    # The customer came back after leaving the queue: the bot greets them again.
    State.ABANDONED: frozenset({State.BOT}),
}

# While a human owns (or is about to own) the conversation, nothing reaches the bot.
HUMAN_STATES = frozenset({State.QUEUED, State.ASSIGNED})
# States a specialist can claim from.
CLAIMABLE_STATES = frozenset({State.QUEUED, State.TICKET})


class IllegalTransition(Exception):
    def __init__(self, current: str, target: str):
        super().__init__(f"A conversation cannot go from '{current}' to '{target}'.")
        self.current = current
        self.target = target


def check_transition(current: str, target: str) -> State:
    """Return the target state if the move is legal, else raise IllegalTransition."""
    try:
        current_state, target_state = State(current), State(target)
    except ValueError:
        raise IllegalTransition(current, target) from None
    if target_state not in ALLOWED_TRANSITIONS[current_state]:
        raise IllegalTransition(current, target)
    return target_state


def sources_for(target: str) -> frozenset[State]:
    """Every state from which `target` may be reached (used in conditional UPDATEs)."""
    target_state = State(target)
    return frozenset(source for source, targets in ALLOWED_TRANSITIONS.items() if target_state in targets)
