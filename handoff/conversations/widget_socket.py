"""The customer widget's WebSocket (/ws/chat): hello/welcome, acks, replay by seq, live events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from handoff import notifier
from handoff.context import Services
from handoff.conversations import customer_message, lifecycle, read_receipts, reminder_notice, store, turns
from handoff.conversations.customer_token import CustomerIdentity, InvalidCustomerToken, verify_customer_token
from handoff.conversations.frames import (
    client_id_of,
    client_id_of_oversized,
    error_frame,
    message_frame,
    parse_frame,
    receive_text_frame,
    send_frame,
)
from handoff.conversations.input_limits import MAX_RAW_FRAME_CHARS, FloodGuard, clean_text
from handoff.conversations.payloads import PayloadNotOffered
from handoff.conversations.states import State
from handoff.email import outbound
from handoff.errors import StorageUnavailable
from handoff.models import Conversation, Message
from handoff.pubsub import Subscription, conversation_channel
from handoff.queue import status as queue_status
from handoff.specialists.security import refuse_cross_site_socket
from handoff.vocabulary import Sender

log = logging.getLogger(__name__)
router = APIRouter()
HELLO_TIMEOUT_SECONDS = 15
TURN_RETRY_SECONDS = 1.0  # how often a turn claimed by another tab or replica is checked on
CONVERSATION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # ids are uuid4 hex; the column holds 64
# The widget reconnects by itself and resends unacknowledged messages (handoff/web/static/widget.js).
STORAGE_UNAVAILABLE_TEXT = ("Sorry, our chat is briefly unavailable. "
                            "We'll reconnect automatically in a moment.")
MESSAGE_NOT_STORED_TEXT = ("Sorry, our chat is briefly unavailable, so your message has not been sent yet. "
                           "It will be sent as soon as the chat reconnects.")


class CustomerConnection:
    def __init__(self, *, websocket: WebSocket, services: Services, conversation_id: str, last_seq: int):
        self.websocket = websocket
        self.services = services
        self.conversation_id = conversation_id
        self.last_sent_seq = last_seq
        self._send_lock = asyncio.Lock()
        self._delivery_lock = asyncio.Lock()
        # Messages whose turns to run, in order, each with its turn when that was started at once.
        self.turns: asyncio.Queue[tuple[int, asyncio.Task[turns.Outcome] | None]] = asyncio.Queue()
        self.working = False  # work_turns is busy with one

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await send_frame(self.websocket, frame)

    async def catch_up(self) -> None:
        """Send every stored message after the last one this connection sent, in order, once."""
        async with self._delivery_lock:
            while True:
                messages = await self.services.run(store.messages_after, conversation_id=self.conversation_id,
                                                   after_seq=self.last_sent_seq, limit=200)
                for message in messages:
                    await self.send(message_frame(message))
                    self.last_sent_seq = message.seq
                if len(messages) < 200:
                    return

    async def deliver(self, frame: dict[str, Any]) -> None:
        async with self._delivery_lock:
            if frame["seq"] <= self.last_sent_seq:
                return
            if frame["seq"] == self.last_sent_seq + 1:
                await self.send(frame)
                self.last_sent_seq = frame["seq"]
                return
        await self.catch_up()  # a gap: the database has what pub/sub skipped

    async def listen(self, subscription: Subscription) -> None:
        async for event in subscription:
            kind = event.get("kind")
            if kind == "message":
                await self.deliver(event["frame"])
            elif kind == "status":
                await self.send(event["frame"])
            elif kind == "typing" and event.get("sender") == "agent":
                await self.send({"type": "typing", "sender": "agent", "agent_name": event.get("agent_name")})
            elif kind == "read":  # a specialist saw the messages up to seq (read_receipts)
                await self.send(read_receipts.read_frame(event["seq"]))

    async def work_turns(self) -> None:
        """Process stored customer messages one at a time, in order (bot replies can take seconds).

        A message whose turn another tab or replica is running is waited for: until it is answered, or until
        that worker's claim lapses (it died) and the turn runs here."""
        retry_seconds = min(TURN_RETRY_SECONDS,
                            self.services.settings.turn_claim_seconds / turns.CLAIM_RENEWALS_PER_PERIOD)
        while True:
            message_id, started = await self.turns.get()
            self.working = True
            stored: tuple[Message, ...] = ()
            while True:
                turn = started or turns.start_run(services=self.services,
                                                  conversation_id=self.conversation_id, message_id=message_id)
                started = None
                try:
                    # Shielded: this socket closing does not stop the turn (the service logs its failures).
                    outcome = await asyncio.shield(turn)
                except Exception:
                    await self.send(error_frame(code="processing_failed",
                                                message="Sorry, something went wrong. Please try again."))
                    break
                stored += outcome.stored
                if outcome.answered:
                    break
                await asyncio.sleep(retry_seconds)
            with contextlib.suppress(StorageUnavailable):  # the next turn or a reconnect catches up
                await self.show(stored)
            self.working = False

    def idle(self) -> bool:
        """No turn running or waiting here: a new message's turn can be claimed as it is stored."""
        return not self.working and self.turns.empty()

    async def show(self, stored: tuple[Message, ...]) -> None:
        """After a turn: the answers this connection's turn stored are shown from memory (once, in order; a
        gap reads the database); when another worker answered, what it stored is read from the database."""
        if not stored:
            await self.catch_up()
        for message in stored:
            await self.deliver(message_frame(message))


