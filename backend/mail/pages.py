"""The email-preferences page (public: the signed link in reminder mail is the credential): reminder
emails on or off."""
from html import escape
from typing import Annotated

from fastapi import FastAPI, Form, Path, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from backend.base import utcnow
from backend.config import Settings
from backend.customers.models import Customer
from backend.database import SessionDep
from backend.mail import service
from backend.mail.threading import customer_of_preferences_token

TokenPath = Annotated[str, Path(min_length=3, max_length=60, pattern=r"^\d{1,10}\.[0-9a-f]{32}$")]
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"


def _page(body: str, status_code: int = 200) -> HTMLResponse:
    html = ("<!doctype html><html lang=en><head><meta charset=utf-8><title>Email preferences</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:36rem}</style></head>"
            f"<body><h1>Email preferences</h1>{body}</body></html>")
    headers = {"Content-Security-Policy": CSP, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return HTMLResponse(html, status_code, headers=headers)


def _customer(request: Request, session: Session, token: str) -> Customer | None:
    settings: Settings = request.app.state.settings
    customer_id = customer_of_preferences_token(secret=settings.email_reply_secret.get_secret_value(),
                                                token=token)
    return session.get(Customer, customer_id) if customer_id is not None else None


def _form(customer: Customer, token: str, enabled: bool, note: str = "") -> HTMLResponse:
    state = "on" if enabled else "off"
    other = "off" if enabled else "on"
    label = "Turn reminder emails off (unsubscribe)" if enabled else "Turn reminder emails on"
    return _page(
        f"{note}<p>Hello {escape(customer.first_name)}. Payment reminder emails are <strong>{state}</strong> "
        "for your account. Receipts, ticket replies and other messages about your requests are still "
        "sent.</p>"
        f"<form method=post action='/mail/preferences/{escape(token)}'>"
        f"<input type=hidden name=reminders value={other}><button type=submit>{label}</button></form>"
    )


NOT_FOUND = "<p>This link is not valid. Use the link from your most recent email.</p>"


def install_mail_preferences(app: FastAPI) -> None:
    @app.get("/mail/preferences/{token}", response_class=HTMLResponse, include_in_schema=False)
    def show(token: TokenPath, request: Request, session: SessionDep) -> HTMLResponse:
        customer = _customer(request, session, token)
        if customer is None:
            return _page(NOT_FOUND, 404)
        return _form(customer, token, service.reminders_enabled(session, customer_id=customer.id))

    @app.post("/mail/preferences/{token}", response_class=HTMLResponse, include_in_schema=False)
    def change(
        token: TokenPath, request: Request, session: SessionDep,
        reminders: Annotated[str, Form(pattern=r"^(on|off)$")],
    ) -> HTMLResponse:
        customer = _customer(request, session, token)
        if customer is None:
            return _page(NOT_FOUND, 404)
        enabled = reminders == "on"
        service.set_reminders(session, customer_id=customer.id, enabled=enabled, now=utcnow())
        return _form(customer, token, enabled, "<p role=status>Saved.</p>")
