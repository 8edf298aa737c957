"""The secure payment page itself: public routes (the signed link is the credential), HTML with its own static
script and style, strict headers. Card fields have no `name`: without the script nothing is submitted at all,
and the script sends the card only to the processor's tokenize endpoint (contracts: "Payment page")."""

import logging
import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from backend.clock import NowDep, TodayDep
from backend.config import Settings
from backend.database import SessionDep
from backend.money import format_money
from backend.payment_page import service
from backend.payment_page.schemas import CompletionIn, CompletionOut
from backend.payment_page.simulated_tokenizer import MOUNT_PATH, simulated_tokenizer
from backend.payment_page.tokens import TOKEN_PATTERN
from backend.payments.processor import PaymentProcessor

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
STATIC_PATH = "/payment-page/static"
SIMULATED_TOKENIZE_PATH = "/sim-processor/v1/payment_methods"
templates = Jinja2Templates(directory=str(HERE / "templates"))

# The page may run only its own script and style and talk only to this origin (the simulated processor is
# mounted here; a real processor's origin would be added to connect-src). The link is in the URL: no Referer.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
LinkToken = Annotated[str, PathParam(max_length=500)]

router = APIRouter(tags=["payment page"], include_in_schema=False)


class RedactLinkTokens(logging.Filter):
    """Access log lines show /pay/[redacted]: a live link in a log file would be a usable link."""

    PATTERN = re.compile(r"/pay/[A-Za-z0-9_.\-]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self.PATTERN.sub("/pay/[redacted]", a) if isinstance(a, str) else a for a in record.args
            )
        return True


REDACT_LINK_TOKENS = RedactLinkTokens()


def install_payment_page(app: FastAPI) -> None:
    """The page's public routes and static files; with the simulated processor, its tokenize side."""
    settings: Settings = app.state.settings
    app.include_router(router)
    app.mount(STATIC_PATH, StaticFiles(directory=str(STATIC_DIR)), name="payment-page-static")
    if settings.payments_processor == "simulated":
        app.mount(MOUNT_PATH, simulated_tokenizer(lambda: app.state.processor), name="simulated-processor")
    logging.getLogger("uvicorn.access").addFilter(REDACT_LINK_TOKENS)


def _processor(request: Request) -> PaymentProcessor:
    processor: PaymentProcessor = request.app.state.processor
    return processor


def _refused(request: Request, error: service.LinkRefused) -> Response:
    return templates.TemplateResponse(
        request,
        "refused.html",
        {"message": error.message, "code": error.code},
        status_code=error.status_code,
        headers=PAGE_HEADERS,
    )


@router.get("/pay/{token}", response_class=HTMLResponse)
def payment_page(
    token: LinkToken, request: Request, session: SessionDep, now: NowDep, today: TodayDep
) -> Response:
    settings: Settings = request.app.state.settings
    if not re.fullmatch(TOKEN_PATTERN, token):
        return _refused(
            request, service.LinkInvalid("This payment link is not valid. Ask for a new one in the chat.")
        )
    try:
        view = service.open_page(session, token=token, now=now, today=today, settings=settings)
    except service.LinkRefused as error:
        return _refused(request, error)
    tokenize_url = SIMULATED_TOKENIZE_PATH if settings.payments_processor == "simulated" else None
    context = {
        "view": view,
        "purpose": str(view.link.purpose),
        "total_due": format_money(view.total_due, view.currency),
        "past_due": format_money(view.past_due, view.currency),
        "expires_at": view.link.expires_at.isoformat(),
        "complete_url": f"/pay/{token}/complete",
        "tokenize_url": tokenize_url,
        "pay_default": "none"
        if view.link.purpose == "update_method" or view.total_due <= 0
        else ("past_due" if view.past_due > 0 else "full_balance"),
    }
    return templates.TemplateResponse(request, "pay.html", context, headers=PAGE_HEADERS)


@router.post("/pay/{token}/complete", response_model=CompletionOut)
def complete_payment_page(
    token: LinkToken,
    submission: CompletionIn,
    request: Request,
    session: SessionDep,
    now: NowDep,
    today: TodayDep,
) -> JSONResponse:
    settings: Settings = request.app.state.settings
    if not re.fullmatch(TOKEN_PATTERN, token):
        raise service.LinkInvalid("This payment link is not valid. Ask for a new one in the chat.")
    outcome = service.complete_page(
        session,
        token=token,
        submission=submission,
        processor=_processor(request),
        now=now,
        today=today,
        settings=settings,
    )
    return JSONResponse(outcome.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
