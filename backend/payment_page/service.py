"""Links to the secure payment page and what a completed page does.

A link is signed (tokens.py), lives PAYMENT_PAGE_MINUTES and completes once: its row is claimed (open ->
processing) by one submission before the processor is asked anything, so a double click or a second tab gets
`link_in_use`; a decline or an outage gives the link back (open) for another card, a success completes it.
Card data never comes here: the page sends the processor's token of the card (contracts: "Payment page").
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.audit import service as audit
from backend.auth import Actor
from backend.billing.service import get_balance
from backend.config import DEFAULT_HANDOFF_API_TOKEN, DEFAULT_PAYMENT_PAGE_SECRET, Settings
from backend.customers.service import get_customer
from backend.errors import BackendError, NotFound
from backend.money import format_money
from backend.payment_page.models import LinkPurpose, LinkStatus, PaymentPageLink
from backend.payment_page.notify import send_outcome
from backend.payment_page.schemas import CompletionIn, CompletionOut, LinkMade, LinkOut
from backend.payment_page.tokens import BadLinkToken, LinkClaims, read_link, sign_link
from backend.payments import service as payments
from backend.payments.idempotency import fingerprint, idempotent
from backend.payments.processor import PaymentProcessor

logger = logging.getLogger("backend.payment_page")
PAGE_PATH = "/pay/"


class LinkRefused(BackendError, status=410):
    """A link that cannot be used; `code` says why (the page shows a sentence for each)."""


class LinkInvalid(LinkRefused, status=404, code="link_invalid"): ...


class LinkExpired(LinkRefused, code="link_expired"): ...


class LinkUsed(LinkRefused, code="link_used"): ...


class LinkInUse(LinkRefused, status=409, code="link_in_use"): ...


@dataclass(frozen=True)
class PageView:
    """What the page shows: never more than the customer's first name, masked method and amounts."""

    link: PaymentPageLink
    first_name: str
    currency: str
    total_due: Decimal
    past_due: Decimal
    autopay: bool
    method_on_file: str | None


class PageUnavailable(BackendError, status=503, code="payment_page_unavailable"): ...


def _secret(settings: Settings) -> str:
    secret = settings.usable_secret(settings.payment_page_secret, DEFAULT_PAYMENT_PAGE_SECRET)
    if secret is None:  # outside development with the default: no link is made or trusted
        raise PageUnavailable("The secure payment page is not configured (PAYMENT_PAGE_SECRET).")
    return secret


def page_actor(customer_id: int) -> Actor:
    return Actor(role="secure_page", username=f"customer-{customer_id}")


def create_link(
    session: Session,
    *,
    customer_id: int,
    purpose: LinkPurpose,
    conversation_id: str | None,
    actor: Actor,
    idempotency_key: str,
    now: datetime,
    settings: Settings,
) -> tuple[LinkOut, bool]:
    """A new link, or the link this Idempotency-Key made before (a resent message: one link). The stored
    answer is the link's nonce, never the link: the link is signed again from its row."""
    secret = _secret(settings)  # before anything is written: no link is made that could not be signed
    get_customer(session, customer_id=customer_id)  # 404 for an unknown customer
    request = fingerprint(
        op="payment-page-link",
        customer_id=customer_id,
        purpose=str(purpose),
        conversation_id=conversation_id,
        role=actor.role,
    )

    def write() -> LinkMade:
        nonce = secrets.token_hex(16)
        link = PaymentPageLink(
            nonce=nonce,
            customer_id=customer_id,
            purpose=purpose,
            created_by=actor.label,
            conversation_id=conversation_id,
            expires_at=(now + timedelta(minutes=settings.payment_page_minutes)).replace(microsecond=0),
            created_at=now,
        )
        session.add(link)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="write.payment_page_link",
            resource=f"payment-page-link:{link.id}",
            customer_id=customer_id,
            details={
                "purpose": str(purpose),
                "expires_at": link.expires_at.isoformat(),
                "conversation_id": conversation_id,
            },
        )
        return LinkMade(nonce=nonce)

    made, created = idempotent(
        session,
        key=idempotency_key,
        request=request,
        customer_id=customer_id,
        answer_type=LinkMade,
        write=write,
    )
    link = session.scalar(select(PaymentPageLink).where(PaymentPageLink.nonce == made.nonce))
    if link is None:  # the customer's links were deleted since (the demo seed's reset)
        raise NotFound("The link this Idempotency-Key made no longer exists; use another key.")
    claims = LinkClaims(
        customer_id=link.customer_id, purpose=link.purpose, nonce=link.nonce, expires_at=link.expires_at
    )
    path = PAGE_PATH + sign_link(secret=secret, claims=claims)
    answer = LinkOut(
        url=settings.payment_page_base_url.rstrip("/") + path,
        path=path,
        purpose=link.purpose,
        expires_at=link.expires_at,
    )
    return answer, created


