"""All tables of the handoff service (imported by Alembic's env.py)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from handoff.db import Base, UTCDateTime, utcnow


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))  # a handoff.vocabulary.StaffRole
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Console heartbeat; "online" = seen within the presence timeout.
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # "Away" in the console: connected, but not counted as online (ETAs, ticket-or-queue).
    away: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The teams whose queue they work (handoff/queue/teams.py), comma-separated: "disputes,general".
    teams: Mapped[str] = mapped_column(String(100), default="general", server_default="general")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffSession(Base):
    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    # Idle expiry: the last request made with this session (None = never used since sign-in).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    customer_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    state: Mapped[str] = mapped_column(String(20), default="bot")
    # Sequence counter: incremented by a conditional UPDATE for every stored message.
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    assigned_specialist_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    escalation_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)  # EscalationReason
    context: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    dispute_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    dispute_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    ticket_number: Mapped[str | None] = mapped_column(String(32), nullable=True, unique=True)
    # First seq of the current human phase (so Rasa can be told about it on resolve).
    human_phase_start_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    escalation_count: Mapped[int] = mapped_column(Integer, default=0)
    csat_score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    resolution_outcome: Mapped[str | None] = mapped_column(String(40), nullable=True)  # ResolveOutcome
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    customer_connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    customer_disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # "chat" (the widget) or "email" (handoff/email/, issue 19); an email conversation is answered by email,
    # to the address of its latest inbound message, under its subject.
    channel: Mapped[str] = mapped_column(String(10), default="chat", server_default="chat")
    email_address: Mapped[str | None] = mapped_column(String(254), nullable=True)
    email_subject: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The team whose queue it waits in (picked by the escalation reason, changed by a transfer to a team) and
    # when supervisors were told it waited past the team's SLA (once per wait; cleared when it queues again).
    team: Mapped[str | None] = mapped_column(String(20), nullable=True)
    sla_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Read receipts: a specialist's console showed the customer's messages up to this seq (0: none yet).
    read_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (Index("ix_conversations_state", "state"),)


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"))
    seq: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(20))  # a handoff.vocabulary.Sender
    text: Mapped[str] = mapped_column(Text, default="")
    buttons: Mapped[list | None] = mapped_column(JSON, nullable=True)
    custom: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    agent_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    payload: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Set once the bot replied (or the message went to a human): lets a resend after a crash finish the turn.
    processed: Mapped[bool] = mapped_column(Boolean, default=False)
    # A customer message's bot turn is run by one worker at a time (two tabs, two replicas): the worker that
    # claimed it (conditional UPDATE) and when it last renewed the claim; a claim not renewed lapses.
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    human_phase: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        UniqueConstraint("conversation_id", "client_id", name="uq_messages_conversation_client_id"),
    )


class StateChange(Base):
    __tablename__ = "state_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Assignment(Base):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    specialist_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)  # vocabulary.AssignmentEnd


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))  # role:username, or system
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(200), nullable=True)
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class ConversationNote(Base):
    """An internal note on a conversation: staff only, never a message (not in the widget, not to Rasa)."""

    __tablename__ = "conversation_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CannedResponse(Base):
    """A reply supervisors keep for specialists, with {placeholders} filled from the customer's account."""

    __tablename__ = "canned_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(100))  # role:username
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CreditRequest(Base):
    """A credit without a dispute asked for in the console: issued at once up to the approval limit, else
    pending until a supervisor other than the maker approves or rejects it."""

    __tablename__ = "credit_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    reason_code: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text)
    invoice_number: Mapped[str | None] = mapped_column(String(40), nullable=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    request_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))  # issued | pending_approval | rejected
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    backend_credit_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("requested_by_id", "request_id", name="uq_credit_requests_maker_request"),
        Index("ix_credit_requests_status", "status"),
    )


class EmailMessage(Base):
    """A Message-ID seen (inbound) or sent (outbound) in an email conversation: threads replies (In-Reply-To,
    References), refuses a webhook delivered twice, and counts a sender's emails (loop protection)."""

    __tablename__ = "email_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The Message-ID as written (<...>), or "sha256:<hex>" of a longer one.
    message_key: Mapped[str] = mapped_column(String(255), unique=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" | "out"
    from_address: Mapped[str | None] = mapped_column(String(254), nullable=True)
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the stored message (inbound)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_email_messages_from_created", "from_address", "created_at"),)
