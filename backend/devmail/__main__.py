"""python -m backend.devmail: SMTP on 127.0.0.1:$DEVMAIL_SMTP_PORT, pages on 127.0.0.1:$DEVMAIL_HTTP_PORT."""
import argparse
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from backend.config import REPO_ROOT
from backend.devmail.forward import ForwardSettings
from backend.devmail.smtp import make_controller
from backend.devmail.store import MailStore
from backend.devmail.web import create_app

HOST = "127.0.0.1"  # development only: never every interface


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m backend.devmail", description="Development mail server")
    parser.add_argument("--smtp-port", type=int, default=int(os.environ.get("DEVMAIL_SMTP_PORT", "1025")))
    parser.add_argument("--http-port", type=int, default=int(os.environ.get("DEVMAIL_HTTP_PORT", "8025")))
    parser.add_argument("--database", default=os.environ.get("DEVMAIL_DATABASE", "var/devmail.db"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    path = Path(args.database)
    store = MailStore(path if path.is_absolute() else REPO_ROOT / path)
    forwarding = ForwardSettings.from_env()
    controller = make_controller(store, host=HOST, port=args.smtp_port, forwarding=forwarding)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        controller.start()
        logging.getLogger("backend.devmail").info(
            "devmail: SMTP on %s:%d, messages at http://%s:%d/; mail to @%s forwarded to %s", HOST,
            args.smtp_port, HOST, args.http_port, forwarding.reply_domain, forwarding.url or "(nowhere)")
        try:
            yield
        finally:
            controller.stop()

    app = create_app(store, smtp_host=HOST, smtp_port=args.smtp_port, forwarding=forwarding)
    app.router.lifespan_context = lifespan
    uvicorn.run(app, host=HOST, port=args.http_port, log_level="warning")


if __name__ == "__main__":
    main()
