"""Start the replicated production topology on loopback ports (issue 7, "more than one machine").

One backend on PostgreSQL, two action servers, two Rasa servers (SQL tracker store on PostgreSQL +
Redis lock store, bot/endpoints.production.yml), two handoff replicas (PostgreSQL + Redis pub/sub)
and HAProxy in front of the three replicated roles, one address each. Every process is started
from its production Procfile (deploy/procfiles/) with its production env files (deploy/env/);
only addresses, secrets and database names are replaced by this run's. Each run gets its own
PostgreSQL databases (CREATE DATABASE, dropped afterwards) and Redis key prefix.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import redis

from tests.support.stack import APP_PYTHON, REPO_ROOT, Service, current_model, free_port

DEPLOY = REPO_ROOT / "deploy"
PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_URL_BASE = "redis://127.0.0.1:6379"
LOCK_REDIS_DB = 1


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (honcho's .env format as used in deploy/env/); comments and blanks skipped."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"{path}: not KEY=VALUE: {line!r}")
        values[key.strip()] = value.strip()
    return values


def role_env(role: str) -> dict[str, str]:
    """What `honcho -e deploy/env/common.env,deploy/env/<role>.env` gives a role (placeholders included)."""
    env = read_env_file(DEPLOY / "env" / "common.env")
    env.update(read_env_file(DEPLOY / "env" / f"{role}.env"))
    return env


def procfile_command(role: str) -> str:
    """The one command of deploy/procfiles/Procfile.<role>."""
    commands = [
        line.split(":", 1)[1].strip()
        for line in (DEPLOY / "procfiles" / f"Procfile.{role}").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if len(commands) != 1:
        raise ValueError(f"Procfile.{role} must have exactly one process, found {len(commands)}")
    return commands[0]


def postgres_admin_user() -> str:
    for user in ("postgres", "root"):
        try:
            with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="test", connect_timeout=3):
                return user
        except psycopg.OperationalError:
            continue
    raise RuntimeError(f"PostgreSQL on {PG_HOST}:{PG_PORT} (database `test`, trust auth) is not reachable")


def haproxy_binary() -> str:
    for candidate in ("/usr/sbin/haproxy", "/usr/bin/haproxy"):
        if Path(candidate).exists():
            return candidate
    raise RuntimeError("HAProxy is not installed: run scripts/ensure_haproxy.sh")


@dataclass
class Replicas:
    workdir: Path
    rasa_count: int = 2
    actions_count: int = 2
    handoff_count: int = 2
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    env: dict[str, str] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)
    lb_ports: dict[str, int] = field(default_factory=dict)
    role_overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    databases: dict[str, str] = field(default_factory=dict)
    pg_user: str = ""

    # -- addresses ---------------------------------------------------------------------------------

    @property
    def handoff_url(self) -> str:
        """The one address of the handoff role (HAProxy)."""
        return f"http://127.0.0.1:{self.lb_ports['handoff']}"

    @property
    def chat_ws_url(self) -> str:
        return self.handoff_url.replace("http://", "ws://") + "/ws/chat"

    @property
    def backend_url(self) -> str:
        return self.env["BACKEND_URL"]

    @property
    def stats_url(self) -> str:
        return f"http://127.0.0.1:{self.lb_ports['stats']}/stats;csv"

    def replica_url(self, name: str) -> str:
        """One replica directly, bypassing the balancer (e.g. `handoff_1`)."""
        return f"http://127.0.0.1:{self.services[name].port}"

    def backend_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.env['BACKEND_API_TOKEN']}"}

    def database_url(self, role: str, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{self.pg_user}@{PG_HOST}:{PG_PORT}/{self.databases[role]}"

    # -- start / stop ------------------------------------------------------------------------------

    def start(self, *, rasa_timeout: float = 300) -> Replicas:
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
        self.pg_user = postgres_admin_user()
        haproxy = haproxy_binary()
        try:
            self._create_databases()
            self._configure()
            self._build_services(haproxy)
            # Rasa first: loading the model is the long pole (40-100 s each on a busy machine), and
            # it needs only its (empty) tracker database and Redis; the rest is migrated meanwhile.
            order = sorted(self.services, key=lambda name: not name.startswith("rasa"))
            for name in self.names("rasa"):
                self.services[name].start(self.service_env[name], self.workdir / "logs")
            self._migrate_and_seed()
            for name in order[len(self.names("rasa")):]:
                self.services[name].start(self.service_env[name], self.workdir / "logs")
            with ThreadPoolExecutor(max_workers=len(self.services)) as pool:
                waits = [pool.submit(self.services[name].wait_healthy,
                                     rasa_timeout if name.startswith("rasa") else 60) for name in order]
                for wait in waits:
                    wait.result()
            for name in self.names("rasa"):
                self._wait_model_loaded(name, rasa_timeout)
            self.wait_lb(lambda status: all(s == "UP" for s in status.values()), timeout=30)
        except Exception:
            sys.stderr.write(self.dump_logs() + "\n")
            self.stop()
            raise
        return self

    def names(self, role: str) -> list[str]:
        return [name for name in self.services if name.startswith(f"{role}_")]

    def _create_databases(self) -> None:
        self.databases = {role: f"replicas_{self.run_id}_{role}" for role in ("backend", "handoff", "rasa")}
        with self._admin() as admin:
            for name in self.databases.values():
                admin.execute(f'CREATE DATABASE "{name}"')

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(host=PG_HOST, port=PG_PORT, user=self.pg_user, dbname="test", autocommit=True)

    def _drop_databases(self) -> None:
        if not self.databases:
            return
        with self._admin() as admin:
            for name in self.databases.values():
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.databases = {}

    def _configure(self) -> None:
        self.lb_ports = {name: free_port() for name in ("handoff", "rasa", "actions", "stats")}
        lb = {name: f"http://127.0.0.1:{port}" for name, port in self.lb_ports.items()}
        secret = self.run_id
        # Replaces the placeholders and the production host names of deploy/env/*.env.
        self.env = {
            "APP_ENV": "production",
            "BIND_HOST": "127.0.0.1",
            "BACKEND_URL": f"http://127.0.0.1:{free_port()}",
            "HANDOFF_URL": lb["handoff"],
            "RASA_URL": lb["rasa"],
            "ACTION_ENDPOINT_URL": f"{lb['actions']}/webhook",
            "BACKEND_API_TOKEN": f"replicas-backend-{secret}",
            "HANDOFF_API_TOKEN": f"replicas-handoff-{secret}",
            "RASA_AUTH_TOKEN": f"replicas-rasa-{secret}",
            "RASA_CHANNEL_TOKEN": f"replicas-rasa-channel-{secret}",
            "ACTION_SERVER_TOKEN": f"replicas-action-server-{secret}",
            "IDENTITY_ASSERTION_SECRET": f"replicas-identity-assertion-{secret}",
            "CUSTOMER_JWT_SECRET": f"replicas-customer-jwt-secret-{secret}",
            "PAYMENTS_WEBHOOK_SECRET": f"replicas-payments-webhook-{secret}",
            "PAYMENT_PAGE_SECRET": f"replicas-payment-page-{secret}",
            "EMAIL_REPLY_SECRET": f"replicas-email-reply-{secret}",
            "EMAIL_INBOUND_SECRET": f"replicas-email-inbound-{secret}",
            "DOCUMENTS_LINK_SECRET": f"replicas-documents-link-{secret}",
        }
        self.role_overrides = {
            "backend": {"BACKEND_DATABASE_URL": self.database_url("backend")},
            "actions": {},
            "rasa": {
                "RASA_MODEL": str(current_model()),
                "RASA_TRACKER_PG_HOST": PG_HOST,
                "RASA_TRACKER_PG_PORT": str(PG_PORT),
                "RASA_TRACKER_PG_DB": self.databases["rasa"],
                "RASA_TRACKER_PG_USER": self.pg_user,
                "RASA_TRACKER_PG_PASSWORD": "",
                "RASA_LOCK_REDIS_HOST": "127.0.0.1",
                "RASA_LOCK_REDIS_PORT": "6379",
                "RASA_LOCK_REDIS_DB": str(LOCK_REDIS_DB),
                "RASA_LOCK_REDIS_PASSWORD": "",
                "RASA_LOCK_REDIS_KEY_PREFIX": f"replicas{self.run_id}",
                # Two servers already share this machine's 2 cores; one worker each halves memory and
                # start-up.
                "SANIC_WORKERS": "1",
            },
            "handoff": {
                "HANDOFF_DATABASE_URL": self.database_url("handoff"),
                "HANDOFF_PUBSUB_URL": f"{REDIS_URL_BASE}/0",
                "HANDOFF_SESSION_SECRET": f"replicas-session-{secret}",
                "HANDOFF_BUSINESS_HOURS": "24/7",  # the test runs at any hour
                "TRACKER_DATABASE_URL": self.database_url("rasa"),
            },
        }

    def _role_env(self, role: str, port: int) -> dict[str, str]:
        return {**os.environ, **role_env(role), **self.env, **self.role_overrides.get(role, {}),
                "PORT": str(port)}

    def _migrate_and_seed(self) -> None:
        for role, cli in (("backend", "backend.cli"), ("handoff", "handoff.cli")):
            # Demo data (customers, staff with published passwords) is seeded in development mode
            # only; the services then run with APP_ENV=production.
            env = {**self._role_env(role, 0), "APP_ENV": "development"}
            for command in ("migrate", "seed-demo"):
                subprocess.run([str(APP_PYTHON), "-m", cli, command], cwd=REPO_ROOT, env=env, check=True,
                               capture_output=True)

    def _build_services(self, haproxy: str) -> None:
        backend_port = int(self.env["BACKEND_URL"].rsplit(":", 1)[1])
        specs = [("backend", "backend", backend_port, "/health")]
        for role, count, health in (("actions", self.actions_count, "/health"),
                                    ("rasa", self.rasa_count, "/"),
                                    ("handoff", self.handoff_count, "/health")):
            specs += [(f"{role}_{n}", role, free_port(), health) for n in range(1, count + 1)]
        lb_env = {**os.environ, **read_env_file(DEPLOY / "env" / "lb.env")}
        for name, role, port, health in specs:
            self.service_env[name] = self._role_env(role, port)
            self.services[name] = Service(name, ["bash", "-c", procfile_command(role)],
                                          f"http://127.0.0.1:{port}{health}", port)
            if role != "backend":
                lb_env[name.upper()] = f"127.0.0.1:{port}"
        lb_env.update({f"LB_{role.upper()}_BIND": f"127.0.0.1:{port}"
                       for role, port in self.lb_ports.items()})
        command = procfile_command("lb").replace("exec haproxy", f"exec {haproxy}")
        self.service_env["lb"] = lb_env
        stats = self.lb_ports["stats"]
        self.services["lb"] = Service("lb", ["bash", "-c", command], f"http://127.0.0.1:{stats}/healthz",
                                      stats)

    def _wait_model_loaded(self, name: str, timeout: float) -> None:
        url = f"{self.replica_url(name)}/status?token={self.env['RASA_AUTH_TOKEN']}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=5).json().get("model_file"):
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{name} loaded no model in {timeout}s:\n{self.services[name].tail()}")

    # -- the balancer's view ---------------------------------------------------------------------

    def lb_status(self) -> dict[str, str]:
        """HAProxy's health-check verdict per server, e.g. {"rasa_1": "UP", "handoff_2": "DOWN"}
        (a handoff replica sits in two HAProxy backends, sockets and HTTP: UP only if UP in both)."""
        verdicts: dict[str, set[str]] = {}
        for row in self._server_rows():
            verdicts.setdefault(row["svname"], set()).add(row["status"])
        return {name: "UP" if seen == {"UP"} else sorted(seen - {"UP"})[0] for name, seen in verdicts.items()}

    def lb_sessions(self) -> dict[str, int]:
        """Total sessions (requests and WebSockets) HAProxy sent to each server so far."""
        totals: dict[str, int] = {}
        for row in self._server_rows():
            totals[row["svname"]] = totals.get(row["svname"], 0) + int(row["stot"] or 0)
        return totals

    def _server_rows(self) -> list[dict[str, str]]:
        text = httpx.get(self.stats_url, timeout=5).text.lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return [row for row in rows if row["svname"] not in ("FRONTEND", "BACKEND")]

    def wait_lb(self, predicate, *, timeout: float) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        status: dict[str, str] = {}
        while time.monotonic() < deadline:
            try:
                status = self.lb_status()
                if predicate(status):
                    return status
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"HAProxy did not reach the expected state in {timeout}s: {status}")

    # -- faults ------------------------------------------------------------------------------------

    def kill(self, name: str) -> None:
        """SIGKILL one replica (its whole process group): a crash, no graceful shutdown."""
        self.services[name].stop(signal.SIGKILL)

    def stop(self) -> None:
        if self.services:
            with ThreadPoolExecutor(max_workers=len(self.services)) as pool:
                list(pool.map(lambda service: service.stop(), self.services.values()))
        try:
            self._drop_databases()
        finally:
            self._forget_locks()

    def _forget_locks(self) -> None:
        client = redis.Redis.from_url(f"{REDIS_URL_BASE}/{LOCK_REDIS_DB}")
        try:
            keys = list(client.scan_iter(match=f"replicas{self.run_id}:*"))
            if keys:
                client.delete(*keys)
        except redis.RedisError:
            pass
        finally:
            client.close()

    def dump_logs(self, lines: int = 60) -> str:
        return "\n".join(f"----- {service.name} -----\n{service.tail(lines)}"
                         for service in self.services.values())
