"""Live fan-out of conversation and queue events between connections and replicas.

Pub/sub only *notifies*; the database is the source of truth. Subscribers catch up from the
database by sequence number, so a lost notification delays a message but never loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from redis.asyncio.client import PubSub as RedisClientPubSub

log = logging.getLogger(__name__)

QUEUE_CHANNEL = "handoff:queue"
Event = dict[str, Any]  # one JSON object: {"kind": ..., ...}


def conversation_channel(conversation_id: str) -> str:
    return f"handoff:conversation:{conversation_id}"


def staff_channel(user_id: int) -> str:
    return f"handoff:staff:{user_id}"


class Subscription(Protocol):
    def __aiter__(self) -> AsyncIterator[Event]: ...
    async def close(self) -> None: ...


class PubSub(Protocol):
    async def publish(self, channel: str, event: Event) -> None: ...
    async def subscribe(self, *channels: str) -> Subscription: ...
    async def close(self) -> None: ...


class _MemorySubscription:
    def __init__(self, hub: InProcessPubSub, channels: tuple[str, ...]):
        self._hub = hub
        self.channels = channels
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=1000)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()

    async def close(self) -> None:
        self._hub._remove(self)


class InProcessPubSub:
    """Single-process fan-out (the default; one replica)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[_MemorySubscription]] = defaultdict(set)

    async def publish(self, channel: str, event: Event) -> None:
        for subscription in list(self._subscribers.get(channel, ())):
            try:
                subscription.queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("dropping an event for a slow subscriber on %s "
                            "(it will catch up from the database)", channel)

    async def subscribe(self, *channels: str) -> _MemorySubscription:
        subscription = _MemorySubscription(self, channels)
        for channel in channels:
            self._subscribers[channel].add(subscription)
        return subscription

    def _remove(self, subscription: _MemorySubscription) -> None:
        for channel in subscription.channels:
            self._subscribers[channel].discard(subscription)
            if not self._subscribers[channel]:
                self._subscribers.pop(channel, None)

    async def close(self) -> None:
        self._subscribers.clear()


class _RedisSubscription:
    def __init__(self, pubsub: RedisClientPubSub) -> None:
        self._pubsub = pubsub

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            try:
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except Exception:  # Redis went away: back off; clients catch up from the database.
                log.warning("redis subscription failed; retrying", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            if message is None:
                continue
            try:
                yield json.loads(message["data"])
            except (ValueError, TypeError):
                log.warning("ignoring a malformed pub/sub event")

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()


class RedisPubSub:
    """Fan-out between replicas through Redis PUBLISH/SUBSCRIBE."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis_asyncio

        self._redis = redis_asyncio.from_url(url, decode_responses=True)

    async def publish(self, channel: str, event: Event) -> None:
        try:
            await self._redis.publish(channel, json.dumps(event))
        except Exception:
            log.warning("redis publish failed on %s (subscribers will catch up from the database)", channel)

    async def subscribe(self, *channels: str) -> _RedisSubscription:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(*channels)
        return _RedisSubscription(pubsub)

    async def close(self) -> None:
        await self._redis.aclose()


def make_pubsub(url: str) -> PubSub:
    if url.startswith("redis://") or url.startswith("rediss://"):
        return RedisPubSub(url)
    if url in {"", "memory://"}:
        return InProcessPubSub()
    raise ValueError(f"HANDOFF_PUBSUB_URL must be memory:// or redis://..., not {url!r}")
