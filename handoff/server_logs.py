"""The server's own log lines, made safe for what customers send (issue 14).

- Secrets out of logs: uvicorn writes each request's path with its query string (the access log) and each
  WebSocket's (`"WebSocket /ws/chat?token=..." [accepted]`), and both sockets carry a bearer secret in
  `?token=` (a customer's JWT, a staff session). The value becomes `[redacted]` before any handler formats it.
- No traceback from customer input: uvicorn logs a text frame that is not UTF-8 with `logger.exception` (then
  closes it 1007, as it should). That is bad client input, not a server fault: logged as a one-line warning.
"""

from __future__ import annotations

import logging
import re

_TOKEN_IN_QUERY = re.compile(r"([?&](?:token|access_token)=)[^&\s\"']*", re.IGNORECASE)
FILTERED_LOGGERS = ("uvicorn.access", "uvicorn.error")
_CLIENT_INPUT_ERRORS = (UnicodeDecodeError,)


def scrub(text: str) -> str:
    return _TOKEN_IN_QUERY.sub(r"\1[redacted]", text)


class ServerLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(scrub(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: scrub(value) if isinstance(value, str) else value
                           for key, value in record.args.items()}
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, _CLIENT_INPUT_ERRORS) and record.levelno >= logging.ERROR:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = f"{record.msg} ({type(error).__name__}: closed)"
            record.exc_info, record.exc_text = None, None
        return True


def install_server_log_filters() -> None:
    """Idempotent: create_app() may run more than once in a process (tests)."""
    for name in FILTERED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ServerLogFilter) for f in logger.filters):
            logger.addFilter(ServerLogFilter())
