"""The send loop's work: claim one due row, send it through SMTP, mark it
(docs/contracts.md, "Email", Sending).

A row is claimed by a conditional UPDATE (queued -> sending) committed before anything is sent, so two workers
never send the same row. The Message-ID was fixed when the row was queued: every retry sends the same message.
Relay down or a temporary refusal -> queued again after an exponential backoff; a permanent refusal or the
last attempt -> failed (kept, one warning line). A worker that dies after its claim leaves the row
`sending`; it is claimed again after MAIL_SENDING_STALE_SECONDS.
"""

import base64
import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from backend.base import utcnow
from backend.config import Settings
from backend.mail.models import MailMessage, MailStatus

logger = logging.getLogger("backend.mail")
# CRLF line ends; headers folded only past 998 characters, so Message-ID and Reply-To stay on one line.
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


class PermanentFailure(Exception):
    """The relay refused this message for good (5xx): retrying would not help."""


class Transport(Protocol):
    def send(self, message: EmailMessage, *, sender: str, recipients: list[str]) -> None: ...


class SmtpTransport:
    """One SMTP connection per message: host, port, STARTTLS and credentials from the settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage, *, sender: str, recipients: list[str]) -> None:
        settings = self.settings
        with smtplib.SMTP(
            settings.mail_smtp_host, settings.mail_smtp_port, timeout=settings.mail_smtp_timeout_seconds
        ) as smtp:
            smtp.ehlo()
            if settings.mail_smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())  # raises when the relay does not offer it
                smtp.ehlo()
            if settings.mail_smtp_user:
                if not settings.mail_smtp_starttls and settings.mail_smtp_host not in LOOPBACK_HOSTS:
                    raise smtplib.SMTPException("refusing to send SMTP credentials without STARTTLS")
                smtp.login(settings.mail_smtp_user, settings.mail_smtp_password.get_secret_value())
            try:
                refused = smtp.send_message(message, from_addr=sender, to_addrs=recipients)
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _text in exc.recipients.values()]
                if codes and all(code >= 500 for code in codes):
                    raise PermanentFailure(f"recipient refused ({codes[0]})") from None
                raise
            except smtplib.SMTPResponseException as exc:
                if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError):
                    raise PermanentFailure(f"refused by the relay ({exc.smtp_code})") from None
                raise
            if refused:
                raise PermanentFailure("recipient refused")


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    ids: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {"sent": self.sent, "retried": self.retried, "failed": self.failed}


def backoff(*, attempts: int, settings: Settings) -> timedelta:
    seconds = settings.mail_retry_base_seconds * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, settings.mail_retry_max_seconds))


def build_message(row: MailMessage, *, settings: Settings) -> EmailMessage:
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = settings.mail_from
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = row.message_id
    message["X-Billing-Mail-Id"] = row.id
    for name, value in row.headers.items():
        message[name] = value
    message.set_content(row.body_text)
    message.add_alternative(row.body_html, subtype="html")
    for attachment in row.attachments or []:
        maintype, _, subtype = attachment["content_type"].partition("/")
        message.add_attachment(base64.b64decode(attachment["data"]), maintype=maintype,
                               subtype=subtype or "octet-stream", filename=attachment["filename"])
    return message


def _due(now: datetime, stale_before: datetime) -> object:
    return or_(
        and_(MailMessage.status == MailStatus.queued, MailMessage.next_attempt_at <= now),
        and_(MailMessage.status == MailStatus.sending, MailMessage.claimed_at < stale_before),
    )


def claim_next(session: Session, *, now: datetime, settings: Settings) -> MailMessage | None:
    stale_before = now - timedelta(seconds=settings.mail_sending_stale_seconds)
    candidates = session.scalars(
        select(MailMessage.id)
        .where(_due(now, stale_before))  # type: ignore[arg-type]
        .order_by(MailMessage.next_attempt_at, MailMessage.id)
        .limit(20)
    ).all()
    session.rollback()
    for mail_id in candidates:
        claimed = session.execute(
            update(MailMessage)
            .where(MailMessage.id == mail_id, _due(now, stale_before))  # type: ignore[arg-type]
            .values(status=MailStatus.sending, claimed_at=now, attempts=MailMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            return session.get(MailMessage, mail_id, populate_existing=True)
    return None


def _finish(session: Session, row: MailMessage, **values: object) -> None:
    session.execute(
        update(MailMessage)
        .where(
            MailMessage.id == row.id,
            MailMessage.status == MailStatus.sending,
            MailMessage.claimed_at == row.claimed_at,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def send_one(
    session: Session,
    row: MailMessage,
    *,
    settings: Settings,
    transport: Transport,
    now: datetime,
    report: SendReport,
) -> None:
    message = build_message(row, settings=settings)
    sender = parseaddr(settings.mail_from)[1] or settings.mail_from
    try:
        transport.send(message, sender=sender, recipients=[row.to_address])
    except PermanentFailure as exc:
        _finish(session, row, status=MailStatus.failed, last_error=str(exc)[:300], claimed_at=None)
        report.failed += 1
        logger.warning("mail %s (%s) refused permanently: %s", row.id, row.template, exc)
        return
    except (OSError, smtplib.SMTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
        if row.attempts >= settings.mail_retry_max_attempts:
            _finish(session, row, status=MailStatus.failed, last_error=error, claimed_at=None)
            report.failed += 1
            logger.warning(
                "mail %s (%s) not sent after %d attempts, given up: %s",
                row.id,
                row.template,
                row.attempts,
                error,
            )
            return
        retry_at = now + backoff(attempts=row.attempts, settings=settings)
        _finish(
            session,
            row,
            status=MailStatus.queued,
            last_error=error,
            next_attempt_at=retry_at,
            claimed_at=None,
        )
        report.retried += 1
        logger.warning(
            "mail %s (%s) not sent (attempt %d): %s; retrying at %s",
            row.id,
            row.template,
            row.attempts,
            error,
            retry_at.isoformat(timespec="seconds"),
        )
        return
    _finish(session, row, status=MailStatus.sent, sent_at=now, last_error=None, claimed_at=None)
    report.sent += 1
    report.ids.append(row.id)
    logger.info("mail %s (%s) sent to the relay, attempt %d", row.id, row.template, row.attempts)


def send_due(
    session_factory: Callable[[], Session],
    *,
    settings: Settings,
    transport: Transport | None = None,
    clock: Callable[[], datetime] = utcnow,
    limit: int = 100,
    should_stop: Callable[[], bool] = lambda: False,
) -> SendReport:
    """Sends what is due now, one row at a time, up to `limit` rows. Stops at the first relay failure of this
    run (the rest waits for the next run instead of each timing out)."""
    transport = transport or SmtpTransport(settings)
    report = SendReport()
    with session_factory() as session:
        for _ in range(limit):
            if should_stop():
                break
            now = clock()
            row = claim_next(session, now=now, settings=settings)
            if row is None:
                break
            send_one(session, row, settings=settings, transport=transport, now=now, report=report)
            if report.retried:
                break
    return report
