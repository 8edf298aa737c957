"""Outbound mail through real SMTP (the development mail server as a process): the relay down then up delivers
each message once, backoff between attempts, and the send loop restarted (SIGTERM, or a worker that died
between its claim and the send) loses nothing and sends nothing twice (issue 19). SQLite and PostgreSQL."""
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from backend.audit.models import AuditLog
from backend.config import Settings
from backend.mail.models import MailMessage, MailStatus
from backend.mail.schemas import MailMessageOut, MailRequest, Thread
from backend.mail.sender import send_due
from backend.mail.service import enqueue
from tests.backend.mail_support import REPO_ROOT, devmail_process, free_port

Outbox = tuple[sessionmaker[Session], Callable[..., MailMessageOut]]


@pytest.fixture
def outbox(engine: Engine) -> Iterator[Outbox]:
    factory = sessionmaker(engine, expire_on_commit=False)
    created: list[str] = []

    def queue(
        settings: Settings, *, key: str, ticket: str, to: str, now: datetime | None = None
    ) -> MailMessageOut:
        request = MailRequest(template="ticket_ack", to=to, context={"ticket_number": ticket},
                              thread=Thread(conversation_id=f"conv-{ticket}"))
        with factory() as session:
            message, was_created = enqueue(session, key=key, request=request, actor=None, settings=settings,
                                           now=now or datetime.now(UTC))
        assert was_created
        created.append(message.id)
        return message

    yield factory, queue
    with factory() as session:
        session.execute(delete(MailMessage).where(MailMessage.id.in_(created)))
        session.execute(delete(AuditLog).where(AuditLog.resource.in_([f"mail:{i}" for i in created])))
        session.commit()


def _row(factory: sessionmaker[Session], mail_id: str) -> MailMessage:
    with factory() as session:
        row = session.scalar(select(MailMessage).where(MailMessage.id == mail_id))
        assert row is not None
        return row


def test_relay_down_then_up_delivers_once_with_backoff(outbox: Outbox, tmp_path: Path) -> None:
    factory, queue = outbox
    port = free_port()  # nothing listens: the relay is down
    settings = Settings(APP_ENV="development", MAIL_SMTP_PORT=port, MAIL_RETRY_BASE_SECONDS=60,
                        MAIL_SMTP_TIMEOUT_SECONDS=3)
    start = datetime.now(UTC)
    message = queue(settings, key="relay-down-0001", ticket="T-000042", to="visitor@example.org", now=start)
    moment = [start]

    def clock() -> datetime:
        return moment[0]

    assert send_due(factory, settings=settings, clock=clock).counts == {"sent": 0, "retried": 1, "failed": 0}
    row = _row(factory, message.id)
    retry_at = start + timedelta(seconds=60)
    assert (row.status, row.attempts, row.next_attempt_at) == (MailStatus.queued, 1, retry_at)
    assert row.last_error and "Connection" in row.last_error
    moment[0] = start + timedelta(seconds=30)  # inside the backoff: not tried
    assert send_due(factory, settings=settings, clock=clock).counts == {"sent": 0, "retried": 0, "failed": 0}
    moment[0] = start + timedelta(seconds=61)
    assert send_due(factory, settings=settings, clock=clock).counts["retried"] == 1
    assert _row(factory, message.id).next_attempt_at == moment[0] + timedelta(seconds=120)  # doubled

    with devmail_process(tmp_path, smtp_port=port) as devmail:
        moment[0] = start + timedelta(seconds=61 + 121)
        sent = send_due(factory, settings=settings, clock=clock)
        assert sent.counts == {"sent": 1, "retried": 0, "failed": 0}
        assert send_due(factory, settings=settings, clock=clock).counts["sent"] == 0
        received = devmail.wait_for(1)
        assert len(received) == 1
        mail = received[0]
        assert mail["rcpt_to"] == ["visitor@example.org"]
        assert mail["message_id"] == message.message_id
        assert mail["headers"]["Reply-To"].startswith("reply+conv-T-000042.")
        assert mail["headers"]["Auto-Submitted"] == "auto-generated"
        assert "T-000042" in mail["subject"] and "ticket T-000042" in mail["text"]
        assert "<strong>T-000042</strong>" in mail["html"]
    row = _row(factory, message.id)
    assert (row.status, row.attempts, row.sent_at) == (MailStatus.sent, 3, moment[0])


def _loop(database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "APP_ENV": "development", "BACKEND_DATABASE_URL": database_url,
           "MAIL_SMTP_PORT": str(port), "MAIL_RETRY_BASE_SECONDS": "0.2", "MAIL_RETRY_MAX_SECONDS": "0.4",
           "MAIL_SMTP_TIMEOUT_SECONDS": "3"}
    return subprocess.Popen([sys.executable, "-m", "backend.cli", "send-mail", "--interval", "0.2"],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_send_loop_restart_loses_nothing_and_sends_nothing_twice(
    outbox: Outbox, database_url: str, tmp_path: Path
) -> None:
    factory, queue = outbox
    port = free_port()
    settings = Settings(APP_ENV="development", MAIL_SMTP_PORT=port)
    messages = [queue(settings, key=f"restart-{n:04d}", ticket=f"T-{n:06d}", to=f"c{n}@example.org")
                for n in range(3)]
    # The third was claimed by a worker that died before sending it (ten minutes ago: stale).
    with factory() as session:
        session.execute(update(MailMessage).where(MailMessage.id == messages[2].id).values(
            status=MailStatus.sending, attempts=1, claimed_at=datetime.now(UTC) - timedelta(minutes=10)))
        session.commit()

    first = _loop(database_url, port)  # the relay is down
    try:
        _wait(lambda: all(_row(factory, m.id).attempts >= 2 for m in messages[:1]))
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=20) == 0, first.stderr.read().decode() if first.stderr else ""
    assert {_row(factory, m.id).status for m in messages} <= {MailStatus.queued, MailStatus.sending}

    with devmail_process(tmp_path, smtp_port=port) as devmail:
        second = _loop(database_url, port)
        try:
            _wait(lambda: all(_row(factory, m.id).status == MailStatus.sent for m in messages))
            time.sleep(1.0)  # a few more rounds of the loop: nothing more goes out
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=20) == 0
        received = devmail.messages()
    assert sorted(m["message_id"] for m in received) == sorted(m.message_id for m in messages)
    assert sorted(r for m in received for r in m["rcpt_to"]) == ["c0@example.org", "c1@example.org",
                                                                 "c2@example.org"]


def test_two_send_loops_at_once_send_each_message_once(
    outbox: Outbox, database_url: str, tmp_path: Path
) -> None:
    factory, queue = outbox
    with devmail_process(tmp_path) as devmail:
        settings = Settings(APP_ENV="development", MAIL_SMTP_PORT=devmail.smtp_port)
        messages = [queue(settings, key=f"two-loops-{n:04d}", ticket=f"T-{n:06d}", to=f"w{n}@example.org")
                    for n in range(12)]
        loops = [_loop(database_url, devmail.smtp_port) for _ in range(2)]  # two replicas of the send loop
        try:
            _wait(lambda: all(_row(factory, m.id).status == MailStatus.sent for m in messages))
            time.sleep(1.0)
        finally:
            for loop in loops:
                loop.send_signal(signal.SIGTERM)
            for loop in loops:
                assert loop.wait(timeout=20) == 0
        received = devmail.messages()
    assert sorted(m["message_id"] for m in received) == sorted(m.message_id for m in messages)  # once each
    assert all(_row(factory, m.id).attempts == 1 for m in messages)
