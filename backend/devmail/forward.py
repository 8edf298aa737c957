"""Inbound routing in development (issue 19): like a mail provider's inbound route, every message received for
an address at the reply domain ($MAIL_REPLY_DOMAIN) is posted to the handoff service's generic inbound-email
webhook, signed as docs/contracts.md "Inbound email" says. A failure is one warning line, never a crash."""
import hashlib
import hmac
import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import getaddresses
from typing import Any

import httpx

from backend.devmail.store import StoredMessage

logger = logging.getLogger("backend.devmail")
DEV_INBOUND_SECRET = "dev-email-inbound-secret"  # the handoff service's development default
TIMEOUT_SECONDS = 10.0
MAX_REPORTED_CHARS = 300


@dataclass(frozen=True)
class ForwardSettings:
    url: str  # empty: forwarding off
    secret: str
    reply_domain: str
    app_env: str

    @classmethod
    def from_env(cls) -> "ForwardSettings":
        handoff = os.environ.get("HANDOFF_URL", "http://127.0.0.1:8080").rstrip("/")
        return cls(url=os.environ.get("DEVMAIL_INBOUND_URL", f"{handoff}/api/email/inbound/generic"),
                   secret=os.environ.get("EMAIL_INBOUND_SECRET", DEV_INBOUND_SECRET),
                   reply_domain=os.environ.get("MAIL_REPLY_DOMAIN", "reply.example.test").strip().lower(),
                   app_env=os.environ.get("APP_ENV", "development"))

    def is_reply_address(self, address: str) -> bool:
        return address.strip().lower().rpartition("@")[2] == self.reply_domain

    @property
    def development(self) -> bool:
        return self.app_env == "development"


def sign(*, body: bytes, secret: str, timestamp: int) -> str:
    """`X-Email-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def generic_payload(message: StoredMessage, recipients: list[str]) -> dict[str, Any]:
    """The generic provider's JSON (docs/contracts.md, "Inbound email") of one received message."""
    parsed = message.parsed
    headers: dict[str, str] = {}
    for name, value in parsed.items():
        headers.setdefault(name, str(value))  # the first of a repeated header (Received: the newest)
    references = [str(value) for value in parsed.get_all("References") or []]
    return {
        "from": message.header("From") or message.mail_from,
        "to": recipients,
        "subject": message.header("Subject"),
        "text": message.part("plain"),
        "html": message.part("html"),
        "message_id": message.header("Message-ID"),
        "in_reply_to": message.header("In-Reply-To") or None,
        "references": references,
        "headers": headers,
        "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": len(a.content)}
                        for a in message.attachments()],
    }


def reply_recipients(message: StoredMessage, settings: ForwardSettings) -> list[str]:
    """The envelope recipients at the reply domain, else those in To/Cc (what an inbound route matches)."""
    found = [r for r in message.rcpt_to if settings.is_reply_address(r)]
    if not found:
        header_values = [message.header("To"), message.header("Cc")]
        found = [a for _n, a in getaddresses([v for v in header_values if v]) if settings.is_reply_address(a)]
    return found


async def forward(message: StoredMessage, settings: ForwardSettings) -> dict[str, Any] | None:
    """Post the message to the inbound webhook if it is for the reply domain; the result to keep with it."""
    recipients = reply_recipients(message, settings)
    if not settings.url or not recipients:
        return None
    body = json.dumps(generic_payload(message, recipients)).encode()
    signature = sign(body=body, secret=settings.secret, timestamp=int(time.time()))
    result: dict[str, Any] = {"url": settings.url, "at": datetime.now(UTC).isoformat(timespec="seconds")}
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            response = await client.post(settings.url, content=body, headers={
                "Content-Type": "application/json", "X-Email-Signature": signature})
    except httpx.HTTPError as error:
        result.update(ok=False, error=f"{type(error).__name__}: {error}"[:MAX_REPORTED_CHARS])
        logger.warning("devmail: forwarding message %s to %s failed: %s", message.id, settings.url,
                       result["error"])
        return result
    result.update(ok=response.is_success, status=response.status_code,
                  answer=response.text[:MAX_REPORTED_CHARS])
    if response.is_success:
        logger.info("devmail: forwarded message %s to %s: %d", message.id, settings.url, response.status_code)
    else:
        logger.warning("devmail: forwarding message %s to %s answered %d: %s", message.id, settings.url,
                       response.status_code, result["answer"])
    return result
