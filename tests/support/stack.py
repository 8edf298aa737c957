"""Start the whole stack as real processes on free loopback ports, for end-to-end tests and benchmarks.

backend (uvicorn) + action server (actions.server: rasa_sdk + token) + Rasa (rasa run, .venv-bot) + handoff
(uvicorn), each with its own databases in a temporary directory, the demo data seeded, and the model that
`scripts/train.sh` maps the current training data to.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"
RASA = REPO_ROOT / ".venv-bot" / "bin" / "rasa"


# Below Linux's ephemeral range (32768-60999): a port the kernel handed out with bind(0) can be given again
# to any outgoing connection before the service binds it ("Address already in use", seen once in CI when
# the replica stack started ten services at once). Ports here are only ever taken on purpose.
_PORT_RANGE = (20000, 32000)
_handed_out: set[int] = set()


def _port_range() -> tuple[int, int]:
    """Under pytest-xdist each worker draws from its own slice of the range: `_handed_out` is per process, so
    two workers could otherwise hand out the same port between its check and the service's bind."""
    worker, count = os.environ.get("PYTEST_XDIST_WORKER", ""), os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if not worker.startswith("gw") or not count.isdigit():
        return _PORT_RANGE
    low, high = _PORT_RANGE
    width = (high - low) // int(count)
    index = int(worker.removeprefix("gw"))
    return low + index * width, low + (index + 1) * width


def free_port() -> int:
    low, high = _port_range()
    for _ in range(200):
        port = random.randrange(low, high)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free loopback port in {(low, high)}")


def current_model() -> Path:
    """The model the current training data maps to (STACK_MODEL overrides it, for quick local runs)."""
    if os.environ.get("STACK_MODEL"):
        return Path(os.environ["STACK_MODEL"]).resolve()
    path = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "train.sh"), "--path"],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    ).stdout.strip()
    model = REPO_ROOT / path
    if not model.exists():
        raise RuntimeError(f"No trained model at {model}: run `make train` first")
    return model


