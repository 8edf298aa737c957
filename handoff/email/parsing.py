"""An inbound email, read from a provider's webhook into one shape, and the text a conversation keeps of it.

Nothing here renders or executes anything: HTML is parsed as data (script, style and similar elements
dropped with their content, tags removed, entities decoded) into plain text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import Any

from handoff.conversations.input_limits import clean_text

MESSAGE_ID = re.compile(r"<[^<>\s]{1,994}>")
_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
MAX_SUBJECT_CHARS = 200


class BadMessage(Exception):
    """The webhook's body is not a readable email (the reason is logged, the provider gets 422)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int | None


@dataclass(frozen=True)
class InboundEmail:
    from_address: str  # normalised: trimmed, lower case
    from_count: int  # how many addresses the From header names (more than one: never a customer)
    to: tuple[str, ...]
    subject: str
    text: str | None
    html: str | None
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    attachments: tuple[Attachment, ...] = ()
    # What the provider itself says about the sender's authentication (e.g. Mailgun's SPF/DKIM checks).
    provider_checks: tuple[str, ...] = ()


def normalise_address(address: str) -> str:
    return address.strip().lower()


def is_address(address: str) -> bool:
    return len(address) <= 254 and bool(_ADDRESS.match(address))


def _addresses(value: str) -> list[str]:
    return [normalise_address(address) for _name, address in getaddresses([value]) if address]


def message_ids(value: object) -> tuple[str, ...]:
    """Every <message-id> in a header value, a list of them, or nothing usable."""
    if isinstance(value, str):
        return tuple(MESSAGE_ID.findall(value))
    if isinstance(value, list):
        return tuple(found for item in value if isinstance(item, str) for found in MESSAGE_ID.findall(item))
    return ()


def _string(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadMessage(f"field {key!r} is not a string")
    return value


def _build(*, from_header: str, to: list[str], subject: str | None, text: str | None, html: str | None,
           message_id: str | None, in_reply_to: object, references: object, headers: dict[str, str],
           attachments: list[Attachment], provider_checks: tuple[str, ...] = ()) -> InboundEmail:
    senders = _addresses(from_header)
    if not senders or not is_address(senders[0]):
        raise BadMessage("no sender address in From")
    ids = message_ids(message_id or "")
    return InboundEmail(
        from_address=senders[0], from_count=len(senders), to=tuple(to),
        subject=clean_text(subject or "").strip()[:MAX_SUBJECT_CHARS], text=text, html=html,
        message_id=ids[0] if ids else None, in_reply_to=message_ids(in_reply_to),
        references=message_ids(references), headers=headers, attachments=tuple(attachments),
        provider_checks=provider_checks,
    )


def parse_generic(raw: bytes) -> InboundEmail:
    """The generic provider: one JSON object (docs/contracts.md, "Inbound email")."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadMessage("body is not JSON") from error
    if not isinstance(data, dict):
        raise BadMessage("body is not a JSON object")
    to = data.get("to") or []
    to_list = [to] if isinstance(to, str) else to
    if not isinstance(to_list, list) or not all(isinstance(item, str) for item in to_list):
        raise BadMessage("field 'to' is not an address or a list of them")
    headers = data.get("headers") or {}
    if not isinstance(headers, dict):
        raise BadMessage("field 'headers' is not an object")
    attachments = []
    for item in data.get("attachments") or []:
        if not isinstance(item, dict):
            raise BadMessage("an attachment is not an object")
        size = item.get("size")
        attachments.append(Attachment(filename=str(item.get("filename") or "unnamed")[:200],
                                      content_type=str(item.get("content_type") or "unknown")[:100],
                                      size=size if isinstance(size, int) else None))
    return _build(
        from_header=_string(data, "from") or "", to=[a for value in to_list for a in _addresses(value)],
        subject=_string(data, "subject"), text=_string(data, "text"), html=_string(data, "html"),
        message_id=_string(data, "message_id"), in_reply_to=data.get("in_reply_to"),
        references=data.get("references"),
        headers={str(name).lower(): str(value)[:2000] for name, value in headers.items()},
        attachments=attachments,
    )


def parse_mailgun(fields: Mapping[str, str], files: list[Attachment]) -> InboundEmail:
    """Mailgun's inbound route 'forward' POST (form fields as Mailgun documents them)."""
    headers: dict[str, str] = {}
    raw_headers = fields.get("message-headers")
    if raw_headers:
        try:
            pairs = json.loads(raw_headers)
        except ValueError as error:
            raise BadMessage("message-headers is not JSON") from error
        if isinstance(pairs, list):
            for pair in pairs:
                if isinstance(pair, list) and len(pair) == 2:
                    headers.setdefault(str(pair[0]).lower(), str(pair[1])[:2000])
    checks = tuple(f"{name}={fields[name]}" for name in ("X-Mailgun-Spf", "X-Mailgun-Dkim-Check-Result")
                   if fields.get(name))
    return _build(
        from_header=fields.get("from") or fields.get("sender") or "",
        to=_addresses(fields.get("recipient") or "") + _addresses(fields.get("To") or ""),
        subject=fields.get("subject"), text=fields.get("body-plain"), html=fields.get("body-html"),
        message_id=fields.get("Message-Id") or headers.get("message-id"),
        in_reply_to=fields.get("In-Reply-To") or headers.get("in-reply-to"),
        references=fields.get("References") or headers.get("references"),
        headers=headers, attachments=files, provider_checks=checks,
    )


# --- the text a conversation keeps ---------------------------------------------------------------------

_DROPPED_ELEMENTS = {"script", "style", "head", "title", "noscript", "template", "iframe", "object", "svg",
                     "math", "select", "textarea"}
_BLOCK_ELEMENTS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table",
                   "ul", "ol", "section", "article", "hr", "pre"}
