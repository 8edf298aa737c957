"""Every received message, raw, in one SQLite file; parsed on read (text, HTML, attachments)."""
import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    mail_from TEXT NOT NULL,
    rcpt_to TEXT NOT NULL,
    raw BLOB NOT NULL,
    forwarded TEXT
)
"""
COLUMNS = "id, received_at, mail_from, rcpt_to, raw, forwarded"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class StoredMessage:
    id: int
    received_at: str
    mail_from: str
    rcpt_to: list[str]
    raw: bytes
    forwarded: dict[str, Any] | None = None  # the inbound-webhook forward's result (forward.py), if any

    @property
    def parsed(self) -> EmailMessage:
        message = BytesParser(policy=policy.default).parsebytes(self.raw)
        assert isinstance(message, EmailMessage)
        return message

    def header(self, name: str) -> str:
        value = self.parsed.get(name)
        return str(value) if value is not None else ""

    def part(self, subtype: str) -> str | None:
        body = self.parsed.get_body(preferencelist=(subtype,))
        if body is None or not isinstance(body, EmailMessage):
            return None
        try:
            content = body.get_content()
        except (LookupError, ValueError):  # unknown charset: show what is there, not an error page
            payload = body.get_payload(decode=True)
            content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
        return str(content)

    def attachments(self) -> list[Attachment]:
        found = []
        for part in self.parsed.iter_attachments():
            payload = part.get_payload(decode=True)
            content = payload if isinstance(payload, bytes) else b""
            found.append(Attachment(part.get_filename() or "attachment", part.get_content_type(), content))
        return found

    def as_json(self) -> dict[str, Any]:
        message = self.parsed
        return {
            "id": self.id,
            "forwarded": self.forwarded,
            "received_at": self.received_at,
            "mail_from": self.mail_from,
            "rcpt_to": self.rcpt_to,
            "subject": self.header("Subject"),
            "message_id": self.header("Message-ID"),
            "in_reply_to": self.header("In-Reply-To") or None,
            "headers": {name: str(value) for name, value in message.items()},
            "text": self.part("plain"),
            "html": self.part("html"),
            "attachments": [
                {"filename": a.filename, "content_type": a.content_type, "size": len(a.content)}
                for a in self.attachments()
            ],
        }


class MailStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(SCHEMA)
            columns = {row[1] for row in connection.execute("PRAGMA table_info(messages)")}
            if "forwarded" not in columns:  # a database from before forwarding
                connection.execute("ALTER TABLE messages ADD COLUMN forwarded TEXT")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def add(self, *, mail_from: str, rcpt_to: list[str], raw: bytes) -> int:
        with self._lock, self._connect() as connection:
            cursor = connection.execute(
                "INSERT INTO messages (received_at, mail_from, rcpt_to, raw) VALUES (?, ?, ?, ?)",
                (datetime.now(UTC).isoformat(timespec="seconds"), mail_from, "\n".join(rcpt_to), raw),
            )
            return int(cursor.lastrowid or 0)

    def set_forwarded(self, message_id: int, result: dict[str, Any]) -> None:
        with self._lock, self._connect() as connection:
            connection.execute("UPDATE messages SET forwarded = ? WHERE id = ?",
                               (json.dumps(result), message_id))

    def list(self, *, to: str | None = None, limit: int = 200) -> list[StoredMessage]:
        query = f"SELECT {COLUMNS} FROM messages"
        params: tuple[Any, ...] = ()
        if to:
            query += " WHERE ('\n' || lower(rcpt_to) || '\n') LIKE ?"
            params = (f"%\n{to.strip().lower()}\n%",)
        query += " ORDER BY id DESC LIMIT ?"
        with self._connect() as connection:
            rows = connection.execute(query, (*params, limit)).fetchall()
        return [self._row(row) for row in rows]

    def get(self, message_id: int) -> StoredMessage | None:
        with self._connect() as connection:
            row = connection.execute(
                f"SELECT {COLUMNS} FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
        return self._row(row) if row else None

    def clear(self) -> int:
        with self._lock, self._connect() as connection:
            return connection.execute("DELETE FROM messages").rowcount

    @staticmethod
    def _row(row: tuple[Any, ...]) -> StoredMessage:
        return StoredMessage(id=row[0], received_at=row[1], mail_from=row[2],
                             rcpt_to=[r for r in row[3].split("\n") if r], raw=bytes(row[4]),
                             forwarded=json.loads(row[5]) if row[5] else None)