@dataclass
class Service:
    name: str
    command: list[str]
    health_url: str
    port: int
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    def start(self, env: dict[str, str], log_dir: Path) -> None:
        self.log_path = log_dir / f"{self.name}.log"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command,
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so children die with it
        )

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
            try:
                if httpx.get(self.health_url, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} not healthy after {timeout}s:\n{self.tail()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout)
        except ProcessLookupError:
            pass

    def signal(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)

    def tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Stack:
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)

    @property
    def backend_url(self) -> str:
        return self.env["BACKEND_URL"]

    @property
    def handoff_url(self) -> str:
        return self.env["HANDOFF_URL"]

    @property
    def rasa_url(self) -> str:
        return self.env["RASA_URL"]

    @property
    def chat_ws_url(self) -> str:
        return self.handoff_url.replace("http://", "ws://") + "/ws/chat"

    def backend_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.env['BACKEND_API_TOKEN']}"}

    def start(self, *, rasa_timeout: float = 180) -> Stack:
        log_dir = self.workdir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        ports = {name: free_port() for name in ("backend", "actions", "rasa", "handoff")}
        self.env = {
            **os.environ,
            "APP_ENV": "development",
            "BACKEND_URL": f"http://127.0.0.1:{ports['backend']}",
            "BACKEND_DATABASE_URL": f"sqlite:///{self.workdir / 'backend.db'}",
            "BACKEND_API_TOKEN": "e2e-backend-token",
            # the secure payment page's links point at this backend (the page is served there)
            "PAYMENT_PAGE_BASE_URL": f"http://127.0.0.1:{ports['backend']}",
            "HANDOFF_URL": f"http://127.0.0.1:{ports['handoff']}",
            "HANDOFF_DATABASE_URL": f"sqlite:///{self.workdir / 'handoff.db'}",
            "HANDOFF_API_TOKEN": "e2e-handoff-token",
            "CUSTOMER_JWT_SECRET": "e2e-customer-jwt-secret",
            "RASA_URL": f"http://127.0.0.1:{ports['rasa']}",
            "RASA_AUTH_TOKEN": "e2e-rasa-token",
            "RASA_CHANNEL_TOKEN": "e2e-rasa-channel-token",
            "ACTION_SERVER_TOKEN": "e2e-action-server-token",
            "IDENTITY_ASSERTION_SECRET": "e2e-identity-assertion-secret-at-least-32-bytes",
            "RASA_TRACKER_SQLITE": str(self.workdir / "rasa_tracker.db"),
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{ports['actions']}/webhook",
            "SANIC_HOST": "127.0.0.1",  # the action server listens on loopback only
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "TF_ENABLE_ONEDNN_OPTS": "0",  # as scripts/env.sh
            "RASA_TELEMETRY_ENABLED": "false",
            **self.env,
        }
        model = current_model()
        self.services = {
            "backend": Service(
                "backend",
                [
                    str(APP_PYTHON), "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1", "--port",
                    str(ports["backend"]),
                ],
                f"{self.env['BACKEND_URL']}/health",
                ports["backend"],
            ),
            "actions": Service(
                "actions",
                [
                    str(APP_PYTHON), "-m", "actions.server", "--actions", "actions", "--port",
                    str(ports["actions"]),
                ],
                f"http://127.0.0.1:{ports['actions']}/health",
                ports["actions"],
            ),
            "rasa": Service(
                "rasa",
                [
                    str(RASA), "run", "--enable-api", "--auth-token", self.env["RASA_AUTH_TOKEN"],
                    "--interface", "127.0.0.1", "--port", str(ports["rasa"]), "--model", str(model),
                    "--endpoints", self.env.get("RASA_ENDPOINTS", "bot/endpoints.yml"), "--credentials",
                    "bot/credentials.yml",
                ],
                f"{self.env['RASA_URL']}/status?token={self.env['RASA_AUTH_TOKEN']}",
                ports["rasa"],
            ),
            "handoff": Service(
                "handoff",
                [
                    str(APP_PYTHON), "-m", "uvicorn", "handoff.main:app", "--host", "127.0.0.1", "--port",
                    str(ports["handoff"]),
                ],
                f"{self.env['HANDOFF_URL']}/health",
                ports["handoff"],
            ),
        }
        # Rasa takes the longest to load its model and needs neither database: it starts first and loads while
        # the backend's and the handoff service's databases are migrated and seeded (the two side by side).
        rasa = self.services["rasa"]
        rasa.start(self.env, log_dir)
        try:
            self._migrate_and_seed()
        except Exception:
            rasa.stop()
            raise
        for service in self.services.values():
            if service is not rasa:
                service.start(self.env, log_dir)
        try:
            for service in self.services.values():
                service.wait_healthy(rasa_timeout if service.name == "rasa" else 60)
            self.wait_model_loaded(rasa_timeout)
        except Exception:
            self.stop()
            raise
        return self

    def _migrate_and_seed(self) -> None:
        """`<service>.cli migrate` then `seed-demo`, for the backend and the handoff service at once."""
        def chain(cli: str) -> None:
            for command in ("migrate", "seed-demo"):
                subprocess.run(
                    [str(APP_PYTHON), "-m", cli, command],
                    cwd=REPO_ROOT,
                    env=self.env,
                    check=True,
                    capture_output=True,
                )

        with ThreadPoolExecutor(max_workers=2) as pool:
            for done in [pool.submit(chain, cli) for cli in ("backend.cli", "handoff.cli")]:
                done.result()

    def wait_model_loaded(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        status_url = f"{self.rasa_url}/status?token={self.env['RASA_AUTH_TOKEN']}"
        while time.monotonic() < deadline:
            try:
                if httpx.get(status_url, timeout=5).json().get("model_file"):
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"Rasa loaded no model in {timeout}s:\n{self.services['rasa'].tail()}")

    # -- faults: stop, kill, pause and restart one process (tests/faults) -------------------------

    def stop_service(self, name: str, *, sig: int = signal.SIGTERM) -> None:
        """Stop one process: SIGTERM (graceful) or SIGKILL (a crash). The others keep running."""
        self.services[name].stop(sig)

    def start_service(self, name: str, *, timeout: float = 180) -> None:
        """Start a stopped process again with the same port, environment and databases; wait until ready."""
        service = self.services[name]
        service.start(self.env, self.workdir / "logs")
        service.wait_healthy(timeout)
        if name == "rasa":
            self.wait_model_loaded(timeout)

    def restart(self, name: str, *, sig: int = signal.SIGTERM, timeout: float = 180) -> None:
        self.stop_service(name, sig=sig)
        self.start_service(name, timeout=timeout)

    def pause(self, name: str) -> None:
        """SIGSTOP: the process hangs (accepts connections in the kernel, answers nothing), like a stalled
        host. Stopping or killing it afterwards works (`stop()` continues it first)."""
        self.services[name].signal(signal.SIGSTOP)

    def logs(self) -> dict[str, str]:
        """Everything each process wrote to stdout/stderr since the stack started (restarts append)."""
        return {
            path.stem: path.read_text(errors="replace")
            for path in sorted((self.workdir / "logs").glob("*.log"))
        }

    @property
    def tracker_db(self) -> Path:
        """Rasa's SQL tracker store (bot/endpoints.yml: SQLite at RASA_TRACKER_SQLITE)."""
        return Path(self.env["RASA_TRACKER_SQLITE"])

    def stop(self) -> None:
        for service in reversed(list(self.services.values())):
            service.signal(signal.SIGCONT)  # a paused process cannot handle SIGTERM
            service.stop()

    def dump_logs(self) -> None:
        for service in self.services.values():
            sys.stderr.write(f"----- {service.name} -----\n{service.tail(80)}\n")