def _link_for(session: Session, *, token: str, now: datetime, settings: Settings) -> PaymentPageLink:
    """The link a token names, if it may still be used; otherwise the reason it may not."""
    try:
        claims = read_link(secret=_secret(settings), token=token)
    except BadLinkToken as exc:
        raise LinkInvalid("This payment link is not valid. Ask for a new one in the chat.") from exc
    link = session.scalar(
        select(PaymentPageLink)
        .where(PaymentPageLink.nonce == claims.nonce)
        .execution_options(populate_existing=True)
    )
    # The row must say what the signed token says: another customer's or purpose's nonce is no link at all.
    if link is None or link.customer_id != claims.customer_id or link.purpose != claims.purpose:
        raise LinkInvalid("This payment link is not valid. Ask for a new one in the chat.")
    if link.status == LinkStatus.completed:
        raise LinkUsed("This payment link was already used. Ask for a new one in the chat if you need it.")
    if min(link.expires_at, claims.expires_at) <= now:
        raise LinkExpired(
            "This payment link has expired (links last a few minutes). Ask for a new one in the chat."
        )
    return link


def open_page(session: Session, *, token: str, now: datetime, today: date, settings: Settings) -> PageView:
    link = _link_for(session, token=token, now=now, settings=settings)
    customer = get_customer(session, customer_id=link.customer_id)
    balance = get_balance(session, customer_id=link.customer_id, today=today)
    methods = payments.payment_methods(session, customer_id=link.customer_id, today=today)
    default = next((m for m in methods.on_file if m.is_default), None)
    return PageView(
        link=link,
        first_name=customer.first_name,
        currency=customer.account.currency,
        total_due=max(balance.ledger.total_due, Decimal("0.00")),
        past_due=balance.past_due,
        autopay=methods.autopay,
        method_on_file=default.masked if default else None,
    )


def _claim(session: Session, *, link: PaymentPageLink, now: datetime) -> int:
    """open -> processing in one statement, so exactly one of two simultaneous submissions gets the link."""
    claimed = session.execute(
        update(PaymentPageLink)
        .where(
            PaymentPageLink.id == link.id,
            PaymentPageLink.status == LinkStatus.open,
            PaymentPageLink.expires_at > now,
        )
        .values(status=LinkStatus.processing, attempts=PaymentPageLink.attempts + 1)
    )
    session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's result has a rowcount
        raise LinkInUse(
            "This payment link is being used in another window. Wait a moment, then reload this page."
        )
    session.refresh(link)
    return link.attempts


def complete_page(
    session: Session,
    *,
    token: str,
    submission: CompletionIn,
    processor: PaymentProcessor,
    now: datetime,
    today: date,
    settings: Settings,
) -> CompletionOut:
    link = _link_for(session, token=token, now=now, settings=settings)
    attempt = _claim(session, link=link, now=now)
    try:
        outcome = _do(
            session,
            link=link,
            attempt=attempt,
            submission=submission,
            processor=processor,
            now=now,
            today=today,
            settings=settings,
        )
    except BackendError:
        session.rollback()
        session.execute(
            update(PaymentPageLink).where(PaymentPageLink.id == link.id).values(status=LinkStatus.open)
        )
        session.commit()
        raise
    completed = outcome.payment is None or outcome.payment["status"] != "failed"
    link.status = LinkStatus.completed if completed else LinkStatus.open
    if completed:
        link.completed_at = now
        link.outcome = outcome.model_dump(mode="json")
    audit.record(
        session,
        actor=page_actor(link.customer_id),
        action="write.payment_page",
        resource=f"payment-page-link:{link.id}",
        customer_id=link.customer_id,
        details={"attempt": attempt, "completed": completed, "summary": outcome.summary},
    )
    session.commit()
    if completed and link.conversation_id:
        body = {
            "event_id": f"payment-page-{link.nonce}",
            "conversation_id": link.conversation_id,
            "customer_id": link.customer_id,
            **outcome.model_dump(mode="json"),
        }
        api_token = settings.usable_secret(settings.handoff_api_token, DEFAULT_HANDOFF_API_TOKEN)
        if api_token is None:
            logger.error(
                "HANDOFF_API_TOKEN is the development default: the chat is not told of link %d", link.id
            )
        elif send_outcome(handoff_url=settings.handoff_url, api_token=api_token, body=body):
            link.notified_at = now
            session.commit()
    return outcome


