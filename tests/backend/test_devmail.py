"""The development mail server as a real process: SMTP in, every message kept, pages that never run a
message's script, JSON for tests, inbound routing to the handoff's webhook and the page's "Reply as the
customer" (issue 19; docs/contracts.md, "Email")."""
import json
import smtplib
import threading
import time
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from handoff.email.parsing import parse_generic
from handoff.email.signatures import generic_signature_problem, reply_address
from tests.backend.mail_support import DevMail, devmail_process, free_port

SCRIPT = "<script>document.title='pwned'</script>"


def _message(subject: str, to: str = "alice@example.test") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Billing support <billing@example.test>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = "<test-1@reply.example.test>"
    message.set_content("Plain body: total $75.00")
    message.add_alternative(f"<p>HTML body</p>{SCRIPT}<img src=x onerror=alert(1)>", subtype="html")
    message.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="INV-1.pdf")
    return message


def test_keeps_every_message_and_shows_html_only_sandboxed(tmp_path: Path) -> None:
    with devmail_process(tmp_path) as devmail:
        with smtplib.SMTP("127.0.0.1", devmail.smtp_port, timeout=10) as smtp:
            smtp.send_message(_message(f"Hello {SCRIPT}"))
            smtp.send_message(_message("Second", to="bob@example.test"))

        found = devmail.wait_for(2)
        assert [m["subject"] for m in found] == ["Second", f"Hello {SCRIPT}"]  # newest first
        only_alice = devmail.messages(to="alice@example.test")
        assert len(only_alice) == 1
        first = only_alice[0]
        assert first["rcpt_to"] == ["alice@example.test"]
        assert first["message_id"] == "<test-1@reply.example.test>"
        assert "total $75.00" in first["text"]
        assert SCRIPT in first["html"]  # kept as received
        assert first["attachments"] == [
            {"filename": "INV-1.pdf", "content_type": "application/pdf", "size": 13}
        ]

        index = httpx.get(f"{devmail.url}/", timeout=10)
        assert index.status_code == 200
        assert "<script>" not in index.text and "&lt;script&gt;" in index.text
        page = httpx.get(f"{devmail.url}/messages/{first['id']}", timeout=10)
        assert "<script>" not in page.text and "onerror" not in page.text.split("<iframe")[0]
        assert f"<iframe sandbox title='HTML part' src='/messages/{first['id']}/html'>" in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]
        html = httpx.get(f"{devmail.url}/messages/{first['id']}/html", timeout=10)
        assert html.headers["content-security-policy"].startswith("sandbox")
        attachment = httpx.get(f"{devmail.url}/messages/{first['id']}/attachments/0", timeout=10)
        assert attachment.content == b"%PDF-1.4 fake"
        assert attachment.headers["content-type"] == "application/octet-stream"
        raw = httpx.get(f"{devmail.url}/messages/{first['id']}/raw", timeout=10)
        assert b"Subject: Hello" in raw.content
        assert httpx.get(f"{devmail.url}/messages/999", timeout=10).status_code == 404

    # Kept across a restart of the server (same database file).
    smtp_port = devmail.smtp_port
    with devmail_process(tmp_path, smtp_port=smtp_port) as again:
        assert len(again.messages()) == 2
        assert httpx.delete(f"{again.url}/api/messages", timeout=10).json() == {"deleted": 2}
        assert again.messages() == []


# --- Inbound routing in development: mail to the reply domain is forwarded to the handoff's webhook ---------

INBOUND_SECRET = "test-devmail-inbound-secret"
REPLY_SECRET = "test-devmail-reply-secret"
REPLY_DOMAIN = "reply.example.test"


