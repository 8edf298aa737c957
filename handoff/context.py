"""What every use case works with: one `Services` container, built in handoff/main.py's lifespan.

Use cases are plain async functions `perform(services=..., ...)`; nothing here connects at import time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError

from handoff.clients.backend import BackendClient
from handoff.clients.rasa import RasaClient
from handoff.config import Settings
from handoff.db import Database
from handoff.errors import StorageUnavailable
from handoff.pubsub import PubSub
from handoff.queue.hours import BusinessHours, parse_business_hours

log = logging.getLogger(__name__)
T = TypeVar("T")


class TurnTasks:
    """Bot turns running as their own tasks, so that one finishes even when the socket that started it closes;
    stopped (after a grace period) at shutdown."""

    def __init__(self) -> None:
        self.in_flight: set[asyncio.Task[Any]] = set()

    def start(self, turn: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.create_task(turn)
        self.in_flight.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("processing a customer message failed", exc_info=task.exception())

    async def stop(self, *, grace_seconds: float) -> None:
        """Give the turns in flight a moment to finish, then cancel them (their claims are given back, so a
        reconnect on another replica runs them at once)."""
        if not self.in_flight:
            return
        _done, pending = await asyncio.wait(set(self.in_flight), timeout=grace_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    pubsub: PubSub
    rasa: RasaClient
    backend: BackendClient
    turns: TurnTasks = field(default_factory=TurnTasks)

    @property
    def hours(self) -> BusinessHours:
        """The desk's opening hours (HANDOFF_BUSINESS_HOURS; checked at start-up by Settings)."""
        return parse_business_hours(self.settings.business_hours)

    async def run(self, work: Callable[..., T], /, **kwargs: Any) -> T:
        """`work(session, **kwargs)` as one transaction in a worker thread. A database outage is
        StorageUnavailable, which the sockets turn into "try again" frames and HTTP into a 503."""
        try:
            return await self.db.run(work, **kwargs)
        except (OperationalError, InterfaceError) as error:
            log.warning("database unavailable: %s", getattr(error, "orig", error))
            raise StorageUnavailable() from error