def _do(
    session: Session,
    *,
    link: PaymentPageLink,
    attempt: int,
    submission: CompletionIn,
    processor: PaymentProcessor,
    now: datetime,
    today: date,
    settings: Settings,
) -> CompletionOut:
    """Saves the processor's token as the method on file, pays if asked, turns autopay on if asked."""
    cid, actor, key = link.customer_id, page_actor(link.customer_id), f"page-{link.nonce}-{attempt}"
    # A card that is to pay becomes the default only once it has paid: a declined card never replaces one.
    method, _ = payments.save_payment_method(
        session,
        customer_id=cid,
        token=submission.payment_token,
        make_default=submission.pay == "none",
        actor=actor,
        idempotency_key=f"{key}-method",
        processor=processor,
        today=today,
    )
    payment: dict[str, Any] | None = None
    sentences = [f"{method.brand} ending {method.last4} is saved as your payment method."]
    currency = get_customer(session, customer_id=cid).account.currency
    if submission.pay != "none":
        quote = payments.create_quote(
            session,
            customer_id=cid,
            amount_choice=submission.pay,
            amount=submission.amount,
            payment_method_id=method.id,
            actor=actor,
            now=now,
            today=today,
            settings=settings,
        )
        paid, _ = payments.confirm_quote(
            session,
            customer_id=cid,
            quote_id=quote.quote_id,
            actor=actor,
            idempotency_key=f"{key}-pay",
            processor=processor,
            now=now,
            today=today,
            settings=settings,
        )
        payment = {
            "id": paid.id,
            "amount": f"{paid.amount:.2f}",
            "currency": paid.currency,
            "status": paid.status,
            "expected_post_date": paid.expected_post_date.isoformat() if paid.expected_post_date else None,
            "failure_message": paid.failure_message,
        }
        sentences.append(
            _payment_sentence(
                paid.status,
                amount=format_money(paid.amount, currency),
                balance=format_money(paid.total_due, currency),
                failure=paid.failure_message,
                expected=paid.expected_post_date,
            )
        )
        if paid.status != "failed":
            method, _ = payments.save_payment_method(
                session,
                customer_id=cid,
                token=submission.payment_token,
                make_default=True,
                actor=actor,
                idempotency_key=f"{key}-default",
                processor=processor,
                today=today,
            )
    autopay: dict[str, Any] | None = None
    if submission.autopay is not None and (payment is None or payment["status"] != "failed"):
        switched, _ = payments.set_autopay(
            session,
            customer_id=cid,
            enabled=submission.autopay,
            actor=actor,
            idempotency_key=f"{key}-autopay-{submission.autopay}",
            today=today,
        )
        autopay = {
            "enabled": switched.autopay,
            "next_autopay_date": switched.next_autopay_date.isoformat()
            if switched.next_autopay_date
            else None,
        }
        sentences.append(switched.message)
    total_due = get_balance(session, customer_id=cid, today=today).ledger.total_due
    return CompletionOut(
        status="completed" if payment is None or payment["status"] != "failed" else "declined",
        method={"id": method.id, "masked": method.masked},
        payment=payment,
        autopay=autopay,
        total_due=max(total_due, Decimal("0.00")),
        currency=currency,
        summary=" ".join(sentences),
    )


def _payment_sentence(
    status: str, *, amount: str, balance: str, failure: str | None, expected: date | None
) -> str:
    if status == "posted":
        return f"Your payment of {amount} has posted; your balance is now {balance}."
    if status == "pending":
        when = f" by {expected:%B} {expected.day}" if expected else ""
        return f"Your payment of {amount} is pending and should post{when}."
    reason = failure or "the card was declined."
    return f"Your payment of {amount} did not go through: {reason} Try another card."
