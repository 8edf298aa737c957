"""The SMTP side: aiosmtpd accepts every message for any recipient and stores it raw; a message for the reply
domain is then forwarded to the handoff's inbound webhook in the background (forward.py)."""
import asyncio
import logging

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from backend.devmail.forward import ForwardSettings, forward
from backend.devmail.store import MailStore

logger = logging.getLogger("backend.devmail")
MAX_MESSAGE_BYTES = 25 * 1024 * 1024


class StoreHandler:
    def __init__(self, store: MailStore, forwarding: ForwardSettings | None = None) -> None:
        self.store = store
        self.forwarding = forwarding
        self._tasks: set[asyncio.Task[None]] = set()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        number = self.store.add(mail_from=str(envelope.mail_from or ""),
                                rcpt_to=[str(r) for r in envelope.rcpt_tos], raw=raw)
        logger.info("devmail: stored message %s for %s (%d bytes)", number, ", ".join(envelope.rcpt_tos),
                    len(raw))
        if self.forwarding is not None:
            task = asyncio.get_running_loop().create_task(self._forward(number, self.forwarding))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return "250 Message accepted for delivery"

    async def _forward(self, number: int, settings: ForwardSettings) -> None:
        try:
            message = self.store.get(number)
            if message is None:
                return
            result = await forward(message, settings)
            if result is not None:
                self.store.set_forwarded(number, result)
        except Exception as error:  # an unreadable message or a store error: a warning, never a crash
            logger.warning("devmail: forwarding message %s failed: %s", number, type(error).__name__)


def make_controller(store: MailStore, *, host: str, port: int,
                    forwarding: ForwardSettings | None = None) -> Controller:
    return Controller(StoreHandler(store, forwarding), hostname=host, port=port,
                      data_size_limit=MAX_MESSAGE_BYTES, server_hostname="devmail.localhost")
