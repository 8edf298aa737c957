"""Synchronous database operations on conversations, messages and assignments (run in worker threads, one
transaction per use case). The only place in handoff/conversations, handoff/queue and handoff/assignments
that writes SQL; split by table: `conversations`, `messages` (and turn claims), `staff`.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from handoff.conversations.states import IllegalTransition
from handoff.conversations.store.conversations import (
    ConversationNotFound,
    StateConflict,
    allocate_ticket_number,
    audit,
    create_conversation,
    find_conversation,
    get_conversation,
    mark_customer_connected,
    mark_customer_disconnected,
    new_conversation_id,
    queued_and_gone_before,
    transition,
    update_conversation,
    waiting_conversations,
)
from handoff.conversations.store.messages import (
    append_message,
    claim_if_next,
    claim_message,
    conversation_and_client_message,
    current_questions,
    earliest_unanswered,
    earliest_unanswered_with_conversation,
    find_message_by_client_id,
    finish_message,
    get_message,
    human_phase_lines,
    messages_after,
    next_seq,
    release_claim,
    renew_claim,
    unanswered_customer_message_ids,
)
from handoff.conversations.store.staff import (
    end_assignment,
    find_staff_by_username,
    get_staff,
    online_specialist_count,
    open_assignment,
    recent_handling_seconds,
    set_presence,
    start_assignment,
)
from handoff.db import utcnow

__all__ = [
    "ConversationNotFound", "IllegalTransition", "IntegrityError", "StateConflict", "allocate_ticket_number",
    "append_message", "audit", "claim_if_next", "claim_message", "conversation_and_client_message",
    "create_conversation", "current_questions", "earliest_unanswered",
    "earliest_unanswered_with_conversation",
    "end_assignment", "find_conversation", "find_message_by_client_id", "find_staff_by_username",
    "finish_message",
    "get_conversation", "get_message", "get_staff", "human_phase_lines", "mark_customer_connected",
    "mark_customer_disconnected", "messages_after", "new_conversation_id", "next_seq",
    "online_specialist_count",
    "open_assignment", "queued_and_gone_before", "recent_handling_seconds", "release_claim", "renew_claim",
    "set_presence", "start_assignment", "transition", "unanswered_customer_message_ids",
    "update_conversation",
    "utcnow", "waiting_conversations",
]
