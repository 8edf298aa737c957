"""Queue an email (idempotent per key), list what was sent, the customers' reminder preference."""

import base64
import hashlib
import json
import secrets
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.audit import service as audit
from backend.auth import Actor
from backend.config import Settings
from backend.customers.models import Customer
from backend.documents.service import render_attachment
from backend.errors import IdempotencyKeyReused, InvalidInput, NotFound
from backend.mail import templates
from backend.mail.models import MailMessage, MailPreference, MailStatus
from backend.mail.schemas import MailMessageOut, MailRequest
from backend.mail.threading import new_message_id, preferences_token, reply_address


def to_out(row: MailMessage) -> MailMessageOut:
    return MailMessageOut(
        id=row.id,
        template=row.template,
        to=row.to_address,
        customer_id=row.customer_id,
        conversation_id=row.conversation_id,
        subject=row.subject,
        status=row.status,
        message_id=row.message_id,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at if row.status == MailStatus.queued else None,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
        requested_by=row.requested_by,
    )


def _fingerprint(request: MailRequest) -> str:
    return hashlib.sha256(json.dumps(request.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:5]:
        location = ".".join(str(part) for part in item.get("loc", ()))
        parts.append(f"context.{location}: {item.get('msg', 'invalid value')}" if location else item["msg"])
    return "; ".join(parts)


def preferences_url(*, settings: Settings, customer_id: int) -> str:
    token = preferences_token(secret=settings.email_reply_secret.get_secret_value(), customer_id=customer_id)
    return f"{settings.mail_preferences_base_url.rstrip('/')}/mail/preferences/{token}"


def reminders_enabled(session: Session, *, customer_id: int) -> bool:
    preference = session.get(MailPreference, customer_id)
    return preference is None or preference.reminders


def set_reminders(session: Session, *, customer_id: int, enabled: bool, now: datetime) -> None:
    preference = session.get(MailPreference, customer_id)
    if preference is None:
        session.add(MailPreference(customer_id=customer_id, reminders=enabled, updated_at=now))
    else:
        preference.reminders = enabled
        preference.updated_at = now
    session.commit()


def _headers(request: MailRequest, *, settings: Settings, preferences: str | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if request.thread is not None:
        conversation_id = request.thread.conversation_id
        headers["Reply-To"] = reply_address(
            secret=settings.email_reply_secret.get_secret_value(),
            conversation_id=conversation_id,
            domain=settings.mail_reply_domain,
        )
        headers["X-Billing-Conversation"] = conversation_id
        if request.thread.in_reply_to:
            headers["In-Reply-To"] = request.thread.in_reply_to
            headers["References"] = request.thread.in_reply_to
    if request.template in templates.AUTO_REPLIED:
        headers["Auto-Submitted"] = "auto-replied"
    elif request.template not in templates.PERSON_WRITTEN:
        headers["Auto-Submitted"] = "auto-generated"
    if preferences:
        headers["List-Unsubscribe"] = f"<{preferences}>"
    return headers


def _recipient(session: Session, request: MailRequest) -> tuple[str, Customer | None]:
    if request.customer_id is None:
        if request.template in templates.REMINDER_TEMPLATES:
            raise InvalidInput(f"The template {request.template!r} needs customer_id.")
        if request.to is None:
            raise InvalidInput("Give 'to' or 'customer_id': there is no address to send to.")
        return request.to, None
    customer = session.get(Customer, request.customer_id)
    if customer is None:
        raise NotFound("No such customer.")
    if request.to is not None and request.to.strip().lower() != customer.email.strip().lower():
        raise InvalidInput(
            "'to' is not the address on file for this customer; mail goes only to that address."
        )
    return customer.email, customer


def _attachments(
    session: Session, *, request: MailRequest, customer: Customer | None, now: datetime
) -> list[dict[str, str]] | None:
    """The customer's documents (backend/documents), rendered now: the email carries the document as it was
    when asked for. Unknown kinds or documents are the documents module's 422/404."""
    if not request.attachments:
        return None
    if customer is None:
        raise InvalidInput("Attachments are the customer's documents: give customer_id.")
    return [rendered_attachment(session, customer_id=customer.id, spec=spec.model_dump(), today=now.date())
            for spec in request.attachments]


def rendered_attachment(session: Session, *, customer_id: int, spec: dict[str, Any], today: date
                        ) -> dict[str, str]:
    """One of the customer's documents as the outbox stores it (the send loop attaches it as it is)."""
    document = render_attachment(session, customer_id=customer_id, spec=spec, today=today)
    return {"filename": document.filename, "content_type": document.media_type,
            "data": base64.b64encode(document.content).decode("ascii")}


def enqueue(
    session: Session,
    *,
    key: str,
    request: MailRequest,
    actor: Actor | None,
    settings: Settings,
    now: datetime,
) -> tuple[MailMessageOut, bool]:
    """Renders and stores the email for the send loop. Returns (message, created): the same key and request
    answer the stored message (never a second email); the same key with another request is a 409."""
    fingerprint = _fingerprint(request)
    earlier = session.scalar(select(MailMessage).where(MailMessage.idempotency_key == key))
    if earlier is not None:
        if earlier.fingerprint != fingerprint:
            raise IdempotencyKeyReused("This Idempotency-Key was already used for a different email.")
        return to_out(earlier), False
    try:
        context = templates.validate_context(request.template, request.context)
    except ValidationError as exc:
        raise InvalidInput(_describe(exc)) from None
    if context is None:
        known = ", ".join(sorted(templates.CONTEXTS))
        raise InvalidInput(f"Unknown template {request.template!r}; known: {known}.")
    if request.template in templates.ONE_ATTACHMENT and len(request.attachments or []) != 1:
        raise InvalidInput(f"The template {request.template!r} carries exactly one document attachment.")
    to_address, customer = _recipient(session, request)
    fields: dict[str, Any] = context.model_dump()
    preferences = None
    status = MailStatus.queued
    if customer is not None:
        fields["first_name"] = customer.first_name  # the name on file, never a caller's guess
        if request.template in templates.REMINDER_TEMPLATES:
            preferences = preferences_url(settings=settings, customer_id=customer.id)
            fields["preferences_url"] = preferences
            fields["account_number"] = customer.account.number if customer.account else None
            if not reminders_enabled(session, customer_id=customer.id):
                status = MailStatus.suppressed
    attachments = _attachments(session, request=request, customer=customer, now=now)
    fields["reply_enabled"] = request.thread is not None
    rendered = templates.render(request.template, fields)
    conversation_id = request.thread.conversation_id if request.thread else None
    row = MailMessage(
        id=f"mail_{secrets.token_hex(12)}",
        idempotency_key=key,
        fingerprint=fingerprint,
        template=request.template,
        to_address=to_address,
        customer_id=customer.id if customer else None,
        conversation_id=conversation_id,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        headers=_headers(request, settings=settings, preferences=preferences),
        attachments=attachments,
        message_id=new_message_id(domain=settings.mail_reply_domain, conversation_id=conversation_id),
        status=status,
        attempts=0,
        next_attempt_at=now,
        requested_by=actor.label if actor else audit.SERVICE_ACTOR,
        created_at=now,
    )
    session.add(row)
    audit.record(
        session,
        actor=actor,
        action="write.mail.queued",
        resource=f"mail:{row.id}",
        customer_id=row.customer_id,
        details={"template": row.template, "status": str(status), "conversation_id": conversation_id},
    )
    try:
        session.commit()
    except IntegrityError:  # a concurrent request with the same key won
        session.rollback()
        earlier = session.scalar(select(MailMessage).where(MailMessage.idempotency_key == key))
        if earlier is None:
            raise
        if earlier.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used for a different email."
            ) from None
        return to_out(earlier), False
    return to_out(row), True


def list_messages(
    session: Session, *, customer_id: int | None, conversation_id: str | None, limit: int
) -> list[MailMessageOut]:
    if customer_id is None and conversation_id is None:
        raise InvalidInput("Give customer_id or conversation_id.")
    query = select(MailMessage)
    if customer_id is not None:
        query = query.where(MailMessage.customer_id == customer_id)
    if conversation_id is not None:
        query = query.where(MailMessage.conversation_id == conversation_id)
    rows = session.scalars(query.order_by(MailMessage.created_at.desc(), MailMessage.id.desc()).limit(limit))
    return [to_out(row) for row in rows]


def get_message(session: Session, *, mail_id: str) -> MailMessageOut:
    row = session.get(MailMessage, mail_id)
    if row is None:
        raise NotFound("No such email.")
    return to_out(row)
