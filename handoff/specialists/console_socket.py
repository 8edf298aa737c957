"""The console's WebSocket (/ws/console): live queue, watched conversations, presence heartbeat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from handoff.context import Services
from handoff.conversations import read_receipts, store
from handoff.conversations.frames import error_frame, parse_frame, receive_text_frame, send_frame
from handoff.conversations.widget_socket import CONVERSATION_ID
from handoff.deps import staff_for
from handoff.pubsub import QUEUE_CHANNEL, Subscription, conversation_channel, staff_channel
from handoff.queue import status as queue_status
from handoff.specialists import auth, work_access
from handoff.specialists.security import refuse_cross_site_socket
from handoff.specialists.staff import Staff
from handoff.vocabulary import CHAT_ROLES, StaffRole

log = logging.getLogger(__name__)
router = APIRouter()
_local_connections: Counter[int] = Counter()


class ConsoleConnection:
    def __init__(self, *, websocket: WebSocket, services: Services, staff: Staff):
        self.websocket = websocket
        self.services = services
        self.staff = staff
        self._send_lock = asyncio.Lock()
        self.watched: dict[str, tuple[Subscription, asyncio.Task[None]]] = {}

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await send_frame(self.websocket, frame)

    async def forward_general(self, subscription: Subscription) -> None:
        async for event in subscription:
            kind = event.get("kind")
            if kind == "queue":
                entries = queue_status.visible_to(event["entries"], self.staff)
                new_chat = event.get("new_chat")
                visible = any(entry["conversation_id"] == new_chat for entry in entries)
                await self.send({"type": "queue", "entries": entries,
                                 "new_chat": new_chat if visible else None})
            elif kind == "sla_breach" and self.staff.role == StaffRole.SUPERVISOR:
                await self.send(event["frame"])
            elif kind == "transferred_to_you":
                await self.send({"type": "transferred_to_you", "conversation_id": event["conversation_id"],
                                 "from": event.get("from")})
            elif kind == "credits_changed":
                await self.send({"type": "credits_changed", "conversation_id": event["conversation_id"]})

    async def forward_conversation(self, conversation_id: str, subscription: Subscription) -> None:
        async for event in subscription:
            kind = event.get("kind")
            if kind == "message":
                await self.send({"type": "message", "conversation_id": conversation_id,
                                 "message": event["frame"]})
            elif kind == "status":
                await self.send({**event["frame"], "conversation_id": conversation_id})
            elif kind == "typing" and event.get("sender") == "customer":
                await self.send({"type": "typing", "conversation_id": conversation_id, "sender": "customer"})
            elif kind == "conversation_changed":
                await self.send({"type": "conversation_changed", "conversation_id": conversation_id})
            elif kind == "note":
                await self.send({"type": "note", "conversation_id": conversation_id, "note": event["note"]})

    async def watch(self, conversation_id: str) -> None:
        """Stream a conversation the specialist's work needs (work_access); every watch is audited."""
        if conversation_id in self.watched or len(self.watched) >= 20:
            return
        if not CONVERSATION_ID.fullmatch(conversation_id):
            await self.send({**error_frame(code="conversation_not_found", message="No such chat."),
                             "conversation_id": conversation_id[:64]})
            return
        # Subscribed before the access check (which writes the audit row): a message published meanwhile waits
        # in the subscription instead of being lost; nothing is forwarded unless the check allows it.
        subscription = await self.services.pubsub.subscribe(conversation_channel(conversation_id))
        try:
            _conversation, reason = await self.services.run(work_access.look_at,
                                                            conversation_id=conversation_id,
                                                            staff=self.staff, action="watch_conversation")
        except store.ConversationNotFound:
            await subscription.close()
            await self.send({**error_frame(code="conversation_not_found", message="No such chat."),
                             "conversation_id": conversation_id[:64]})
            return
        except BaseException:
            await subscription.close()
            raise
        if reason is None:
            await subscription.close()
            await self.send({**error_frame(code="not_your_chat", message=work_access.NOT_YOUR_WORK),
                             "conversation_id": conversation_id})
            return
        task = asyncio.create_task(self.forward_conversation(conversation_id, subscription))
        self.watched[conversation_id] = (subscription, task)

    async def unwatch(self, conversation_id: str) -> None:
        entry = self.watched.pop(conversation_id, None)
        if entry:
            subscription, task = entry
            task.cancel()
            await subscription.close()

    async def close_all(self) -> None:
        for conversation_id in list(self.watched):
            await self.unwatch(conversation_id)


async def _signed_out(websocket: WebSocket) -> None:
    await websocket.send_json({"type": "error", "code": "unauthorized", "message": "Please log in again."})
    await websocket.close(code=4401, reason="signed out")


@router.websocket("/ws/console")
async def console_socket(websocket: WebSocket, token: str = "") -> None:
    services: Services = websocket.app.state.services
    if await refuse_cross_site_socket(websocket, services.settings):
        return
    await websocket.accept()
    session_token = token or websocket.cookies.get(auth.SESSION_COOKIE)
    staff = await staff_for(services, session_token)
    if staff is None or staff.role not in CHAT_ROLES:
        await _signed_out(websocket)
        return
    connection = ConsoleConnection(websocket=websocket, services=services, staff=staff)
    general = await services.pubsub.subscribe(QUEUE_CHANNEL, staff_channel(staff.id))
    _local_connections[staff.id] += 1
    general_task = None
    try:
        await services.run(store.set_presence, user_id=staff.id)
        general_task = asyncio.create_task(connection.forward_general(general))
        await connection.send({"type": "hello", "user": {"username": staff.username, "role": staff.role,
                                                         "display_name": staff.display_name},
                               "queue": queue_status.visible_to(
                                   await queue_status.snapshot(services=services), staff)})
        await _receive_loop(connection, session_token=session_token)
    except WebSocketDisconnect:
        pass
    except Exception:
        log.exception("console connection failed")
    finally:
        if general_task:
            general_task.cancel()
        await general.close()
        await connection.close_all()
        _local_connections[staff.id] -= 1
        if _local_connections[staff.id] <= 0:
            _local_connections.pop(staff.id, None)
            with contextlib.suppress(Exception):
                await services.run(store.set_presence, user_id=staff.id, online=False)


async def _receive_loop(connection: ConsoleConnection, *, session_token: str | None) -> None:
    """Until the socket closes or (at a ping) the session has ended."""
    websocket, services, staff = connection.websocket, connection.services, connection.staff
    while True:
        raw = await receive_text_frame(websocket)
        frame = parse_frame(raw) if raw is not None else None
        if frame is None:  # binary, unparseable, nested too deep or without a type: answered, stays open
            await connection.send(error_frame(code="bad_frame", message="That message could not be read."))
            continue
        kind, conversation_id = frame.get("type"), frame.get("conversation_id")
        if kind == "ping":
            # An automatic ping is not activity: a session that expired (idle or absolute) ends the socket.
            if await staff_for(services, session_token, touch=False) is None:
                await _signed_out(websocket)
                return
            await services.run(store.set_presence, user_id=staff.id)
            await connection.send({"type": "pong"})
        elif kind == "watch" and isinstance(conversation_id, str):
            await connection.watch(conversation_id)
        elif kind == "unwatch" and isinstance(conversation_id, str):
            await connection.unwatch(conversation_id)
        elif kind == "seen" and isinstance(conversation_id, str) and conversation_id in connection.watched:
            # The chat open on this console showed the customer's messages up to seq (read_receipts).
            if (seq := read_receipts.seen_seq_of(frame)) is not None:
                await read_receipts.seen(services=services, conversation_id=conversation_id, seq=seq)
