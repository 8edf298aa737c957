"""The HTTP side: a list page, one message's page, its parts and a JSON API for tests.

Nothing from a message is ever interpreted as markup on our pages: headers and text are escaped; the HTML part
is only served by /messages/{n}/html with `Content-Security-Policy: sandbox` and shown in an iframe with an
empty `sandbox` attribute (no scripts, no forms, no same-origin), so a message's script never runs.

"Reply as the customer" (development only): a message whose Reply-To is at the reply domain gets a form that
sends a real, threaded reply through this server's own SMTP port, which forwards it to the handoff service
(forward.py) like a mail provider's inbound route.
"""
import asyncio
import smtplib
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from html import escape
from typing import Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from backend.devmail.forward import ForwardSettings
from backend.devmail.store import MailStore, StoredMessage

MAX_REPLY_CHARS = 10_000
SANDBOX_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; img-src 'self' data:; "
            "form-action 'self'; frame-ancestors 'none'")
STYLE = """body{font-family:system-ui,sans-serif;margin:2rem;color:#1a1a1a}
table{border-collapse:collapse;width:100%}
td,th{padding:.4rem .6rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}a{color:#0b57d0}
pre{white-space:pre-wrap;background:#f6f6f6;padding:1rem}iframe{width:100%;height:32rem;border:1px solid #ccc}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}
textarea{width:100%;min-height:8rem;font:inherit}.note{background:#eef6ee;padding:.5rem 1rem}"""