async def _receive_hello(websocket: WebSocket) -> dict[str, Any] | None:
    try:
        raw = await asyncio.wait_for(receive_text_frame(websocket), timeout=HELLO_TIMEOUT_SECONDS)
    except TimeoutError:
        return None
    frame = parse_frame(raw) if raw is not None else None
    return frame if frame and frame["type"] == "hello" else None


def _requested(hello: dict[str, Any]) -> tuple[str | None, int]:
    """The conversation id and last seq a hello asks for. Anything that is not a plausible id (NUL
    bytes, 10 KB strings...) starts a new conversation instead of reaching the database; so does a sequence
    number out of the column's range."""
    requested_id, last_seq = hello.get("conversation_id"), hello.get("last_seq")
    if not (isinstance(requested_id, str) and CONVERSATION_ID.fullmatch(requested_id)):
        requested_id = None
    if not (isinstance(last_seq, int) and 0 <= last_seq < 2**31):
        last_seq = 0
    return requested_id, last_seq


async def _greet(websocket: WebSocket, services: Services,
                 token: str) -> tuple[CustomerIdentity | None, dict[str, Any]] | None:
    """The verified customer (None: anonymous) and their hello; None when the socket was refused or left."""
    try:
        identity = verify_customer_token(token, secret=services.settings.customer_jwt_secret)
    except InvalidCustomerToken:
        await websocket.send_json(error_frame(code="invalid_token",
                                              message="Your sign-in has expired. Please reload the page."))
        await websocket.close(code=4401)
        return None
    try:
        hello = await _receive_hello(websocket)
    except WebSocketDisconnect:  # left (or sent text that is not UTF-8: closed 1007) before saying hello
        return None
    if hello is None:
        await websocket.send_json(error_frame(code="hello_expected",
                                              message="Please start with a hello frame."))
        await websocket.close(code=4400)
        return None
    return identity, hello


@router.websocket("/ws/chat")
async def chat_socket(websocket: WebSocket, token: str = "") -> None:
    services: Services = websocket.app.state.services
    if await refuse_cross_site_socket(websocket, services.settings):
        return
    await websocket.accept()
    greeted = await _greet(websocket, services, token)
    if greeted is None:
        return
    identity, hello = greeted
    requested_id, last_seq = _requested(hello)
    try:
        conversation = await lifecycle.start(
            services=services, customer_id=identity.customer_id if identity else None,
            customer_name=identity.first_name if identity else None, conversation_id=requested_id)
    except StorageUnavailable:
        await _storage_unavailable(websocket, client_id=None)
        return
    connection = CustomerConnection(websocket=websocket, services=services, conversation_id=conversation.id,
                                    last_seq=last_seq if conversation.id == requested_id else 0)  # new: all
    await _serve(connection, conversation=conversation, identity=identity)


