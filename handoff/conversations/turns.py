"""A customer message's bot turn: claimed by one worker, sent to Rasa, answered once.

Every connection of a conversation (two tabs, a reconnect, tabs on two replicas) queues the messages it finds
unanswered, so several workers can meet on one message. The database decides: a worker runs a turn only after
claiming the message (a conditional UPDATE), renews the claim while the turn runs, and stores the answer only
if the message is still unanswered. A claim whose worker died lapses after turn_claim_seconds, and the next
worker that tries runs the turn: nothing is lost, nothing answered twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from handoff import notifier
from handoff.clients.rasa import BotReply, RasaUnavailable
from handoff.conversations import escalation, store
from handoff.conversations.payloads import HUMAN_REQUEST_PAYLOAD, text_for_the_bot
from handoff.conversations.states import HUMAN_STATES, State
from handoff.db import utcnow
from handoff.errors import StorageUnavailable
from handoff.models import Conversation, Message
from handoff.notifier import Change
from handoff.vocabulary import EscalationReason, Sender

if TYPE_CHECKING:
    from handoff.context import Services

log = logging.getLogger(__name__)
CLAIM_RENEWALS_PER_PERIOD = 5  # a turn's claim is renewed every turn_claim_seconds / 5
TALK_TO_A_PERSON = [{"title": "Talk to a person", "payload": HUMAN_REQUEST_PAYLOAD}]
SILENT_BOT_TEXT = "Sorry, I couldn't answer that just now. Please try again in a moment, or talk to a person."
HUMAN_REQUEST_SUMMARY = "The customer asked for a person while the assistant was unavailable."
UNREACHABLE_BOT_TEXT = "Sorry, our assistant isn't reachable right now. Would you like to talk to a person?"


def new_claimant() -> str:
    """Names one attempt at a turn (host and process first, for whoever reads the messages table)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class Claim:
    """The outcome of trying to take the conversation's next turn."""

    answered: bool = False  # the worker's own message has its answer: nothing to do
    message: Message | None = None  # claimed: the turn to run now (the worker's own or an earlier one)
    conversation: Conversation | None = None
    claimant: str = ""  # who holds the claim


def claim_stored_message(session: Session, *, conversation: Conversation, message: Message,
                         claimant: str) -> Claim | None:
    """A customer message's turn claimed in the transaction that stored it, when it is the conversation's
    next turn (no earlier message unanswered): one transaction less per message. None: `run` claims it."""
    if not store.claim_if_next(session, conversation_id=conversation.id, message_id=message.id,
                               seq=message.seq, claimant=claimant, now=utcnow()):
        return None
    return Claim(message=message, conversation=conversation, claimant=claimant)


def claim_next_turn(session: Session, *, conversation_id: str, message_id: int, claimant: str,
                    claim_seconds: float) -> Claim:
    now = utcnow()
    # The oldest unanswered message and its conversation in one statement; the worker's own message is read
    # on its own only when that is another one (nothing unanswered: its own has its answer).
    next_turn = store.earliest_unanswered_with_conversation(session, conversation_id=conversation_id)
    if next_turn is None:
        return Claim(answered=True)
    turn, conversation = next_turn
    if turn.id != message_id:
        own = store.get_message(session, message_id=message_id)
        if own is None or own.processed:
            return Claim(answered=True)
    if not store.claim_message(session, message_id=turn.id, claimant=claimant, now=now,
                               stale_before=now - timedelta(seconds=claim_seconds)):
        return Claim()  # busy: another worker holds a live claim
    return Claim(message=turn, conversation=conversation, claimant=claimant)


@dataclass(frozen=True)
class Outcome:
    """What `run` did: whether the message is answered, and the messages this worker stored on the way (in
    seq order), which the socket that started the turn shows without reading them back."""

    answered: bool
    stored: tuple[Message, ...] = ()


def start(*, services: Services, conversation_id: str, message_id: int) -> asyncio.Task[bool]:
    """Run a message's turn as its own task: it finishes even if the socket that started it closes (the
    answer is stored, and shown to the conversation's other tabs now or to a reconnecting one later)."""
    return services.turns.start(perform(services=services, conversation_id=conversation_id,
                                        message_id=message_id))


def start_run(*, services: Services, conversation_id: str, message_id: int,
              claim: Claim | None = None) -> asyncio.Task[Outcome]:
    """`start`, with the messages the turn stored (turns.Outcome); `claim`: the message's own turn, claimed
    already (claim_stored_message)."""
    return services.turns.start(run(services=services, conversation_id=conversation_id,
                                    message_id=message_id, claim=claim))


async def perform(*, services: Services, conversation_id: str, message_id: int) -> bool:
    """True when the message is answered (now or before); see `run`."""
    return (await run(services=services, conversation_id=conversation_id, message_id=message_id)).answered


