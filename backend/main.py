"""The billing backend's FastAPI app. Importing this module connects to nothing."""
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from backend.account_check.router import router as account_check_router
from backend.arrangements.router import router as arrangements_router
from backend.audit.router import router as audit_router
from backend.auth import require_service_token
from backend.billing.router import router as billing_router
from backend.config import Settings, get_settings
from backend.customers.router import router as customers_router
from backend.database import Database
from backend.disputes.router import router as disputes_router
from backend.documents.router import public_router as documents_public_router
from backend.documents.router import router as documents_router
from backend.errors import install_error_handlers
from backend.mail.pages import install_mail_preferences
from backend.mail.router import router as mail_router
from backend.payment_page.pages import install_payment_page
from backend.payment_page.router import router as payment_page_router
from backend.payments.processor import make_processor
from backend.payments.router import router as payments_router
from backend.payments.router import webhook_router
from backend.reminders.pay_links import router as reminder_pay_links_router
from backend.reminders.router import router as reminders_router
from backend.reports.router import router as reports_router
from backend.system_credits.router import router as system_credits_router


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.database.dispose()

    app = FastAPI(
        title="Billing backend",
        version="1.0.0",
        description=(
            "System of record for billing: customers, invoices, payments, disputes, credits, audit log."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database or Database(settings.database_url)
    app.state.processor = make_processor(settings)
    install_error_handlers(app)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    protected = [Depends(require_service_token)]
    for router in (customers_router, billing_router, payments_router, arrangements_router, disputes_router,
                   audit_router, account_check_router, mail_router, reports_router, documents_router,
                   reminders_router, system_credits_router):
        app.include_router(router, dependencies=protected)
    app.include_router(payment_page_router, dependencies=protected)
    install_payment_page(app)  # public: the signed link is the credential
    install_mail_preferences(app)  # public: the signed link in reminder mail is the credential
    app.include_router(documents_public_router)  # public: the signed download link is the credential
    app.include_router(reminder_pay_links_router)  # public: the reminder's signed pay link is the credential
    app.include_router(webhook_router)  # authenticated by the processor's signature, not the bearer token
    return app


app = create_app()