class _Receiver:
    """A small local HTTP server standing in for the handoff's POST /api/email/inbound/generic."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.posts.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                failing = b"please fail" in body
                answer = (b'{"code":"unavailable"}' if failing
                          else b'{"outcome":"answering","conversation_id":"conv1","seq":1}')
                self.send_response(503 if failing else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/email/inbound/generic"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 10) -> list[tuple[str, dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout
        while len(self.posts) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.posts


def _verified(post: tuple[str, dict[str, str], bytes]) -> dict[str, Any]:
    """The handoff's own verifier and parser accept the forward exactly as a provider's webhook."""
    path, headers, body = post
    assert path == "/api/email/inbound/generic"
    assert headers["content-type"] == "application/json"
    header = headers.get("x-email-signature")
    assert generic_signature_problem(body=body, header=header, secret=INBOUND_SECRET,
                                     tolerance_seconds=300, now=time.time()) is None
    assert generic_signature_problem(body=body, header=header, secret="other",
                                     tolerance_seconds=300, now=time.time()) == "signature does not match"
    parse_generic(body)
    payload: dict[str, Any] = json.loads(body)
    return payload


def _wait_forwarded(devmail: DevMail, number: int, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        message: dict[str, Any] = httpx.get(f"{devmail.url}/api/messages/{number}", timeout=10).json()
        if message["forwarded"] is not None or time.monotonic() > deadline:
            return message
        time.sleep(0.05)


def _outbound(reply_to: str) -> EmailMessage:
    """What the backend sends a customer about conversation conv1 (contracts: "Headers and threading")."""
    message = EmailMessage()
    message["From"] = "Billing support <billing@example.test>"
    message["To"] = "alice@example.test"
    message["Reply-To"] = reply_to
    message["Subject"] = "Your ticket T-1"
    message["Message-ID"] = "<conv-conv1-0123456789abcdef0123456789abcdef@reply.example.test>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content("Dana here: we refunded the fee. Does that settle it?")
    return message


def test_reply_domain_mail_is_forwarded_signed_and_the_page_replies_as_the_customer(tmp_path: Path) -> None:
    receiver = _Receiver()
    reply_to = reply_address(conversation_id="conv1", secret=REPLY_SECRET, domain=REPLY_DOMAIN)
    env = {"DEVMAIL_INBOUND_URL": receiver.url, "EMAIL_INBOUND_SECRET": INBOUND_SECRET,
           "MAIL_REPLY_DOMAIN": REPLY_DOMAIN, "APP_ENV": "development"}
    try:
        with devmail_process(tmp_path, env=env) as devmail:
            with smtplib.SMTP("127.0.0.1", devmail.smtp_port, timeout=10) as smtp:
                smtp.send_message(_outbound(reply_to))  # to the customer: kept, never forwarded
                customer = EmailMessage()
                customer["From"] = "Alice <alice@example.test>"
                customer["To"] = reply_to
                customer["Subject"] = "Re: Your ticket T-1"
                customer["Message-ID"] = "<alice-1@example.test>"
                customer.set_content("Hi, I still see the fee on my bill.")
                smtp.send_message(customer)
            outbound_id, direct_id = (m["id"] for m in reversed(devmail.wait_for(2)))

            direct = _wait_forwarded(devmail, direct_id)
            assert direct["forwarded"]["ok"] is True and direct["forwarded"]["status"] == 200
            assert direct["forwarded"]["url"] == receiver.url
            payload = _verified(receiver.wait_for(1)[0])
            assert payload["from"] == "Alice <alice@example.test>" and payload["to"] == [reply_to]
            assert payload["message_id"] == "<alice-1@example.test>"
            assert "still see the fee" in payload["text"]

            # The page: a reply form on the message with a Reply-To at the reply domain, same-origin only.
            page = httpx.get(f"{devmail.url}/messages/{outbound_id}", timeout=10)
            assert "Reply as the customer" in page.text and f"/messages/{outbound_id}/reply" in page.text
            assert "form-action 'self'" in page.headers["content-security-policy"]
            direct_page = httpx.get(f"{devmail.url}/messages/{direct_id}", timeout=10)
            assert "Reply as the customer" not in direct_page.text
            reply_url = f"{devmail.url}/messages/{outbound_id}/reply"
            form = {"text": "No, the second fee is still there."}
            assert httpx.post(reply_url, data=form, timeout=10).status_code == 403  # no Origin, no Referer
            assert httpx.post(reply_url, data=form, headers={"Origin": "http://evil.example"},
                              timeout=10).status_code == 403
            assert httpx.post(reply_url, data={"text": "  "}, headers={"Origin": devmail.url},
                              timeout=10).status_code == 422
            sent = httpx.post(reply_url, data=form, headers={"Origin": devmail.url}, timeout=10)
            assert sent.status_code == 303
            assert sent.headers["location"] == f"/messages/{outbound_id}?replied=1"

            reply = devmail.wait_for(3)[0]
            assert reply["rcpt_to"] == [reply_to]
            assert reply["headers"]["From"] == "alice@example.test"
            assert reply["in_reply_to"] == "<conv-conv1-0123456789abcdef0123456789abcdef@reply.example.test>"
            assert reply["headers"]["References"] == reply["in_reply_to"]
            assert reply["subject"] == "Re: Your ticket T-1"
            forwarded = _wait_forwarded(devmail, reply["id"])["forwarded"]
            assert forwarded["ok"] is True
            threaded = _verified(receiver.wait_for(2)[1])
            assert threaded["in_reply_to"] == reply["in_reply_to"] and threaded["to"] == [reply_to]
            assert threaded["text"].startswith("No, the second fee is still there.")
            assert "> Dana here" in threaded["text"]  # quoted history, which the handoff cuts
            shown = httpx.get(f"{devmail.url}/messages/{reply['id']}", timeout=10).text
            assert f"Forwarded to</dt><dd>{receiver.url} (HTTP 200" in shown

            # The webhook refusing (5xx) is kept with the message and the server goes on.
            with smtplib.SMTP("127.0.0.1", devmail.smtp_port, timeout=10) as smtp:
                smtp.sendmail("alice@example.test", [reply_to], b"From: alice@example.test\r\n"
                              b"Subject: x\r\nMessage-ID: <alice-2@example.test>\r\n\r\nplease fail\r\n")
            failed = _wait_forwarded(devmail, devmail.wait_for(4)[0]["id"])["forwarded"]
            assert failed["ok"] is False and failed["status"] == 503
            assert devmail.process.poll() is None
        assert len(receiver.posts) == 3  # never the mail to the customer
    finally:
        receiver.server.shutdown()

    # Outside development: no reply form, the POST is refused; an unreachable webhook is a recorded failure.
    env = {**env, "APP_ENV": "production", "DEVMAIL_INBOUND_URL": f"http://127.0.0.1:{free_port()}/inbound"}
    with devmail_process(tmp_path, env=env) as devmail:
        with smtplib.SMTP("127.0.0.1", devmail.smtp_port, timeout=10) as smtp:
            smtp.send_message(_outbound(reply_to))
            smtp.sendmail("alice@example.test", [reply_to], b"From: alice@example.test\r\n\r\nhello\r\n")
        outbound_id, direct_id = (m["id"] for m in reversed(devmail.wait_for(2)))
        unreachable = _wait_forwarded(devmail, direct_id)["forwarded"]
        assert unreachable["ok"] is False and "ConnectError" in unreachable["error"]
        page = httpx.get(f"{devmail.url}/messages/{outbound_id}", timeout=10)
        assert "Reply as the customer" not in page.text
        refused = httpx.post(f"{devmail.url}/messages/{outbound_id}/reply", data={"text": "hi"},
                             headers={"Origin": devmail.url}, timeout=10)
        assert refused.status_code == 403
        assert devmail.process.poll() is None