async def _serve(connection: CustomerConnection, *, conversation: Conversation,
                 identity: CustomerIdentity | None) -> None:
    websocket, services = connection.websocket, connection.services
    subscription = await services.pubsub.subscribe(conversation_channel(conversation.id))
    tasks: list[asyncio.Task[None]] = []
    try:
        await connection.send({"type": "welcome", "conversation_id": conversation.id,
                               "state": conversation.state,
                               "customer": {"first_name": identity.first_name} if identity else None,
                               "max_message_chars": services.settings.chat_max_message_chars})
        await reminder_notice.show_newest(services=services, conversation=conversation)  # issue 19
        await connection.catch_up()
        if read := await read_receipts.replay(services=services, conversation_id=conversation.id):
            await connection.send(read)
        if conversation.state != State.BOT:
            await connection.send(await queue_status.status(services=services,
                                                            conversation_id=conversation.id))
        tasks = [asyncio.create_task(connection.listen(subscription)),
                 asyncio.create_task(connection.work_turns())]
        # Turns a crash interrupted (stored and acked, but never answered) are finished now; so are turns
        # another tab is running, which are only waited for (the database lets one worker run a turn).
        for message_id in await services.run(store.unanswered_customer_message_ids,
                                             conversation_id=conversation.id):
            connection.turns.put_nowait((message_id, None))
        await _receive_loop(websocket, services, connection)
    except WebSocketDisconnect:
        pass
    except StorageUnavailable as error:  # nothing was stored: the widget resends after reconnecting
        with contextlib.suppress(Exception):
            await _storage_unavailable(websocket, client_id=error.client_id)
    except Exception:
        log.exception("widget connection failed")
        with contextlib.suppress(Exception):
            await websocket.send_json(error_frame(code="server_error",
                                                  message="Sorry, something went wrong. Reconnecting..."))
            await websocket.close(code=1011)
    finally:
        for task in tasks:
            task.cancel()
        await subscription.close()
        with contextlib.suppress(Exception):
            await lifecycle.disconnected(services=services, conversation_id=conversation.id,
                                         connected_at=conversation.customer_connected_at)


async def _storage_unavailable(websocket: WebSocket, *, client_id: str | None) -> None:
    text = MESSAGE_NOT_STORED_TEXT if client_id else STORAGE_UNAVAILABLE_TEXT
    await websocket.send_json(error_frame(code="temporarily_unavailable", message=text, client_id=client_id))
    await websocket.close(code=1013)  # "try again later": the widget reconnects with backoff


class MessageChecks:
    """A customer message frame checked before anything is stored: client_id, types, emptiness, size, rate."""

    def __init__(self, services: Services) -> None:
        settings = services.settings
        self.max_chars = settings.chat_max_message_chars
        self.too_long_text = f"That message is too long. Please keep it under {self.max_chars:,} characters."
        self.flood_guard = FloodGuard(max_messages=settings.chat_rate_limit_messages,
                                      per_seconds=settings.chat_rate_limit_seconds)

    def check(self, frame: dict[str, Any]) -> dict[str, Any] | tuple[str, str, str | None]:
        """An error frame to send, or the message as (client_id, text, payload)."""
        client_id, text, payload = client_id_of(frame), frame.get("text"), frame.get("payload")
        if client_id is None:
            return error_frame(code="bad_client_id", message="Each message needs a client_id.")
        if not isinstance(text, str | None) or not isinstance(payload, str | None):
            return error_frame(code="bad_frame", client_id=client_id,
                               message="That message could not be read.")
        text = clean_text(text or "")
        payload = (payload or "").strip() or None
        if not text.strip() and not payload:
            return error_frame(code="empty_message", client_id=client_id,
                               message="Your message looks empty. Please type something.")
        if len(text) > self.max_chars:
            return error_frame(code="message_too_long", message=self.too_long_text, client_id=client_id)
        if not self.flood_guard.allow():
            return error_frame(code="rate_limited", client_id=client_id,
                               message="You're sending messages very fast; please wait a moment.")
        return client_id, text, payload


