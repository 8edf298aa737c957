"""The action server: rasa-sdk's own app, plus the check that a call comes from Rasa (docs/contracts.md).

rasa-sdk 3.21 has no authentication of its own, so this module starts its endpoint app with a request
middleware that refuses every call without `Authorization: Bearer $ACTION_SERVER_TOKEN` (Rasa sends it:
bot/endpoints*.yml), except `GET /health` (the balancer's and Kubernetes' probes).

    python -m actions.server --actions actions --port 5055      # same arguments as `python -m rasa_sdk`
"""

from __future__ import annotations

import hmac
import logging
import os
from functools import partial
from typing import Any

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.worker.loader import AppLoader

from actions.config import get_settings

logger = logging.getLogger(__name__)

OPEN_PATHS = {"/health"}


def token_is_valid(authorization: str | None, expected: str) -> bool:
    """`Bearer <token>`, compared in constant time."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.strip().encode(), expected.encode())


def require_action_server_token(app: Sanic[Any, Any], expected_token: str) -> Sanic[Any, Any]:
    """Every route except the health probe answers 401 unless the caller sends the token."""

    async def refuse_without_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        if token_is_valid(request.headers.get("authorization"), expected_token):
            return None
        logger.warning("action server call to %s refused: no valid token", request.path)
        return response.json({"error": "unauthorized"}, status=401)

    # a request middleware (as @app.on_request), before rasa-sdk's own handlers and plugins
    app.middleware(refuse_without_token, "request", priority=1000)
    return app


def create_app(
    action_package: str = "actions", *, token: str | None = None, **serve_options: Any
) -> Sanic[Any, Any]:
    """rasa-sdk's app for `action_package`, guarded by the token (default: ACTION_SERVER_TOKEN)."""
    from rasa_sdk.endpoint import create_app_for_serve
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package(action_package)
    app = create_app_for_serve(executor, **serve_options)
    return require_action_server_token(
        app, token if token is not None else get_settings().action_server_token
    )


def main() -> None:
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_argument_parser, create_ssl_config

    # rasa-sdk's functions carry no annotations (unused-ignore: while mypy's config allows the call here)
    args = create_argument_parser().parse_args()  # type: ignore[no-untyped-call, unused-ignore]
    if args.grpc:
        raise SystemExit("actions.server serves HTTP only (Rasa's action_endpoint); drop --grpc")
    try:
        get_settings()  # refuses development secrets outside development before anything listens
    except RuntimeError as error:
        raise SystemExit(f"actions.server: {error}") from None
    utils.configure_colored_logging(args.loglevel)  # type: ignore[no-untyped-call, unused-ignore]  # as above
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    utils.update_sanic_log_level()

    # As rasa_sdk.endpoint.run does, but with this module's factory (each Sanic worker rebuilds the app).
    loader = AppLoader(
        factory=partial(
            create_app,
            args.actions_module or args.actions,
            cors_origins=args.cors,
            auto_reload=args.auto_reload,
            endpoints=args.endpoints,
        )
    )
    app = loader.load()
    host = os.environ.get("SANIC_HOST", "127.0.0.1")
    logger.info("Action endpoint (token required) on %s:%s", host, args.port)
    app.prepare(
        host=host,
        port=args.port,
        ssl=create_ssl_config(args.ssl_certificate, args.ssl_keyfile, args.ssl_password),
        workers=utils.number_of_sanic_workers(),
    )
    Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()
