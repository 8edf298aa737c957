"""The development mail server as a real process for the email tests (issue 19)."""
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DevMail:
    smtp_port: int
    http_port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/api/messages", params={"to": to} if to else None, timeout=10)
        response.raise_for_status()
        answer: list[dict[str, Any]] = response.json()
        return answer

    def wait_for(self, count: int, *, to: str | None = None, timeout: float = 15) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages(to)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


@contextmanager
def devmail_process(tmp_path: Path, *, smtp_port: int | None = None,
                    env: dict[str, str] | None = None) -> Iterator[DevMail]:
    smtp_port = smtp_port or free_port()
    http_port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "backend.devmail", "--smtp-port", str(smtp_port),
         "--http-port", str(http_port), "--database", str(tmp_path / f"devmail-{smtp_port}.db")],
        cwd=REPO_ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    server = DevMail(smtp_port, http_port, process)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                output = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"devmail exited: {output}")
            try:
                server.messages()
                with socket.create_connection(("127.0.0.1", smtp_port), timeout=1):
                    break
            except (httpx.HTTPError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
