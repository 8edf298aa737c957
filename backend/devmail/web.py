"""The HTTP side: a list page, one message's page, its parts and a JSON API for tests.

Nothing from a message is ever interpreted as markup on our pages: headers and text are escaped; the HTML part
is only served by /messages/{n}/html with `Content-Security-Policy: sandbox` and shown in an iframe with an
empty `sandbox` attribute (no scripts, no forms, no same-origin), so a message's script never runs.
"""
from html import escape
from typing import Any

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from backend.devmail.store import MailStore, StoredMessage

SANDBOX_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; img-src 'self' data:"
STYLE = """body{font-family:system-ui,sans-serif;margin:2rem;color:#1a1a1a}
table{border-collapse:collapse;width:100%}
td,th{padding:.4rem .6rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}a{color:#0b57d0}
pre{white-space:pre-wrap;background:#f6f6f6;padding:1rem}iframe{width:100%;height:32rem;border:1px solid #ccc}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}"""


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


def _message_page(message: StoredMessage) -> HTMLResponse:
    number = message.id
    headers = "".join(
        f"<dt>{escape(name)}</dt><dd>{escape(message.header(name))}</dd>"
        for name in ("From", "To", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To",
                     "Auto-Submitted", "List-Unsubscribe")
        if message.header(name)
    )
    text = message.part("plain")
    html_part = message.part("html")
    parts = [f"<p><a href='/'>All messages</a> · <a href='/messages/{number}/raw'>raw .eml</a></p>",
             f"<h1>{escape(message.header('Subject') or '(no subject)')}</h1><dl>{headers}</dl>"]
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
    return _page(message.header("Subject") or "message", "".join(parts))


def create_app(store: MailStore) -> FastAPI:
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
    def one(number: int) -> HTMLResponse:
        return _message_page(_get(store, number))

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
