"""The SMTP side: aiosmtpd accepts every message for any recipient and stores it raw."""
import logging

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from backend.devmail.store import MailStore

logger = logging.getLogger("backend.devmail")
MAX_MESSAGE_BYTES = 25 * 1024 * 1024


class StoreHandler:
    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        number = self.store.add(mail_from=str(envelope.mail_from or ""),
                                rcpt_to=[str(r) for r in envelope.rcpt_tos], raw=raw)
        logger.info("devmail: stored message %s for %s (%d bytes)", number, ", ".join(envelope.rcpt_tos),
                    len(raw))
        return "250 Message accepted for delivery"


def make_controller(store: MailStore, *, host: str, port: int) -> Controller:
    return Controller(StoreHandler(store), hostname=host, port=port, data_size_limit=MAX_MESSAGE_BYTES,
                      server_hostname="devmail.localhost")
