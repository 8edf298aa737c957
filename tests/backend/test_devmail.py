"""The development mail server as a real process: SMTP in, every message kept, pages that never run a
message's script, JSON for tests (issue 19; docs/contracts.md, "Email")."""
import smtplib
from email.message import EmailMessage
from pathlib import Path

import httpx

from tests.backend.mail_support import devmail_process

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