def _page(title: str, body: str) -> HTMLResponse:
    html = (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>")
    return HTMLResponse(html, headers={"Content-Security-Policy": PAGE_CSP,
                                       "X-Content-Type-Options": "nosniff"})


def _get(store: MailStore, number: int) -> StoredMessage:
    message = store.get(number)
    if message is None:
        raise HTTPException(404, "no such message")
    return message


def _reply_to(message: StoredMessage, forwarding: ForwardSettings | None) -> str | None:
    """The Reply-To address at the reply domain a customer's reply goes to (None: no reply form)."""
    if forwarding is None or not forwarding.development:
        return None
    found = [a for _n, a in getaddresses([message.header("Reply-To")]) if forwarding.is_reply_address(a)]
    return found[0] if found else None


def _customer_address(message: StoredMessage) -> str:
    found = [a for _n, a in getaddresses([message.header("To")]) if a]
    return found[0] if found else (message.rcpt_to[0] if message.rcpt_to else "customer@example.test")


def _forwarded(message: StoredMessage) -> str:
    result = message.forwarded
    if result is None:
        return ""
    if "status" in result:
        outcome = f"HTTP {result['status']}: {result.get('answer', '')}"
    else:
        outcome = f"failed: {result.get('error', 'unknown error')}"
    return f"<dt>Forwarded to</dt><dd>{escape(str(result.get('url', '')))} ({escape(outcome)})</dd>"


def _reply_message(original: StoredMessage, *, reply_to: str, text: str) -> EmailMessage:
    reply = EmailMessage()
    reply["From"] = original.header("To") or _customer_address(original)
    reply["To"] = reply_to
    subject = original.header("Subject")
    reply["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()
    reply["Date"] = formatdate(localtime=False, usegmt=True)
    domain = Address(addr_spec=_customer_address(original)).domain or "example.test"
    reply["Message-ID"] = make_msgid(domain=domain)
    message_id = original.header("Message-ID")
    if message_id:
        references = " ".join(v for v in (original.header("References"), message_id) if v)
        reply["In-Reply-To"] = message_id
        reply["References"] = references
    quoted = "\n".join(f"> {line}" for line in (original.part("plain") or "").splitlines())
    sender = original.header("From") or original.mail_from
    reply.set_content(f"{text}\n\nOn {original.header('Date') or original.received_at}, {sender} wrote:\n"
                      f"{quoted}\n")
    return reply


def _same_origin(request: Request) -> bool:
    """A POST from this page: the browser's Origin (else Referer) names this host; Sec-Fetch-Site agrees."""
    own = f"http://{request.headers.get('host', '')}"
    if request.headers.get("sec-fetch-site", "same-origin") != "same-origin":
        return False
    origin = request.headers.get("origin")
    if origin is not None:
        return origin == own
    return request.headers.get("referer", "").startswith(own + "/")


def _message_page(message: StoredMessage, forwarding: ForwardSettings | None = None,
                  notice: str = "") -> HTMLResponse:
    number = message.id
    headers = "".join(
        f"<dt>{escape(name)}</dt><dd>{escape(message.header(name))}</dd>"
        for name in ("From", "To", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To",
                     "Auto-Submitted", "List-Unsubscribe")
        if message.header(name)
    ) + _forwarded(message)
    text = message.part("plain")
    html_part = message.part("html")
    parts = [f"<p><a href='/'>All messages</a> · <a href='/messages/{number}/raw'>raw .eml</a></p>",
             f"<h1>{escape(message.header('Subject') or '(no subject)')}</h1><dl>{headers}</dl>"]
    if notice:
        parts.insert(1, f"<p class=note role=status>{escape(notice)}</p>")
    if text is not None:
        parts.append(f"<h2>Plain text</h2><pre>{escape(text)}</pre>")
    if html_part is not None:
        parts.append(f"<h2>HTML</h2><iframe sandbox title='HTML part' "
                     f"src='/messages/{number}/html'></iframe>")
    attachments = message.attachments()
    if attachments:
        items = "".join(
            f"<li><a href='/messages/{number}/attachments/{i}'>{escape(a.filename)}</a> "
            f"({escape(a.content_type)}, {len(a.content)} bytes)</li>"
            for i, a in enumerate(attachments)
        )
        parts.append(f"<h2>Attachments</h2><ul>{items}</ul>")
    reply_to = _reply_to(message, forwarding)
    if reply_to is not None:
        parts.append(
            f"<h2>Reply as the customer</h2><form method=post action='/messages/{number}/reply'>"
            f"<p>From {escape(_customer_address(message))} to {escape(reply_to)}, threaded on this message; "
            f"the reply is forwarded to the handoff service like a provider's inbound route.</p>"
            f"<label for=reply-text>Your reply</label><textarea id=reply-text name=text required "
            f"maxlength={MAX_REPLY_CHARS}></textarea><p><button type=submit>Send reply</button></p></form>")
    return _page(message.header("Subject") or "message", "".join(parts))


async def _reply(store: MailStore, number: int, request: Request, *, smtp_host: str, smtp_port: int | None,
                 forwarding: ForwardSettings | None) -> Response:
    """POST /messages/{n}/reply: send the customer's reply through our own SMTP server (development only)."""
    if forwarding is None or not forwarding.development or smtp_port is None:
        return HTMLResponse("Replying from this page is for development only (APP_ENV).", status_code=403)
    if not _same_origin(request):
        return HTMLResponse("Refused: the form must be sent from this page.", status_code=403)
    original = _get(store, number)
    reply_to = _reply_to(original, forwarding)
    if reply_to is None:
        raise HTTPException(404, "this message has no Reply-To at the reply domain")
    form = await request.form(max_files=0, max_fields=5)
    text = form.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_REPLY_CHARS:
        return HTMLResponse(f"Write a reply of 1 to {MAX_REPLY_CHARS} characters.", status_code=422)
    message = _reply_message(original, reply_to=reply_to, text=text.strip())

    def send() -> None:
        with smtplib.SMTP(smtp_host, smtp_port, timeout=10) as smtp:
            smtp.send_message(message)

    await asyncio.to_thread(send)
    return RedirectResponse(f"/messages/{number}?replied=1", status_code=303)


def create_app(store: MailStore, *, smtp_host: str = "127.0.0.1", smtp_port: int | None = None,
               forwarding: ForwardSettings | None = None) -> FastAPI:
    app = FastAPI(title="Development mail", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        rows = "".join(
            f"<tr><td>{escape(m.received_at)}</td><td>{escape(', '.join(m.rcpt_to))}</td>"
            f"<td><a href='/messages/{m.id}'>{escape(m.header('Subject') or '(no subject)')}</a></td></tr>"
            for m in store.list()
        )
        table = (f"<table><tr><th>received (UTC)</th><th>to</th><th>subject</th></tr>{rows}</table>"
                 if rows else "<p>No email yet. Everything the system sends in development arrives here.</p>")
        return _page("Development mail", f"<h1>Development mail</h1>{table}")

    @app.get("/messages/{number}", response_class=HTMLResponse)
    def one(number: int, replied: int = 0) -> HTMLResponse:
        notice = "Reply sent: it is in the list and is forwarded to the handoff service." if replied else ""
        return _message_page(_get(store, number), forwarding, notice)

    @app.post("/messages/{number}/reply")
    async def reply(number: int, request: Request) -> Response:
        return await _reply(store, number, request, smtp_host=smtp_host, smtp_port=smtp_port,
                            forwarding=forwarding)

    @app.get("/messages/{number}/html")
    def html_part(number: int) -> Response:
        content = _get(store, number).part("html")
        if content is None:
            raise HTTPException(404, "no HTML part")
        return Response(content, media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": SANDBOX_CSP, "X-Content-Type-Options": "nosniff"})

    @app.get("/messages/{number}/raw")
    def raw(number: int) -> Response:
        return Response(_get(store, number).raw, media_type="message/rfc822",
                        headers={"Content-Disposition": f'attachment; filename="message-{number}.eml"'})

    @app.get("/messages/{number}/attachments/{index}")
    def attachment(number: int, index: int) -> Response:
        attachments = _get(store, number).attachments()
        if not 0 <= index < len(attachments):
            raise HTTPException(404, "no such attachment")
        found = attachments[index]
        safe_name = "".join(c for c in found.filename if c.isalnum() or c in "._-") or "attachment"
        return Response(found.content, media_type="application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{safe_name}"',
                                 "X-Content-Type-Options": "nosniff"})

    @app.get("/api/messages")
    def api_list(to: str | None = Query(default=None, max_length=254)) -> list[dict[str, Any]]:
        return [m.as_json() for m in store.list(to=to)]

    @app.get("/api/messages/{number}")
    def api_one(number: int) -> dict[str, Any]:
        return _get(store, number).as_json()

    @app.delete("/api/messages")
    def api_clear() -> JSONResponse:
        return JSONResponse({"deleted": store.clear()})

    return app
