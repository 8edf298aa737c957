"""The customer widget's WebSocket (/ws/chat): hello/welcome, acks, replay by seq, live events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from handoff.conversations.customer_token import InvalidCustomerToken, verify_customer_token
from handoff.conversations.frames import (
    client_id_of,
    client_id_of_oversized,
    error_frame,
    message_frame,
    parse_frame,
    receive_text_frame,
)
from handoff.conversations.input_limits import MAX_RAW_FRAME_CHARS, FloodGuard, clean_text
from handoff.conversations.service import (
    CLAIM_RENEWALS_PER_PERIOD,
    HandoffService,
    PayloadNotOffered,
    StorageUnavailable,
)
from handoff.pubsub import conversation_channel
from handoff.specialists.security import refuse_cross_site_socket

log = logging.getLogger(__name__)
router = APIRouter()
HELLO_TIMEOUT_SECONDS = 15
TURN_RETRY_SECONDS = 1.0  # how often a turn claimed by another tab or replica is checked on
CONVERSATION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # ids are uuid4 hex; the column holds 64
# The widget reconnects by itself and resends unacknowledged messages (handoff/web/static/widget.js).
STORAGE_UNAVAILABLE_TEXT = "Sorry, our chat is briefly unavailable. We'll reconnect automatically in a moment."
MESSAGE_NOT_STORED_TEXT = ("Sorry, our chat is briefly unavailable, so your message has not been sent yet. "
                           "It will be sent as soon as the chat reconnects.")


class CustomerConnection:
    def __init__(self, *, websocket: WebSocket, service: HandoffService, conversation_id: str, last_seq: int):
        self.websocket = websocket
        self.service = service
        self.conversation_id = conversation_id
        self.last_sent_seq = last_seq
        self._send_lock = asyncio.Lock()
        self._delivery_lock = asyncio.Lock()
        self.turns: asyncio.Queue[int] = asyncio.Queue()

    async def send(self, frame: dict) -> None:
        async with self._send_lock:
            await self.websocket.send_json(frame)

    async def catch_up(self) -> None:
        """Send every stored message after the last one this connection sent, in order, once."""
        async with self._delivery_lock:
            while True:
                messages = await self.service.messages_after(conversation_id=self.conversation_id,
                                                             after_seq=self.last_sent_seq, limit=200)
                for message in messages:
                    await self.send(message_frame(message))
                    self.last_sent_seq = message.seq
                if len(messages) < 200:
                    return

    async def deliver(self, frame: dict) -> None:
        async with self._delivery_lock:
            if frame["seq"] <= self.last_sent_seq:
                return
            if frame["seq"] == self.last_sent_seq + 1:
                await self.send(frame)
                self.last_sent_seq = frame["seq"]
                return
        await self.catch_up()  # a gap: the database has what pub/sub skipped

    async def listen(self, subscription) -> None:
        async for event in subscription:
            kind = event.get("kind")
            if kind == "message":
                await self.deliver(event["frame"])
            elif kind == "status":
                await self.send(event["frame"])
            elif kind == "typing" and event.get("sender") == "agent":
                await self.send({"type": "typing", "sender": "agent", "agent_name": event.get("agent_name")})

    async def work_turns(self) -> None:
        """Process stored customer messages one at a time, in order (bot replies can take seconds).

        A message whose turn another tab or replica is running is waited for: until it is answered, or until
        that worker's claim lapses (it died) and the turn runs here."""
        retry_seconds = min(TURN_RETRY_SECONDS,
                            self.service.settings.turn_claim_seconds / CLAIM_RENEWALS_PER_PERIOD)
        while True:
            message_id = await self.turns.get()
            while True:
                turn = self.service.start_turn(conversation_id=self.conversation_id, message_id=message_id)
                try:
                    # Shielded: this socket closing does not stop the turn (the service logs its failures).
                    answered = await asyncio.shield(turn)
                except Exception:
                    await self.send(error_frame(code="processing_failed",
                                                message="Sorry, something went wrong. Please try again."))
                    break
                if answered:
                    break
                await asyncio.sleep(retry_seconds)
            with contextlib.suppress(StorageUnavailable):  # the next turn or a reconnect catches up
                await self.catch_up()


async def _receive_hello(websocket: WebSocket) -> dict | None:
    try:
        raw = await asyncio.wait_for(receive_text_frame(websocket), timeout=HELLO_TIMEOUT_SECONDS)
    except asyncio.TimeoutError:
        return None
    frame = parse_frame(raw) if raw is not None else None
    return frame if frame and frame["type"] == "hello" else None