async def _receive_message(connection: CustomerConnection, checks: MessageChecks,
                           frame: dict[str, Any]) -> None:
    checked = checks.check(frame)
    if isinstance(checked, dict):
        await connection.send(checked)
        return
    client_id, text, payload = checked
    services = connection.services
    try:
        # Nothing else running here: the message's turn is claimed in the transaction that stores it.
        stored = await customer_message.perform(
            services=services, conversation_id=connection.conversation_id, client_id=client_id,
            text=text or payload or "", payload=payload, claim_turn=connection.idle())
    except PayloadNotOffered as refused:  # nothing stored, nothing reaches Rasa
        await connection.send(error_frame(code=refused.code, message=refused.message, client_id=client_id))
        return
    if stored.claim is not None:  # started before the ack, so that a closing socket never strands the claim
        connection.turns.put_nowait((stored.message.id, turns.start_run(
            services=services, conversation_id=connection.conversation_id, message_id=stored.message.id,
            claim=stored.claim)))
    elif not stored.message.processed:
        connection.turns.put_nowait((stored.message.id, None))
    await connection.send({"type": "ack", "client_id": client_id, "seq": stored.message.seq})


async def _email_transcript(connection: CustomerConnection, frame: dict) -> None:
    """The widget's "Email me this conversation" (issue 19): the stored system message confirms it; a refusal
    is an error frame with the sentence to show (no client_id: it names no customer message)."""
    client_id = client_id_of(frame)
    if client_id is None:
        await connection.send(error_frame(code="bad_frame", message="That request could not be read."))
        return
    try:
        await outbound.email_transcript(services=connection.services,
                                        conversation_id=connection.conversation_id, client_id=client_id)
    except outbound.TranscriptRefused as refused:
        await connection.send(error_frame(code="transcript_not_sent", message=refused.message))
    except StorageUnavailable:
        await connection.send(error_frame(code="transcript_not_sent",
                                          message="Sorry, I couldn't send the email now. Please try later."))


async def _receive_loop(websocket: WebSocket, services: Services, connection: CustomerConnection) -> None:
    checks = MessageChecks(services)
    while True:
        raw = await receive_text_frame(websocket)
        if raw is None:
            await connection.send(error_frame(code="bad_frame", message="That message could not be read."))
            continue
        if len(raw) > max(MAX_RAW_FRAME_CHARS, 8 * checks.max_chars):
            await connection.send(error_frame(code="message_too_long", message=checks.too_long_text,
                                              client_id=client_id_of_oversized(raw)))
            continue
        frame = parse_frame(raw)
        kind = frame["type"] if frame is not None else None
        if frame is None:
            await connection.send(error_frame(code="bad_frame", message="That message could not be read."))
        elif kind == "message":
            await _receive_message(connection, checks, frame)
        elif kind == "typing":
            await notifier.publish_typing(services=services, conversation_id=connection.conversation_id,
                                          sender=Sender.CUSTOMER)
        elif kind == "ping":
            await connection.send({"type": "pong"})
        elif kind == "email_transcript":
            await _email_transcript(connection, frame)
        elif kind == "hello":
            await connection.send(error_frame(code="already_started",
                                              message="This chat is already connected."))
        else:
            await connection.send(error_frame(code="bad_frame",
                                              message="That message type is not supported."))
