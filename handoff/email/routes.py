"""POST /api/email/inbound/{provider}: a mail provider's signed webhook with one inbound email."""

from __future__ import annotations

import logging
import time
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from handoff.deps import ServiceDep
from handoff.email import inbound
from handoff.email.parsing import Attachment, BadMessage, InboundEmail, parse_generic, parse_mailgun
from handoff.email.signatures import generic_signature_problem, mailgun_signature_problem
from handoff.errors import ServiceError

router = APIRouter()
log = logging.getLogger(__name__)
PROVIDERS = ("generic", "mailgun")
MAX_FORM_FIELDS = 200
MAX_FORM_FILES = 50


class InboundAccepted(BaseModel):
    outcome: Literal["answering", "with_specialist", "not_answered", "duplicate"]
    conversation_id: str
    seq: int
    reason: Literal["auto_reply", "rate_limited", "own_address"] | None = None


def _refuse(provider: str, *, status_code: int, code: str, reason: str, message: str) -> ServiceError:
    log.warning("inbound email refused (%s, %s): %s", provider, code, reason)
    return ServiceError(status_code=status_code, code=code, message=message)


def _invalid_signature(provider: str, reason: str) -> ServiceError:
    return _refuse(provider, status_code=401, code="invalid_signature", reason=reason,
                   message="The webhook signature is missing, wrong or too old.")


async def _mailgun_email(request: Request, *, secret: str, tolerance: int) -> InboundEmail:
    try:
        form = await request.form(max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS)
    except Exception as error:  # starlette's MultiPartException, a malformed body: refused below
        raise BadMessage(f"unreadable form ({type(error).__name__})") from error
    fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    problem = mailgun_signature_problem(timestamp=fields.get("timestamp"), token=fields.get("token"),
                                        signature=fields.get("signature"), secret=secret,
                                        tolerance_seconds=tolerance, now=time.time())
    if problem is not None:
        raise _invalid_signature("mailgun", problem)
    files = [Attachment(filename=(value.filename or "unnamed")[:200],
                        content_type=(value.content_type or "unknown")[:100], size=value.size)
             for _key, value in form.multi_items() if isinstance(value, UploadFile)]
    return parse_mailgun(fields, files)


@router.post("/api/email/inbound/{provider}", response_model=InboundAccepted,
             response_model_exclude_none=True)
async def inbound_email(provider: str, request: Request, services: ServiceDep) -> InboundAccepted:
    """Signed by the provider (no bearer token: docs/contracts.md, "Inbound email")."""
    settings = services.settings
    if provider not in PROVIDERS:
        raise _refuse(provider[:20], status_code=404, code="unknown_provider", reason="no such provider",
                      message=f"Inbound email providers: {', '.join(PROVIDERS)}.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.email_inbound_max_bytes:
        raise _refuse(provider, status_code=413, code="too_large", reason=f"{declared} bytes declared",
                      message="The email is larger than this service accepts.")
    raw = await request.body()
    if len(raw) > settings.email_inbound_max_bytes:
        raise _refuse(provider, status_code=413, code="too_large", reason=f"{len(raw)} bytes",
                      message="The email is larger than this service accepts.")
    try:
        if provider == "generic":
            problem = generic_signature_problem(body=raw, header=request.headers.get("x-email-signature"),
                                                secret=settings.email_inbound_secret,
                                                tolerance_seconds=settings.email_inbound_tolerance_seconds,
                                                now=time.time())
            if problem is not None:
                raise _invalid_signature(provider, problem)
            email = parse_generic(raw)
        else:
            email = await _mailgun_email(request, secret=settings.email_inbound_secret,
                                         tolerance=settings.email_inbound_tolerance_seconds)
        accepted = await inbound.perform(services=services, email=email)
    except BadMessage as error:
        raise _refuse(provider, status_code=422, code="bad_message", reason=str(error),
                      message="The webhook's body is not a readable email.") from None
    return InboundAccepted(outcome=accepted.outcome,  # type: ignore[arg-type]
                           conversation_id=accepted.conversation_id, seq=accepted.seq,
                           reason=accepted.reason)  # type: ignore[arg-type]
