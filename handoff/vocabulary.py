"""The handoff service's words, spelled once: staff roles, message senders, escalation reasons, outcomes.

Each is a StrEnum, so a member equals its string: the database columns stay plain strings and JSON shows
the same values as before (docs/contracts.md). Conversation states live with their transitions in
handoff/conversations/states.py.
"""

from __future__ import annotations

from enum import StrEnum


class StaffRole(StrEnum):
    SPECIALIST = "specialist"
    SUPERVISOR = "supervisor"
    TRAINER = "trainer"


# Roles that work on customer chats (claim, reply, transfer, resolve); a trainer only reviews and teaches.
CHAT_ROLES: frozenset[StaffRole] = frozenset({StaffRole.SPECIALIST, StaffRole.SUPERVISOR})


class Sender(StrEnum):
    """Who wrote a stored message (messages.sender)."""

    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class EscalationReason(StrEnum):
    """Why the bot handed a conversation to a human (POST /api/escalations "reason")."""

    DISPUTE = "dispute"
    REQUEST_HUMAN = "request_human"
    FALLBACK = "fallback"
    VERIFICATION_LOCKED = "verification_locked"
    BACKEND_UNAVAILABLE = "backend_unavailable"
    ARRANGEMENT_REQUEST = "arrangement_request"  # outside the arrangement policy: the payments team


class ResolveOutcome(StrEnum):
    """How a specialist closed a chat (the console's resolve button; told to Rasa as handoff_outcome)."""

    CREDIT_ISSUED = "credit_issued"
    DISPUTE_REJECTED = "dispute_rejected"
    EXPLAINED = "explained"


class DisputeDecision(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class AssignmentEnd(StrEnum):
    """Why a specialist's assignment to a chat ended (assignments.end_reason)."""

    RELEASED = "released"
    TRANSFERRED = "transferred"
    RESOLVED = "resolved"