async def run(*, services: Services, conversation_id: str, message_id: int,
              claim: Claim | None = None) -> Outcome:
    """Route a stored customer message: to the bot, or (human phase) nowhere but the specialist.

    A conversation's turns run one at a time, oldest first, across tabs and replicas: Rasa runs one
    conversation's turns in order anyway, so turns sent side by side only wait there until the Rasa timeout
    cancels them. A worker runs the conversation's oldest unanswered message (its own or an earlier one), and
    goes on until its own is answered.

    Answered when the message is answered (now or before); not when another worker holds a live claim on the
    conversation's next turn: try again later, when that is answered or its claim has lapsed."""
    stored: tuple[Message, ...] = ()
    while True:
        if claim is None:
            claim = await services.run(claim_next_turn, conversation_id=conversation_id,
                                       message_id=message_id, claimant=new_claimant(),
                                       claim_seconds=services.settings.turn_claim_seconds)
        current, claim = claim, None  # the next turn (if this one was an earlier message) is claimed anew
        if current.message is None or current.conversation is None:
            return Outcome(current.answered, stored)
        claimant = current.claimant
        renewing = asyncio.create_task(_renew_claim(services, message_id=current.message.id,
                                                    claimant=claimant))
        try:
            stored += await _run_turn(services, message=current.message, conversation=current.conversation)
        except BaseException:  # failed or cancelled: give the turn back at once (else the claim lapses)
            renewing.cancel()
            with contextlib.suppress(Exception):
                await services.run(store.release_claim, message_id=current.message.id, claimant=claimant)
            raise
        finally:
            renewing.cancel()
        if current.message.id == message_id:
            return Outcome(True, stored)


async def _renew_claim(services: Services, *, message_id: int, claimant: str) -> None:
    while True:
        await asyncio.sleep(services.settings.turn_claim_seconds / CLAIM_RENEWALS_PER_PERIOD)
        try:
            held = await services.run(store.renew_claim, message_id=message_id, claimant=claimant,
                                      now=utcnow())
        except StorageUnavailable:
            continue
        if not held:  # answered just now, or (a stalled worker) lapsed and taken over
            log.info("claim on message %s is no longer held by %s", message_id, claimant)
            return


async def _run_turn(services: Services, *, message: Message,
                    conversation: Conversation) -> tuple[Message, ...]:
    """The turn; returns the answers it stored (none when another use case stored and published them)."""
    conversation_id, message_id = conversation.id, message.id
    if conversation.state in HUMAN_STATES:
        await services.run(store.finish_message, message_id=message_id)
        return ()
    if message.payload == HUMAN_REQUEST_PAYLOAD:
        # Escalating again changes nothing, so escalate first: a failure here leaves the message to retry.
        await escalation.perform(services=services, conversation_id=conversation_id,
                                 reason=EscalationReason.REQUEST_HUMAN, customer_id=None,
                                 summary=HUMAN_REQUEST_SUMMARY)
        await services.run(store.finish_message, message_id=message_id)
        return ()
    replies: list[BotReply] | None
    try:
        replies = await services.rasa.send_message(conversation_id=conversation_id,
                                                   text=message.payload or text_for_the_bot(message.text),
                                                   customer_id=conversation.customer_id,
                                                   channel=conversation.channel)
    except RasaUnavailable as error:
        log.warning("rasa unavailable for conversation %s: %s", conversation_id, error)
        replies = None
    change = await services.run(store_bot_replies, conversation_id=conversation_id, message_id=message_id,
                                replies=replies)
    await notifier.publish(change, services=services)
    return change.messages


def store_bot_replies(session: Session, *, conversation_id: str, message_id: int,
                      replies: list[BotReply] | None) -> Change:
    """Rasa's replies (None: Rasa unreachable), stored only if the message is still unanswered."""
    if not store.finish_message(session, message_id=message_id):
        # Already answered: a worker whose claim had lapsed meanwhile (a stalled replica) stored its answer
        # first. The customer gets one answer.
        log.warning("message %s was answered by another worker; this answer is dropped", message_id)
        return Change(conversation_id)
    stored = []
    if replies == [] and store.get_conversation(session, conversation_id=conversation_id).state == State.BOT:
        # Rasa answered nothing, e.g. its action server is down (Rasa logs the failed action and moves on):
        # never leave the customer in silence.
        stored.append(store.append_message(session, conversation_id=conversation_id, sender=Sender.SYSTEM,
                                           text=SILENT_BOT_TEXT, buttons=TALK_TO_A_PERSON))
    if replies is None:
        stored.append(store.append_message(session, conversation_id=conversation_id, sender=Sender.SYSTEM,
                                           text=UNREACHABLE_BOT_TEXT, buttons=TALK_TO_A_PERSON))
    else:
        for reply in replies:
            stored.append(store.append_message(session, conversation_id=conversation_id, sender=Sender.BOT,
                                               text=reply.text, buttons=reply.buttons, custom=reply.custom))
    return Change(conversation_id, messages=tuple(stored))