@router.websocket("/ws/chat")
async def chat_socket(websocket: WebSocket, token: str = "") -> None:
    service: HandoffService = websocket.app.state.service
    if await refuse_cross_site_socket(websocket, service.settings):
        return
    await websocket.accept()
    try:
        identity = verify_customer_token(token, secret=service.settings.customer_jwt_secret)
    except InvalidCustomerToken:
        await websocket.send_json(error_frame(code="invalid_token",
                                              message="Your sign-in has expired. Please reload the page."))
        await websocket.close(code=4401)
        return
    try:
        hello = await _receive_hello(websocket)
    except WebSocketDisconnect:  # left (or sent text that is not UTF-8: closed 1007) before saying hello
        return
    if hello is None:
        await websocket.send_json(error_frame(code="hello_expected", message="Please start with a hello frame."))
        await websocket.close(code=4400)
        return
    # Anything that is not a plausible conversation id (NUL bytes, 10 KB strings...) starts a new
    # conversation instead of reaching the database; so does a sequence number out of the column's range.
    requested_id = hello.get("conversation_id")
    requested_id = requested_id if isinstance(requested_id, str) and CONVERSATION_ID.fullmatch(requested_id) else None
    last_seq = hello.get("last_seq")
    last_seq = last_seq if isinstance(last_seq, int) and 0 <= last_seq < 2**31 else 0
    try:
        conversation = await service.start_conversation(
            customer_id=identity.customer_id if identity else None,
            customer_name=identity.first_name if identity else None, conversation_id=requested_id)
    except StorageUnavailable:
        await _storage_unavailable(websocket, client_id=None)
        return
    if conversation.id != requested_id:
        last_seq = 0  # a new conversation: replay everything
    connection = CustomerConnection(websocket=websocket, service=service, conversation_id=conversation.id,
                                    last_seq=last_seq)
    subscription = await service.pubsub.subscribe(conversation_channel(conversation.id))
    tasks: list[asyncio.Task] = []
    try:
        await connection.send({"type": "welcome", "conversation_id": conversation.id, "state": conversation.state,
                               "customer": {"first_name": identity.first_name} if identity else None})
        await connection.catch_up()
        if conversation.state != "bot":
            await connection.send(await service.status_for(conversation_id=conversation.id))
        tasks = [asyncio.create_task(connection.listen(subscription)), asyncio.create_task(connection.work_turns())]
        # Turns a crash interrupted (stored and acked, but never answered) are finished now; so are turns
        # another tab is running, which are only waited for (the database lets one worker run a turn).
        for message_id in await service.unprocessed_customer_messages(conversation_id=conversation.id):
            connection.turns.put_nowait(message_id)
        await _receive_loop(websocket, service, connection)
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
            await service.customer_disconnected(conversation_id=conversation.id,
                                                connected_at=conversation.customer_connected_at)


async def _storage_unavailable(websocket: WebSocket, *, client_id: str | None) -> None:
    text = MESSAGE_NOT_STORED_TEXT if client_id else STORAGE_UNAVAILABLE_TEXT
    await websocket.send_json(error_frame(code="temporarily_unavailable", message=text, client_id=client_id))
    await websocket.close(code=1013)  # "try again later": the widget reconnects with backoff


async def _receive_loop(websocket: WebSocket, service: HandoffService, connection: CustomerConnection) -> None:
    settings = service.settings
    max_chars = settings.chat_max_message_chars
    too_long_text = f"That message is too long. Please keep it under {max_chars:,} characters."
    flood_guard = FloodGuard(max_messages=settings.chat_rate_limit_messages,
                             per_seconds=settings.chat_rate_limit_seconds)
    while True:
        raw = await receive_text_frame(websocket)
        if raw is None:
            await connection.send(error_frame(code="bad_frame", message="That message could not be read."))
            continue
        if len(raw) > max(MAX_RAW_FRAME_CHARS, 8 * max_chars):
            await connection.send(error_frame(code="message_too_long", message=too_long_text,
                                              client_id=client_id_of_oversized(raw)))
            continue
        frame = parse_frame(raw)
        if frame is None:
            await connection.send(error_frame(code="bad_frame", message="That message could not be read."))
            continue
        kind = frame["type"]
        if kind == "message":
            client_id, text, payload = client_id_of(frame), frame.get("text"), frame.get("payload")
            if client_id is None:
                await connection.send(error_frame(code="bad_client_id", message="Each message needs a client_id."))
                continue
            if not isinstance(text, str | None) or not isinstance(payload, str | None):
                await connection.send(error_frame(code="bad_frame", client_id=client_id,
                                                  message="That message could not be read."))
                continue
            text = clean_text(text or "")
            payload = (payload or "").strip() or None
            if not text.strip() and not payload:
                await connection.send(error_frame(code="empty_message", client_id=client_id,
                                                  message="Your message looks empty. Please type something."))
                continue
            if len(text) > max_chars:
                await connection.send(error_frame(code="message_too_long", message=too_long_text,
                                                  client_id=client_id))
                continue
            if not flood_guard.allow():
                await connection.send(error_frame(
                    code="rate_limited", client_id=client_id,
                    message="You're sending messages very fast; please wait a moment."))
                continue
            try:
                message, _created = await service.store_customer_message(
                    conversation_id=connection.conversation_id, client_id=client_id, text=text or payload,
                    payload=payload)
            except PayloadNotOffered as refused:  # nothing stored, nothing reaches Rasa
                await connection.send(error_frame(code=refused.code, message=refused.message, client_id=client_id))
                continue
            await connection.send({"type": "ack", "client_id": client_id, "seq": message.seq})
            if not message.processed:
                connection.turns.put_nowait(message.id)
        elif kind == "typing":
            await service.customer_typing(conversation_id=connection.conversation_id)
        elif kind == "ping":
            await connection.send({"type": "pong"})
        elif kind == "hello":
            await connection.send(error_frame(code="already_started", message="This chat is already connected."))
        else:
            await connection.send(error_frame(code="bad_frame", message="That message type is not supported."))
