"""The reminder email's "Pay now" (issue 19, "a past-due notice ... with the amount and a pay link";
docs/contracts.md, "Payment reminders"): a long-lived signed link per customer and reminder that, when opened,
makes a fresh secure payment page (backend/payment_page: 15-minute, single-use) for the amount due then and
redirects to it. The email cannot carry a payment page link itself: it would expire before it is read.

Stateless: the token names the customer, the reminder's subject and kind and an expiry; nothing is stored
until it is opened (then the payment page link, audited as the payment page's links are)."""

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, select_autoescape

from backend import signed_tokens
from backend.auth import Actor
from backend.billing.service import get_balance
from backend.clock import NowDep, TodayDep
from backend.config import DEFAULT_PAYMENT_PAGE_SECRET, Settings
from backend.customers.models import Customer
from backend.database import SessionDep
from backend.money import format_money
from backend.payment_page import service as payment_page
from backend.payment_page.models import LinkPurpose
from backend.reminders.models import ReminderKind

logger = logging.getLogger("backend.reminders")
DOMAIN = "reminder-pay.v1."
PATH = "/reminders/pay/"
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{20,600}\.[A-Za-z0-9_-]{43}$"
ACTOR = Actor(role="system", username="reminder-link")
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
                               "form-action 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}
_page = Environment(autoescape=select_autoescape(default_for_string=True)).from_string(
    """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ title }}</title></head>
<body style="font-family: Arial, Helvetica, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem">
<h1 style="font-size: 1.4rem;">{{ title }}</h1><p data-code="{{ code }}">{{ sentence }}</p>
<p><a href="{{ chat_url }}">Open the chat</a></p></body></html>""")


@dataclass(frozen=True)
class PayLinkClaims:
    customer_id: int
    subject: str
    kind: ReminderKind
    expires_at: datetime


class PayLinkRefused(Exception):
    def __init__(self, status: int, code: str, title: str, sentence: str) -> None:
        super().__init__(code)
        self.status, self.code, self.title, self.sentence = status, code, title, sentence


def _secret(settings: Settings) -> str | None:
    return settings.usable_secret(settings.payment_page_secret, DEFAULT_PAYMENT_PAGE_SECRET)


def pay_url(settings: Settings, *, customer_id: int, subject: str, kind: ReminderKind, day: date) -> str:
    """The reminder's pay link; the chat (REMINDER_PAY_URL) when no link can be signed. The same for every run
    of the same day (its expiry is the end of day + REMINDER_LINK_DAYS), so the mail is the same too."""
    secret = _secret(settings)
    if secret is None:
        return settings.reminder_pay_url
    expires = datetime.combine(day + timedelta(days=settings.reminder_link_days + 1), time(), UTC)
    body = {"v": 1, "c": customer_id, "s": subject, "k": str(kind), "e": int(expires.timestamp())}
    token = signed_tokens.sign(secret=secret, domain=DOMAIN, body=body)
    return settings.payment_page_base_url.rstrip("/") + PATH + token


INVALID = PayLinkRefused(404, "link_invalid", "This payment link is not valid",
                         "Please open the chat to pay or to ask for a new link.")
EXPIRED = PayLinkRefused(410, "link_expired", "This payment link has expired",
                         "Please open the chat to pay: it shows what you owe today.")
UNAVAILABLE = PayLinkRefused(503, "payment_page_unavailable", "Payments are not available right now",
                             "Please try again later, or open the chat.")


def read_pay_link(settings: Settings, *, token: str, now: datetime) -> PayLinkClaims:
    secret = _secret(settings)
    if secret is None:
        raise UNAVAILABLE
    try:
        body = signed_tokens.read(secret=secret, domain=DOMAIN, token=token)
        customer_id, subject, kind, expiry = body["c"], body["s"], ReminderKind(body["k"]), body["e"]
        if body.get("v") != 1 or not isinstance(customer_id, int) or not isinstance(subject, str):
            raise ValueError("payload")
        expires_at = datetime.fromtimestamp(expiry, UTC)
    except (signed_tokens.BadToken, KeyError, ValueError, TypeError, OverflowError, OSError):
        raise INVALID from None
    if now >= expires_at:
        raise EXPIRED
    return PayLinkClaims(customer_id=customer_id, subject=subject, kind=kind, expires_at=expires_at)


router = APIRouter(tags=["reminders"], include_in_schema=False)


@router.get(PATH + "{token}", response_class=HTMLResponse)
def open_pay_link(
    token: Annotated[str, PathParam(max_length=700)], request: Request, session: SessionDep, now: NowDep,
    today: TodayDep,
) -> Response:
    """A fresh payment page for what the customer owes now, or a page saying why not."""
    settings: Settings = request.app.state.settings
    try:
        if not re.fullmatch(TOKEN_PATTERN, token):
            raise INVALID
        claims = read_pay_link(settings, token=token, now=now)
        customer = session.get(Customer, claims.customer_id)
        if customer is None:
            raise INVALID
        balance = get_balance(session, customer_id=customer.id, today=today)
        owed = balance.ledger.total_due
        if owed <= Decimal("0.00"):
            return _answer(settings, 200, "nothing_to_pay", "Nothing to pay",
                           f"Your balance is {format_money(max(owed, Decimal('0.00')))}: there is nothing to "
                           "pay right now. Thank you!")
        try:
            link, _ = payment_page.create_link(
                session, customer_id=customer.id, purpose=LinkPurpose.pay, conversation_id=None, actor=ACTOR,
                idempotency_key=f"reminder-pay:{secrets.token_hex(16)}", now=now, settings=settings)
        except payment_page.PageUnavailable:
            raise UNAVAILABLE from None
    except PayLinkRefused as refused:
        logger.info("reminder pay link refused: %s", refused.code)
        return _answer(settings, refused.status, refused.code, refused.title, refused.sentence)
    logger.info("reminder pay link opened: customer %s, %s %s", claims.customer_id, claims.kind,
                claims.subject)
    return RedirectResponse(link.url, status_code=303, headers=HEADERS)


def _answer(settings: Settings, status: int, code: str, title: str, sentence: str) -> Response:
    html = _page.render(title=title, sentence=sentence, code=code, chat_url=settings.reminder_pay_url)
    return HTMLResponse(html, status_code=status, headers=HEADERS)
