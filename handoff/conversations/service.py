"""The handoff service's behaviour: who speaks (bot or human), queueing, claims, resolution.

Database work runs in worker threads (sync SQLAlchemy); every change is committed before it is
published or acknowledged. Pub/sub only notifies live connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from handoff.clients.backend import BackendClient
from handoff.clients.rasa import BotReply, RasaClient, RasaUnavailable
from handoff.config import Settings
from handoff.conversations import store
from handoff.conversations.frames import message_frame, status_frame
from handoff.conversations.input_limits import MAX_PAYLOAD_CHARS
from handoff.conversations.redaction import redact
from handoff.conversations.states import CLAIMABLE_STATES, HUMAN_STATES, State
from handoff.db import Database, utcnow
from handoff.models import Conversation, Message, StaffUser
from handoff.pubsub import QUEUE_CHANNEL, PubSub, conversation_channel, staff_channel
from handoff.queue.hours import is_open, next_opening, parse_business_hours
from handoff.queue.ordering import QueueEntry, expected_wait_seconds, order_queue, position_of

log = logging.getLogger(__name__)

HUMAN_REQUEST_PAYLOAD = "/handoff_human"  # handled here, never sent to Rasa
RATE_CHAT_PAYLOAD = re.compile(r'^/rate_chat(\{.*\})?$')
ESCALATION_REASONS = {"dispute", "request_human", "fallback", "verification_locked", "backend_unavailable"}
RESOLUTION_OUTCOMES = {"credit_issued", "dispute_rejected", "explained"}
CLAIM_RENEWALS_PER_PERIOD = 5  # a turn's claim is renewed every turn_claim_seconds / 5
CSAT_BUTTONS = [{"title": str(n), "payload": f'/rate_chat{{"csat_score":"{n}"}}'} for n in range(1, 6)]
# Entity-free intents a customer may send as a payload without a button: what they could type anyway
# (docs/contracts.md). Entities, ratings and EXTERNAL_* come only from a button of the current question.
CUSTOMER_INTENTS = frozenset({
    "check_balance", "ask_due_date", "list_charges", "explain_charge", "explain_bill_increase", "payment_status",
    "how_to_pay", "dispute_charge", "request_human", "greet", "goodbye", "thank", "affirm", "deny",
    "bot_challenge", "what_can_you_do",
})
_ENTITY_FREE_PAYLOAD = re.compile(r"^/([a-z_]{1,64})$")
_LEADING_SLASHES = re.compile(r"^[\s/]+")


class ServiceError(Exception):
    """A refusal with a clear, user-facing message."""

    def __init__(self, *, status_code: int, code: str, message: str):
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message


class PayloadNotOffered(ServiceError):
    """A customer payload that is neither a button of the current question nor an allowed customer intent."""

    def __init__(self) -> None:
        super().__init__(status_code=422, code="payload_not_offered",
                         message="That option isn't available any more. Please type your question, "
                                 "or choose one of the latest options.")


class StorageUnavailable(ServiceError):
    """The database cannot be reached (outage, failover): nothing was stored. `client_id` names the customer
    message that was not stored, when there is one."""

    def __init__(self, *, client_id: str | None = None):
        super().__init__(status_code=503, code="temporarily_unavailable",
                         message="Part of our system is briefly unavailable. Please try again in a moment.")
        self.client_id = client_id


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    display_name: str
    role: str

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.username}"


def new_claimant() -> str:
    """Names one attempt at a turn (host and process first, for whoever reads the messages table)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def parse_money(value: object) -> Decimal | None:
    if value is None or isinstance(value, float):
        return None
    try:
        amount = Decimal(str(value).replace("$", "").replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    return amount.quantize(Decimal("0.01")) if amount.is_finite() and amount >= 0 else None


def parse_csat(payload: str | None) -> int | None:
    """The score of a rating payload: an integer 1-5, as a whole number or its digit ("5.9", true -> None)."""
    match = RATE_CHAT_PAYLOAD.match(payload or "")
    if not match or not match.group(1) or len(payload) > MAX_PAYLOAD_CHARS:
        return None
    try:
        entities = json.loads(match.group(1))
    except (ValueError, RecursionError):
        return None
    score = entities.get("csat_score") if isinstance(entities, dict) else None
    if isinstance(score, str) and score in {"1", "2", "3", "4", "5"}:
        return int(score)
    return score if type(score) is int and 1 <= score <= 5 else None


def text_for_the_bot(text: str) -> str:
    """Typed text is never an intent: Rasa reads a message starting with `/` as one, so those slashes go."""
    return _LEADING_SLASHES.sub("", text) or "…"


def current_questions(session: Session, *, conversation_id: str) -> list[Message]:
    """The bot's and system's messages with buttons since the customer's last message, newest first: the
    question(s) still open. Any customer message answers them, so older buttons are stale."""
    answered_up_to = session.scalar(select(func.max(Message.seq)).where(
        Message.conversation_id == conversation_id, Message.sender == "customer")) or 0
    since = session.scalars(select(Message).where(
        Message.conversation_id == conversation_id, Message.seq > answered_up_to,
        Message.sender.in_(("bot", "system"))).order_by(Message.seq.desc()))
    return [message for message in since if message.buttons]


def offered_payload(session: Session, *, conversation_id: str, payload: str) -> tuple[str, Message | None]:
    """The payload as offered (a button of a current question, or an allowed customer intent) and the
    question it answers (None for an intent). Raises PayloadNotOffered for anything else."""
    for question in current_questions(session, conversation_id=conversation_id):
        for button in question.buttons:
            if isinstance(button, dict) and button.get("payload") == payload:
                return button["payload"], question
    intent = _ENTITY_FREE_PAYLOAD.match(payload)
    if intent and intent.group(1) in CUSTOMER_INTENTS:
        return payload, None
    raise PayloadNotOffered()


class HandoffService:
    def __init__(self, *, settings: Settings, db: Database, pubsub: PubSub, rasa: RasaClient,
                 backend: BackendClient):
        self.settings = settings
        self.db = db
        self.pubsub = pubsub
        self.rasa = rasa
        self.backend = backend
        self.hours = parse_business_hours(settings.business_hours)
        self.turns_in_flight: set[asyncio.Task] = set()

    # -- plumbing -------------------------------------------------------------------------------

    def _in_session(self, fn, kwargs):
        with self.db.session() as session:
            return fn(session, **kwargs)

    async def _db(self, fn, /, **kwargs):
        try:
            return await asyncio.to_thread(self._in_session, fn, kwargs)
        except (OperationalError, InterfaceError) as error:
            log.warning("database unavailable: %s", getattr(error, "orig", error))
            raise StorageUnavailable() from error

    async def _publish_messages(self, conversation_id: str, messages: list[Message]) -> None:
        for message in messages:
            await self.pubsub.publish(conversation_channel(conversation_id),
                                      {"kind": "message", "frame": message_frame(message)})

    async def _publish_status(self, conversation_id: str) -> None:
        frame = await self.status_for(conversation_id=conversation_id)
        await self.pubsub.publish(conversation_channel(conversation_id), {"kind": "status", "frame": frame})

    # -- queue figures --------------------------------------------------------------------------

    def _ordered_queue(self, session: Session, now: datetime) -> tuple[list[QueueEntry], dict[str, Conversation]]:
        waiting = store.waiting_conversations(session)
        entries = [
            QueueEntry(conversation_id=c.id, state=c.state, reason=c.escalation_reason,
                       dispute_amount=c.dispute_amount, queued_at=c.queued_at or c.updated_at)
            for c in waiting
        ]
        return order_queue(entries, now=now), {c.id: c for c in waiting}

    def _eta(self, session: Session, *, position: int, now: datetime) -> int:
        return expected_wait_seconds(
            position=position,
            recent_handling_seconds=store.recent_handling_seconds(session, now=now),
            online_specialists=store.online_specialist_count(
                session, now=now, timeout_seconds=self.settings.presence_timeout_seconds),
            default_handling_seconds=self.settings.default_handling_seconds,
        )

    def _status_in_session(self, session: Session, *, conversation_id: str) -> dict:
        conversation = store.get_conversation(session, conversation_id=conversation_id)
        now = utcnow()
        if conversation.state == State.QUEUED:
            ordered, _ = self._ordered_queue(session, now)
            position = position_of(conversation.id, ordered) or 1
            return status_frame(state=conversation.state, position=position,
                                eta_seconds=self._eta(session, position=position, now=now))
        if conversation.state == State.TICKET:
            return status_frame(state=conversation.state, ticket_number=conversation.ticket_number,
                                contact=self.settings.ticket_contact)
        if conversation.state == State.ASSIGNED and conversation.assigned_specialist_id:
            specialist = session.get(StaffUser, conversation.assigned_specialist_id)
            return status_frame(state=conversation.state, agent_name=specialist.display_name if specialist else None)
        return status_frame(state=conversation.state)

    async def status_for(self, *, conversation_id: str) -> dict:
        return await self._db(self._status_in_session, conversation_id=conversation_id)

    def _queue_snapshot_in_session(self, session: Session) -> list[dict]:
        now = utcnow()
        ordered, by_id = self._ordered_queue(session, now)
        snapshot = []
        for position, entry in enumerate(ordered, start=1):
            conversation = by_id[entry.conversation_id]
            context = conversation.context or {}
            snapshot.append({
                "conversation_id": conversation.id,
                "position": position,
                "state": conversation.state,
                "reason": conversation.escalation_reason,
                "customer_id": conversation.customer_id,
                "customer_name": conversation.customer_name,
                "dispute_amount": f"{conversation.dispute_amount:.2f}" if conversation.dispute_amount is not None else None,
                "ticket_number": conversation.ticket_number,
                "summary": context.get("summary"),
                "queued_at": entry.queued_at.isoformat(),
                "waiting_seconds": int((now - entry.queued_at).total_seconds()),
            })
        return snapshot

    async def queue_snapshot(self) -> list[dict]:
        return await self._db(self._queue_snapshot_in_session)

    async def broadcast_queue(self, *, new_chat: str | None = None) -> None:
        """Tell consoles the queue changed and every waiting customer their new position."""
        snapshot = await self.queue_snapshot()
        await self.pubsub.publish(QUEUE_CHANNEL, {"kind": "queue", "entries": snapshot, "new_chat": new_chat})
        for entry in snapshot:
            if entry["state"] == State.QUEUED:
                await self._publish_status(entry["conversation_id"])

    # -- customer side --------------------------------------------------------------------------

    def _start_in_session(self, session: Session, *, customer_id: int | None, customer_name: str | None,
                          conversation_id: str | None) -> tuple[Conversation, bool]:
        if conversation_id:
            try:
                conversation = store.get_conversation(session, conversation_id=conversation_id)
            except store.ConversationNotFound:
                conversation = None
            # A conversation belongs to the customer who started it (anonymous ones to whoever holds the id).
            if conversation is not None and conversation.customer_id == customer_id:
                if conversation.state == State.ABANDONED:
                    store.transition(session, conversation_id=conversation.id, target=State.BOT, actor="customer",
                                     note="customer came back")
                    store.append_message(session, conversation_id=conversation.id, sender="system",
                                         text="Welcome back! You're chatting with the Acme assistant again.")
                now = utcnow()
                session.execute(update(Conversation).where(Conversation.id == conversation.id)
                                .values(customer_connected_at=now, customer_disconnected_at=None))
                return store.get_conversation(session, conversation_id=conversation.id), False
        conversation = store.create_conversation(session, customer_id=customer_id, customer_name=customer_name)
        conversation.customer_connected_at = utcnow()
        greeting = f"Hi {customer_name}! " if customer_name else "Hi! "
        store.append_message(
            session, conversation_id=conversation.id, sender="bot",
            text=greeting + "I'm the Acme billing assistant. Ask me about your balance, a charge, or a payment.",
        )
        return conversation, True

    async def start_conversation(self, *, customer_id: int | None, customer_name: str | None,
                                 conversation_id: str | None) -> Conversation:
        conversation, _created = await self._db(self._start_in_session, customer_id=customer_id,
                                                customer_name=customer_name, conversation_id=conversation_id)
        return conversation

    async def customer_disconnected(self, *, conversation_id: str, connected_at: datetime | None) -> None:
        def mark(session: Session) -> None:
            statement = update(Conversation).where(Conversation.id == conversation_id)
            if connected_at is not None:  # only if no newer connection took over
                statement = statement.where(Conversation.customer_connected_at == connected_at)
            session.execute(statement.values(customer_disconnected_at=utcnow()))
        await self._db(mark)

    async def messages_after(self, *, conversation_id: str, after_seq: int, limit: int = 500) -> list[Message]:
        return await self._db(store.messages_after, conversation_id=conversation_id, after_seq=after_seq, limit=limit)

    def _store_customer_message_in_session(self, session: Session, *, conversation_id: str, client_id: str,
                                           text: str, payload: str | None) -> tuple[Message, bool]:
        existing = store.find_message_by_client_id(session, conversation_id=conversation_id, client_id=client_id)
        if existing is not None:
            return existing, False
        conversation = store.get_conversation(session, conversation_id=conversation_id)
        question = None
        if payload is not None:
            payload, question = offered_payload(session, conversation_id=conversation_id, payload=payload)
        in_human_phase = conversation.state in HUMAN_STATES
        message = store.append_message(
            session, conversation_id=conversation_id, sender="customer", text=text, client_id=client_id,
            payload=payload, processed=in_human_phase, human_phase=in_human_phase,
        )
        # A rating counts once per conversation, and only as the answer to the question a resolve asked.
        asked_by_a_resolve = (question is not None and conversation.resolved_at is not None
                              and question.created_at >= conversation.resolved_at)
        score = parse_csat(payload) if asked_by_a_resolve and conversation.csat_score is None else None
        if score is not None:
            conversation.csat_score = score
        return message, True

    async def store_customer_message(self, *, conversation_id: str, client_id: str, text: str,
                                     payload: str | None) -> tuple[Message, bool]:
        """Redact and store; returns (message, newly_stored). A resend returns the stored message.

        A payload is stored only as offered (offered_payload), so it holds nothing the customer wrote:
        PayloadNotOffered refuses any other, and nothing is stored."""
        clean_text = redact(text.strip())[:4000]
        clean_payload = payload.strip()[:MAX_PAYLOAD_CHARS + 1] if payload else None
        try:
            message, created = await self._db(
                self._store_customer_message_in_session, conversation_id=conversation_id, client_id=client_id,
                text=clean_text, payload=clean_payload)
        except IntegrityError:  # the same client_id raced in on another connection
            message = await self._db(store.find_message_by_client_id, conversation_id=conversation_id,
                                     client_id=client_id)
            created = False
        except StorageUnavailable as error:
            error.client_id = client_id
            raise
        if created:
            await self._publish_messages(conversation_id, [message])
        return message, created

    # -- a customer message's turn ---------------------------------------------------------------
    # Every connection of a conversation (two tabs, a reconnect, tabs on two replicas) queues the messages it
    # finds unanswered, so several workers can meet on one message. The database decides: a worker runs a
    # turn only after claiming the message (a conditional UPDATE), renews the claim while the turn runs, and
    # stores the answer only if the message is still unanswered. A claim whose worker died lapses after
    # turn_claim_seconds, and the next worker that tries runs the turn: nothing is lost, nothing answered twice.

    def start_turn(self, *, conversation_id: str, message_id: int) -> asyncio.Task:
        """Run a message's turn as its own task: it finishes even if the socket that started it closes (the
        answer is stored, and shown to the conversation's other tabs now or to a reconnecting one later)."""
        task = asyncio.create_task(self.process_customer_message(conversation_id=conversation_id,
                                                                 message_id=message_id))
        self.turns_in_flight.add(task)
        task.add_done_callback(self._turn_done)
        return task

    def _turn_done(self, task: asyncio.Task) -> None:
        self.turns_in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("processing a customer message failed", exc_info=task.exception())

    async def stop_turns(self, *, grace_seconds: float) -> None:
        """At shutdown: give the turns in flight a moment to finish, then stop them (their claims are given back,
        so a reconnect on another replica runs them at once)."""
        if not self.turns_in_flight:
            return
        _done, pending = await asyncio.wait(set(self.turns_in_flight), timeout=grace_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def process_customer_message(self, *, conversation_id: str, message_id: int) -> bool:
        """Route a stored customer message: to the bot, or (human phase) nowhere but the specialist.

        A conversation's turns run one at a time, oldest first, across tabs and replicas: Rasa runs one
        conversation's turns in order anyway, so turns sent side by side only wait there until the Rasa timeout
        cancels them. A worker runs the conversation's oldest unanswered message (its own or an earlier one), and
        goes on until its own is answered.

        True when the message is answered (now or before); False when another worker holds a live claim on the
        conversation's next turn: try again later, when that is answered or its claim has lapsed."""
        while True:
            claimant = new_claimant()

            def claim(session: Session, *, claimant: str):
                now = utcnow()
                own = session.get(Message, message_id)
                if own is None or own.processed:
                    return "answered", None, None
                turn = store.earliest_unanswered(session, conversation_id=conversation_id) or own
                if not store.claim_message(session, message_id=turn.id, claimant=claimant, now=now,
                                           stale_before=now - timedelta(seconds=self.settings.turn_claim_seconds)):
                    return "busy", None, None
                return "claimed", turn, store.get_conversation(session, conversation_id=conversation_id)
            outcome, message, conversation = await self._db(claim, claimant=claimant)
            if outcome != "claimed":
                return outcome == "answered"
            renewing = asyncio.create_task(self._renew_claim(message_id=message.id, claimant=claimant))
            try:
                await self._run_turn(message=message, conversation=conversation)
            except BaseException:  # failed or cancelled: give the turn back at once (else the claim lapses)
                renewing.cancel()
                with contextlib.suppress(Exception):
                    await self._db(store.release_claim, message_id=message.id, claimant=claimant)
                raise
            finally:
                renewing.cancel()
            if message.id == message_id:
                return True

    async def _renew_claim(self, *, message_id: int, claimant: str) -> None:
        while True:
            await asyncio.sleep(self.settings.turn_claim_seconds / CLAIM_RENEWALS_PER_PERIOD)
            try:
                held = await self._db(store.renew_claim, message_id=message_id, claimant=claimant, now=utcnow())
            except StorageUnavailable:
                continue
            if not held:  # answered just now, or (a stalled worker) lapsed and taken over
                log.info("claim on message %s is no longer held by %s", message_id, claimant)
                return

    async def _run_turn(self, *, message: Message, conversation: Conversation) -> None:
        conversation_id, message_id = conversation.id, message.id
        if conversation.state in HUMAN_STATES:
            await self._db(store.finish_message, message_id=message_id)
            return
        if message.payload == HUMAN_REQUEST_PAYLOAD:
            # Escalating again changes nothing, so escalate first: a failure here leaves the message to retry.
            await self.escalate(conversation_id=conversation_id, reason="request_human", customer_id=None,
                                summary="The customer asked for a person while the assistant was unavailable.")
            await self._db(store.finish_message, message_id=message_id)
            return
        try:
            replies = await self.rasa.send_message(conversation_id=conversation_id,
                                                   text=message.payload or text_for_the_bot(message.text),
                                                   customer_id=conversation.customer_id)
        except RasaUnavailable as error:
            log.warning("rasa unavailable for conversation %s: %s", conversation_id, error)
            replies = None
        stored = await self._db(self._store_bot_replies, conversation_id=conversation_id, message_id=message_id,
                                replies=replies)
        await self._publish_messages(conversation_id, stored)

    def _store_bot_replies(self, session: Session, *, conversation_id: str, message_id: int,
                           replies: list[BotReply] | None) -> list[Message]:
        if not store.finish_message(session, message_id=message_id):
            # Already answered: a worker whose claim had lapsed meanwhile (a stalled replica) stored its answer
            # first. The customer gets one answer.
            log.warning("message %s was answered by another worker; this answer is dropped", message_id)
            return []
        stored = []
        if replies == [] and store.get_conversation(session, conversation_id=conversation_id).state == State.BOT:
            # Rasa answered nothing, e.g. its action server is down (Rasa logs the failed action and moves on):
            # never leave the customer in silence.
            stored.append(store.append_message(
                session, conversation_id=conversation_id, sender="system",
                text="Sorry, I couldn't answer that just now. Please try again in a moment, or talk to a person.",
                buttons=[{"title": "Talk to a person", "payload": HUMAN_REQUEST_PAYLOAD}],
            ))
        if replies is None:
            stored.append(store.append_message(
                session, conversation_id=conversation_id, sender="system",
                text="Sorry, our assistant isn't reachable right now. Would you like to talk to a person?",
                buttons=[{"title": "Talk to a person", "payload": HUMAN_REQUEST_PAYLOAD}],
            ))
        else:
            for reply in replies:
                stored.append(store.append_message(session, conversation_id=conversation_id, sender="bot",
                                                   text=reply.text, buttons=reply.buttons, custom=reply.custom))
        return stored

    async def unprocessed_customer_messages(self, *, conversation_id: str) -> list[int]:
        def query(session: Session) -> list[int]:
            return list(session.scalars(select(Message.id).where(
                Message.conversation_id == conversation_id, Message.sender == "customer",
                Message.processed.is_(False)).order_by(Message.seq)))
        return await self._db(query)

    async def customer_typing(self, *, conversation_id: str) -> None:
        await self.pubsub.publish(conversation_channel(conversation_id), {"kind": "typing", "sender": "customer"})

    # -- escalation -----------------------------------------------------------------------------

    def _escalate_in_session(self, session: Session, *, conversation_id: str, reason: str, context: dict,
                             dispute_id: int | None, dispute_amount: Decimal | None) -> dict:
        conversation = store.get_conversation(session, conversation_id=conversation_id, for_update=True)
        now = utcnow()
        if conversation.state in (State.RESOLVED, State.ABANDONED):
            store.transition(session, conversation_id=conversation_id, target=State.BOT, actor="system",
                             note="back to the bot before escalating")
            conversation = store.get_conversation(session, conversation_id=conversation_id)
        if conversation.state in HUMAN_STATES:
            return {"already": True}  # the same escalation again (e.g. a retried request): no new queue entry
        desk_open = is_open(self.hours, now=now, timezone=self.settings.timezone)
        someone_online = store.online_specialist_count(
            session, now=now, timeout_seconds=self.settings.presence_timeout_seconds) > 0
        goes_live = desk_open and (someone_online or not self.settings.ticket_when_nobody_online)
        if conversation.state == State.TICKET and not goes_live:
            return {"already": True}
        target = State.QUEUED if goes_live else State.TICKET
        changes = dict(
            escalation_reason=reason, context=context, dispute_id=dispute_id, dispute_amount=dispute_amount,
            queued_at=now, human_phase_start_seq=conversation.last_seq + 1,
            escalation_count=conversation.escalation_count + 1, assigned_specialist_id=None,
        )
        if target == State.TICKET:
            changes["ticket_number"] = conversation.ticket_number or store.allocate_ticket_number(session)
        store.transition(session, conversation_id=conversation_id, target=target, actor="bot",
                         note=f"escalated: {reason}", **changes)
        store.audit(session, actor="bot", action="escalate", target=conversation_id,
                    details={"reason": reason, "state": target.value})
        if target == State.TICKET:
            opening = next_opening(self.hours, now=now, timezone=self.settings.timezone)
            when = (f" Our billing team is back {opening.strftime('%A at %H:%M')} ({self.settings.timezone})."
                    if opening else " No billing specialist is online right now.")
            store.append_message(
                session, conversation_id=conversation_id, sender="system",
                text=f"I've opened ticket {changes['ticket_number']} for you.{when} {self.settings.ticket_contact}",
            )
        return {"already": False}

    async def escalate(self, *, conversation_id: str, reason: str, customer_id: int | None, summary: str,
                       dispute_id: int | None = None, line_item: dict | None = None, explanation: object = None,
                       slots: dict | None = None) -> dict:
        if reason not in ESCALATION_REASONS:
            raise ServiceError(status_code=422, code="bad_reason",
                               message=f"reason must be one of {sorted(ESCALATION_REASONS)}")
        amount = parse_money((line_item or {}).get("amount")) if line_item else None
        if amount is None and slots:
            amount = parse_money(slots.get("amount") or slots.get("MONEY"))
        context = {"reason": reason, "summary": redact(summary or ""), "slots": slots or {},
                   "dispute_id": dispute_id, "line_item": line_item, "explanation": explanation,
                   "customer_id": customer_id}
        try:
            result = await self._db(self._escalate_in_session, conversation_id=conversation_id, reason=reason,
                                    context=context, dispute_id=dispute_id,
                                    dispute_amount=amount if reason == "dispute" else amount)
        except store.ConversationNotFound:
            raise ServiceError(status_code=404, code="conversation_not_found",
                               message="No conversation with that id.") from None
        status = await self.status_for(conversation_id=conversation_id)
        if not result["already"]:
            await self._publish_new_messages(conversation_id)
            await self.pubsub.publish(conversation_channel(conversation_id), {"kind": "status", "frame": status})
            await self.broadcast_queue(new_chat=conversation_id)
        answer = {"state": status["state"]}
        for key in ("position", "eta_seconds", "ticket_number", "contact"):
            if key in status:
                answer[key] = status[key]
        return answer

    async def _publish_new_messages(self, conversation_id: str, *, since_seq: int | None = None) -> None:
        """Publish the latest system messages a state change wrote (cheap: they are the last few)."""
        def latest(session: Session) -> list[Message]:
            return list(session.scalars(select(Message).where(Message.conversation_id == conversation_id)
                                        .order_by(Message.seq.desc()).limit(5)))[::-1]
        messages = await self._db(latest)
        if since_seq is not None:
            messages = [m for m in messages if m.seq > since_seq]
        else:
            messages = [m for m in messages if m.sender == "system"][-1:]
        await self._publish_messages(conversation_id, messages)

    # -- specialist side ------------------------------------------------------------------------

    def _require_owner(self, conversation: Conversation, staff: Staff) -> None:
        if conversation.state != State.ASSIGNED:
            raise ServiceError(status_code=409, code="not_assigned", message=f"This chat is {conversation.state}.")
        if conversation.assigned_specialist_id != staff.id and staff.role != "supervisor":
            raise ServiceError(status_code=403, code="not_your_chat", message="Another specialist owns this chat.")

    def _claim_in_session(self, session: Session, *, conversation_id: str, staff: Staff) -> int:
        conversation = store.get_conversation(session, conversation_id=conversation_id)
        before = conversation.last_seq
        was_ticket = conversation.state == State.TICKET
        had_human_phase = conversation.human_phase_start_seq is not None
        now = utcnow()
        try:
            store.transition(session, conversation_id=conversation_id, target=State.ASSIGNED, actor=staff.actor,
                             note="claimed", allowed_from=frozenset(CLAIMABLE_STATES),
                             assigned_specialist_id=staff.id, assigned_at=now,
                             first_assigned_at=conversation.first_assigned_at or now)
        except store.StateConflict as conflict:
            holder = ""
            latest = store.get_conversation(session, conversation_id=conversation_id)
            if latest.state == State.ASSIGNED and latest.assigned_specialist_id:
                owner = session.get(StaffUser, latest.assigned_specialist_id)
                holder = f" {owner.display_name} already took it." if owner else ""
            raise ServiceError(status_code=409, code="already_claimed",
                               message=f"Too late: this chat is {conflict.current_state}.{holder}") from None
        session.add(store.Assignment(conversation_id=conversation_id, specialist_id=staff.id, started_at=now))
        if was_ticket or not had_human_phase:
            session.execute(update(Conversation).where(Conversation.id == conversation_id)
                            .values(human_phase_start_seq=before + 1))
        store.audit(session, actor=staff.actor, action="claim", target=conversation_id)
        store.append_message(session, conversation_id=conversation_id, sender="system", human_phase=True,
                             text=f"{staff.display_name} from Billing has joined the chat.")
        return before

    async def claim(self, *, conversation_id: str, staff: Staff) -> None:
        self._require_chat_role(staff)
        try:
            before = await self._db(self._claim_in_session, conversation_id=conversation_id, staff=staff)
        except store.ConversationNotFound:
            raise ServiceError(status_code=404, code="conversation_not_found", message="No such chat.") from None
        await self._after_change(conversation_id, since_seq=before)

    async def _after_change(self, conversation_id: str, *, since_seq: int) -> None:
        await self._publish_new_messages(conversation_id, since_seq=since_seq)
        await self._publish_status(conversation_id)
        await self.pubsub.publish(conversation_channel(conversation_id), {"kind": "conversation_changed"})
        await self.broadcast_queue()

    def _require_chat_role(self, staff: Staff) -> None:
        if staff.role not in ("specialist", "supervisor"):
            raise ServiceError(status_code=403, code="forbidden", message="Your role cannot take chats.")

    def _release_in_session(self, session: Session, *, conversation_id: str, staff: Staff) -> int:
        conversation = store.get_conversation(session, conversation_id=conversation_id)
        self._require_owner(conversation, staff)
        before = conversation.last_seq
        owner = session.get(StaffUser, conversation.assigned_specialist_id)
        store.transition(session, conversation_id=conversation_id, target=State.QUEUED, actor=staff.actor,
                         note="released", assigned_specialist_id=None, queued_at=utcnow())
        store.end_assignment(session, conversation_id=conversation_id, reason="released")
        store.audit(session, actor=staff.actor, action="release", target=conversation_id)
        store.append_message(session, conversation_id=conversation_id, sender="system", human_phase=True,
                             text=f"{owner.display_name if owner else staff.display_name} has left the chat. "
                                  "You're back in the queue; the next specialist will be with you shortly.")
        return before

    async def release(self, *, conversation_id: str, staff: Staff) -> None:
        before = await self._db(self._release_in_session, conversation_id=conversation_id, staff=staff)
        await self._after_change(conversation_id, since_seq=before)

    def _transfer_in_session(self, session: Session, *, conversation_id: str, staff: Staff,
                             to_username: str) -> tuple[int, int]:
        conversation = store.get_conversation(session, conversation_id=conversation_id)
        self._require_owner(conversation, staff)
        colleague = session.scalars(select(StaffUser).where(StaffUser.username == to_username)).first()
        if colleague is None or not colleague.active or colleague.role not in ("specialist", "supervisor"):
            raise ServiceError(status_code=422, code="unknown_colleague",
                               message=f"'{to_username}' is not a specialist who can take chats.")
        if colleague.id == conversation.assigned_specialist_id:
            raise ServiceError(status_code=422, code="same_specialist", message="That colleague already owns this chat.")
        before = conversation.last_seq
        previous = session.get(StaffUser, conversation.assigned_specialist_id)
        now = utcnow()
        store.transition(session, conversation_id=conversation_id, target=State.ASSIGNED, actor=staff.actor,
                         note=f"transferred to {colleague.username}", assigned_specialist_id=colleague.id,
                         assigned_at=now)
        store.end_assignment(session, conversation_id=conversation_id, reason="transferred")
        session.add(store.Assignment(conversation_id=conversation_id, specialist_id=colleague.id, started_at=now))
        store.audit(session, actor=staff.actor, action="transfer", target=conversation_id,
                    details={"to": colleague.username})
        store.append_message(session, conversation_id=conversation_id, sender="system", human_phase=True,
                             text=f"{previous.display_name if previous else staff.display_name} has left the chat.")
        store.append_message(session, conversation_id=conversation_id, sender="system", human_phase=True,
                             text=f"{colleague.display_name} from Billing has joined the chat.")
        return before, colleague.id

    async def transfer(self, *, conversation_id: str, staff: Staff, to_username: str) -> None:
        before, colleague_id = await self._db(self._transfer_in_session, conversation_id=conversation_id,
                                              staff=staff, to_username=to_username)
        await self.pubsub.publish(staff_channel(colleague_id), {
            "kind": "transferred_to_you", "conversation_id": conversation_id, "from": staff.display_name})
        await self._after_change(conversation_id, since_seq=before)

    def _agent_message_in_session(self, session: Session, *, conversation_id: str, staff: Staff, text: str,
                                  client_id: str | None) -> Message:
        conversation = store.get_conversation(session, conversation_id=conversation_id)
        self._require_owner(conversation, staff)
        if client_id:
            existing = store.find_message_by_client_id(session, conversation_id=conversation_id, client_id=client_id)
            if existing is not None:
                return existing
        message = store.append_message(session, conversation_id=conversation_id, sender="agent", text=text,
                                       agent_name=staff.display_name, client_id=client_id, human_phase=True)
        store.audit(session, actor=staff.actor, action="send_message", target=conversation_id,
                    details={"seq": message.seq})
        return message

    async def send_agent_message(self, *, conversation_id: str, staff: Staff, text: str,
                                 client_id: str | None) -> Message:
        text = redact(text.strip())
        if not text:
            raise ServiceError(status_code=422, code="empty_message", message="Type a message first.")
        message = await self._db(self._agent_message_in_session, conversation_id=conversation_id, staff=staff,
                                 text=text[:4000], client_id=client_id)
        await self._publish_messages(conversation_id, [message])
        return message

    async def agent_typing(self, *, conversation_id: str, staff: Staff) -> None:
        await self.pubsub.publish(conversation_channel(conversation_id),
                                  {"kind": "typing", "sender": "agent", "agent_name": staff.display_name})

    async def load_owned(self, *, conversation_id: str, staff: Staff) -> Conversation:
        def load(session: Session) -> Conversation:
            conversation = store.get_conversation(session, conversation_id=conversation_id)
            self._require_owner(conversation, staff)
            return conversation
        try:
            return await self._db(load)
        except store.ConversationNotFound:
            raise ServiceError(status_code=404, code="conversation_not_found", message="No such chat.") from None

    async def record_audit(self, *, actor: str, action: str, target: str | None, details: dict | None = None) -> None:
        await self._db(store.audit, actor=actor, action=action, target=target, details=details)

    async def settle_dispute(self, *, conversation_id: str, staff: Staff, decision: str, note: str,
                             credit_amount: str | None) -> dict:
        conversation = await self.load_owned(conversation_id=conversation_id, staff=staff)
        if decision not in ("accepted", "rejected"):
            raise ServiceError(status_code=422, code="bad_decision", message="decision must be accepted or rejected.")
        if not conversation.dispute_id:
            raise ServiceError(status_code=409, code="no_dispute", message="This chat has no dispute to settle.")
        amount = None
        if decision == "accepted":
            parsed = parse_money(credit_amount) if credit_amount not in (None, "") else conversation.dispute_amount
            if parsed is None or parsed <= 0:
                raise ServiceError(status_code=422, code="bad_amount",
                                   message="Give the credit as an amount like 12.50.")
            amount = f"{parsed:.2f}"
        if decision == "rejected" and not note.strip():
            raise ServiceError(status_code=422, code="note_required", message="Explain the rejection in a note.")
        # Deterministic key: a double click or a retry cannot credit twice.
        key = f"handoff-{conversation_id}-dispute-{conversation.dispute_id}-{decision}"
        from handoff.clients.backend import BackendError
        try:
            dispute = await self.backend.settle_dispute(
                dispute_id=conversation.dispute_id, decision=decision, note=note.strip() or "Accepted by billing.",
                credit_amount=amount, idempotency_key=key, actor=staff.actor)
        except BackendError as error:
            raise ServiceError(status_code=502 if error.status_code >= 500 else error.status_code,
                               code=error.code, message=error.message) from None
        await self.record_audit(actor=staff.actor, action=f"dispute_{decision}", target=conversation_id,
                                details={"dispute_id": conversation.dispute_id, "credit_amount": amount,
                                         "idempotency_key": key})
        return dispute

    def _resolve_in_session(self, session: Session, *, conversation_id: str, staff: Staff,
                            outcome: str) -> tuple[int, list[dict], str]:
        conversation = store.get_conversation(session, conversation_id=conversation_id)
        self._require_owner(conversation, staff)
        before = conversation.last_seq
        owner = session.get(StaffUser, conversation.assigned_specialist_id)
        agent_name = owner.display_name if owner else staff.display_name
        store.transition(session, conversation_id=conversation_id, target=State.RESOLVED, actor=staff.actor,
                         note=f"resolved: {outcome}", resolved_at=utcnow(), resolution_outcome=outcome,
                         assigned_specialist_id=None)
        store.end_assignment(session, conversation_id=conversation_id, reason="resolved")
        store.audit(session, actor=staff.actor, action="resolve", target=conversation_id, details={"outcome": outcome})
        store.append_message(session, conversation_id=conversation_id, sender="system", human_phase=True,
                             text=f"{agent_name} has left the chat. You're back with the Acme assistant.")
        start = conversation.human_phase_start_seq or 1
        human_lines = session.scalars(select(Message).where(
            Message.conversation_id == conversation_id, Message.seq >= start,
            Message.sender.in_(("agent", "customer")), Message.human_phase.is_(True)).order_by(Message.seq))
        events = [{
            "event": "bot", "text": line.text,
            "timestamp": line.created_at.timestamp(),
            "metadata": {"handoff": True, "sender": line.sender,
                         "name": line.agent_name if line.sender == "agent" else (conversation.customer_name or "Customer")},
        } for line in human_lines]
        return before, events, agent_name

    async def resolve(self, *, conversation_id: str, staff: Staff, outcome: str) -> None:
        if outcome not in RESOLUTION_OUTCOMES:
            raise ServiceError(status_code=422, code="bad_outcome",
                               message=f"outcome must be one of {sorted(RESOLUTION_OUTCOMES)}")
        before, events, agent_name = await self._db(self._resolve_in_session, conversation_id=conversation_id,
                                                    staff=staff, outcome=outcome)
        await self._after_change(conversation_id, since_seq=before)
        replies: list[BotReply] | None
        try:
            await self.rasa.append_events(conversation_id=conversation_id, events=events)
            replies = await self.rasa.trigger_intent(
                conversation_id=conversation_id, name="EXTERNAL_handoff_resolved",
                entities={"handoff_outcome": outcome, "agent_name": agent_name})
        except RasaUnavailable as error:
            log.warning("could not inform rasa about resolved conversation %s: %s", conversation_id, error)
            replies = None
        if not replies:  # Rasa unreachable or silent: still ask for the rating ourselves.
            replies = [BotReply(text="Welcome back! How would you rate your chat with our billing team, "
                                     "from 1 (poor) to 5 (excellent)?", buttons=CSAT_BUTTONS)]

        def back_to_bot(session: Session) -> tuple[int, list[Message]]:
            seq_before = store.get_conversation(session, conversation_id=conversation_id).last_seq
            store.transition(session, conversation_id=conversation_id, target=State.BOT, actor="system",
                             note="bot takes over", human_phase_start_seq=None)
            stored = [store.append_message(session, conversation_id=conversation_id, sender="bot", text=r.text,
                                           buttons=r.buttons, custom=r.custom) for r in replies]
            return seq_before, stored
        _, stored = await self._db(back_to_bot)
        await self._publish_messages(conversation_id, stored)
        await self._publish_status(conversation_id)
        await self.pubsub.publish(conversation_channel(conversation_id), {"kind": "conversation_changed"})

    # -- presence and housekeeping --------------------------------------------------------------

    async def touch_presence(self, *, user_id: int, online: bool = True) -> None:
        def touch(session: Session) -> None:
            session.execute(update(StaffUser).where(StaffUser.id == user_id)
                            .values(last_seen_at=utcnow() if online else None))
        await self._db(touch)

    def _sweep_in_session(self, session: Session) -> list[str]:
        cutoff = utcnow() - timedelta(seconds=self.settings.abandon_grace_seconds)
        candidates = list(session.scalars(select(Conversation.id).where(
            Conversation.state == State.QUEUED, Conversation.customer_disconnected_at.is_not(None),
            Conversation.customer_disconnected_at < cutoff)))
        abandoned = []
        for conversation_id in candidates:
            try:
                store.transition(session, conversation_id=conversation_id, target=State.ABANDONED, actor="system",
                                 note="customer left while queued", allowed_from=frozenset({State.QUEUED}))
            except store.StateConflict:
                continue
            store.append_message(session, conversation_id=conversation_id, sender="system", human_phase=True,
                                 text="The customer left the chat while waiting.")
            abandoned.append(conversation_id)
        return abandoned

    async def sweep_abandoned(self) -> list[str]:
        abandoned = await self._db(self._sweep_in_session)
        for conversation_id in abandoned:
            await self.pubsub.publish(conversation_channel(conversation_id), {"kind": "conversation_changed"})
        if abandoned:
            await self.broadcast_queue()
        return abandoned