_QUOTE_HEADER = re.compile(r"^\s*(On\s.{0,300}\swrote:|-{2,}\s*Original Message\s*-{2,}|From:\s.+)\s*$",
                           re.IGNORECASE)


class _TextOfHtml(HTMLParser):
    """Collects the text of an HTML document; never fetches, renders or runs anything."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._dropped_depth = 0
        self._quote_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED_ELEMENTS:
            self._dropped_depth += 1
        elif tag == "blockquote":
            self._quote_depth += 1  # quoted history: dropped like "> " lines
        if tag in _BLOCK_ELEMENTS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_ELEMENTS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED_ELEMENTS and self._dropped_depth:
            self._dropped_depth -= 1
        elif tag == "blockquote" and self._quote_depth:
            self._quote_depth -= 1
        if tag in _BLOCK_ELEMENTS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._dropped_depth and not self._quote_depth:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(lines)


def new_text_of(body: str) -> str:
    """The customer's own words: quoted history ("On ... wrote:", "> " lines) and the signature cut."""
    kept: list[str] = []
    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.rstrip() in ("--", "-- ") or _QUOTE_HEADER.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def _size_in_words(size: int | None) -> str:
    if size is None:
        return "size unknown"
    return f"{size} bytes" if size < 1024 else f"{size // 1024} KB"


def conversation_text(email: InboundEmail, *, max_chars: int) -> str:
    """What the conversation stores for this email (before redaction): its new text (the subject when the body
    is empty), then a note naming the attachments, which are not stored."""
    source = email.text if email.text and email.text.strip() else html_to_text(email.html or "")
    text = clean_text(new_text_of(source))
    if not text:
        text = email.subject
    if len(text) > max_chars:
        text = text[:max_chars].rstrip() + " [...]"
    if email.attachments:
        names = ", ".join(f"{item.filename} ({item.content_type}, {_size_in_words(item.size)})"
                          for item in email.attachments[:10])
        more = f" and {len(email.attachments) - 10} more" if len(email.attachments) > 10 else ""
        text = (text + "\n\n" if text else "") + f"[Attachments not stored: {names}{more}]"
    if not text.strip():
        raise BadMessage("no text, subject or attachment")
    return text
