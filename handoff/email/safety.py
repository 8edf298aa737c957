"""Which inbound emails are never answered (auto-responders, lists, bounces, our own mail) and which senders
cannot be trusted as a customer (spoofed)."""

from __future__ import annotations

import re

from handoff.email.parsing import InboundEmail

_ROBOT_LOCAL_PARTS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+.-].*)?$")
_BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
_FAILED_CHECK = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*(fail|softfail|permerror)\b", re.IGNORECASE)


def auto_reply_reason(email: InboundEmail, *, reply_domain: str) -> str | None:
    """`auto_reply` / `own_address` when this email must never be answered (a reply could start a loop)."""
    headers = email.headers
    local, _, domain = email.from_address.rpartition("@")
    if domain == reply_domain.lower() or _ROBOT_LOCAL_PARTS.match(local):
        return "own_address" if domain == reply_domain.lower() else "auto_reply"
    auto_submitted = headers.get("auto-submitted", "").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return "auto_reply"
    if headers.get("precedence", "").strip().lower() in _BULK_PRECEDENCE:
        return "auto_reply"
    if any(name in headers for name in ("x-autoreply", "x-autorespond", "list-id", "list-unsubscribe")):
        return "auto_reply"
    suppress = headers.get("x-auto-response-suppress", "").lower()
    if "all" in suppress or "oof" in suppress:
        return "auto_reply"
    return None


def spoof_reason(email: InboundEmail) -> str | None:
    """Why the From address cannot name a customer (the sender is then an anonymous visitor), else None."""
    if email.from_count != 1:
        return f"From names {email.from_count} addresses"
    received_spf = email.headers.get("received-spf", "")
    results = " ".join([email.headers.get("authentication-results", ""), received_spf])
    if _FAILED_CHECK.search(results) or re.match(r"\s*(fail|softfail)\b", received_spf, re.IGNORECASE):
        return "sender authentication failed (SPF/DKIM/DMARC)"
    for check in email.provider_checks:  # Mailgun: X-Mailgun-Spf=Fail, X-Mailgun-Dkim-Check-Result=Fail
        if check.lower().endswith(("=fail", "=softfail")):
            return "sender authentication failed (provider check)"
    return None
