"""The handoff service: `create_app()` builds the FastAPI app; nothing connects until start-up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from handoff import notifier
from handoff.clients.backend import BackendClient
from handoff.clients.rasa import RasaClient
from handoff.config import Settings
from handoff.context import Services
from handoff.conversations import escalation_api, lifecycle, payment_outcome_api, widget_socket
from handoff.db import Database
from handoff.email import routes as email_routes
from handoff.errors import install_error_handlers
from handoff.pubsub import make_pubsub
from handoff.queue import sla
from handoff.server_logs import install_server_log_filters
from handoff.specialists import console_socket
from handoff.specialists import routes as console_routes
from handoff.specialists.security import install_http_security
from handoff.training import routes as training_routes
from handoff.web import routes as web_routes

log = logging.getLogger("handoff")
TURN_SHUTDOWN_GRACE_SECONDS = 5  # bot turns in flight at shutdown may finish this long (a turn takes 0.2-3 s)


async def _housekeeping(services: Services) -> None:
    """Abandon queued chats whose customer left, refresh positions/ETAs as time passes, tell supervisors of
    SLA breaches (once each)."""
    while True:
        await asyncio.sleep(services.settings.housekeeping_seconds)
        try:
            await lifecycle.sweep_abandoned(services=services)
            await notifier.publish_queue(services=services)
            await sla.alert_breaches(services=services)
        except Exception:
            log.exception("housekeeping failed")


def create_app(settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        active = settings or Settings()
        if active.migrate_on_start:
            from handoff.migrate import upgrade_database

            await asyncio.to_thread(upgrade_database, database_url=active.resolved_database_url)
        db = Database(active.resolved_database_url)
        pubsub = make_pubsub(active.pubsub_url)
        rasa = RasaClient(base_url=active.rasa_url, auth_token=active.rasa_auth_token,
                          timeout_seconds=active.rasa_timeout_seconds,
                          channel_token=active.rasa_channel_token,
                          identity_secret=active.identity_assertion_secret,
                          identity_seconds=active.identity_assertion_seconds)
        backend = BackendClient(base_url=active.backend_url, api_token=active.backend_api_token,
                                timeout_seconds=active.backend_timeout_seconds)
        services = Services(settings=active, db=db, pubsub=pubsub, rasa=rasa, backend=backend)
        app.state.settings = active
        app.state.services = services
        housekeeping = asyncio.create_task(_housekeeping(services))
        try:
            yield
        finally:
            housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await housekeeping
            await services.turns.stop(grace_seconds=TURN_SHUTDOWN_GRACE_SECONDS)  # before their clients close
            await rasa.aclose()
            await backend.aclose()
            await pubsub.close()
            db.dispose()

    # No /docs or /redoc: their pages need inline script and a CDN (refused by the CSP); /openapi.json stays.
    app = FastAPI(title="Billing support handoff", lifespan=lifespan, docs_url=None, redoc_url=None)
    install_server_log_filters()  # no ?token= secret and no customer-input traceback in the server log
    install_error_handlers(app)

    install_http_security(app)

    app.include_router(web_routes.router)
    app.include_router(escalation_api.router)
    app.include_router(payment_outcome_api.router)
    app.include_router(email_routes.router)
    app.include_router(console_routes.router)
    app.include_router(training_routes.router)
    app.include_router(widget_socket.router)
    app.include_router(console_socket.router)
    app.mount("/static", StaticFiles(directory=web_routes.STATIC), name="static")
    return app


app = create_app()
