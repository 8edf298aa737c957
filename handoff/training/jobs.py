"""Retrain, ship and roll back from the trainer's page: one background job at a time, its state and log tail.

- retrain runs settings.training_retrain_command (one argv, never a shell string, nothing from the request)
  in the training repository: `make retrain test-nlu` trains the model of the current data and evaluates it.
  Its quality report is then read from results/nlu (eval.json, summary.md) and judged by the same floors as
  `make test-nlu` (scripts/nlu_gate.py's GATES): a model below a floor is never shipped from the page.
- ship loads the model that passed the gates into the running Rasa (trainer.ship.ship); rollback loads the
  previously shipped one (trainer.ship.rollback). Both run in a thread, their outcome in the log.
The job lives in this process (the page polls it); every start, refusal and end is audited by the route.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import os
import re
import sys
import threading
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from handoff.config import REPO_ROOT, Settings
from handoff.training.service import TrainingRefused
from trainer import ship as shipping
from trainer.errors import TrainerError

RETRAIN, SHIP, ROLLBACK = "retrain", "ship", "rollback"
KINDS = (RETRAIN, SHIP, ROLLBACK)
LOG_LINES = 300  # the tail kept and shown; Rasa's progress bars redraw one line many times
RESULTS = Path("results/nlu")
_LINE_BREAK = re.compile(r"[\r\n]+")
# Terminal colours and cursor moves in Rasa's and make's output.
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

logger = logging.getLogger(__name__)
Audit = Callable[[str, dict[str, Any]], Awaitable[None]]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Job:
    kind: str
    actor: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    status: str = "running"  # running, succeeded, failed
    started_at: str = field(default_factory=_now)
    finished_at: str | None = None
    message: str = ""
    model: str | None = None
    log: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_LINES))
    quality: dict[str, Any] | None = None

    def say(self, line: str) -> None:
        line = _ESCAPES.sub("", line).rstrip()
        if line.strip():
            self.log.append(line)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "actor": self.actor, "status": self.status,
                "started_at": self.started_at, "finished_at": self.finished_at, "message": self.message,
                "model": self.model, "log": list(self.log), "quality": self.quality}


_GATE_LOAD = threading.Lock()


def _gate_module() -> ModuleType:
    """scripts/nlu_gate.py of this checkout: the floors `make test-nlu` fails below, not a copy of them."""
    # The pages read quality in a worker thread while a job reads it on the loop: without the lock one
    # could find the other's half-executed module in sys.modules (CI, stop 30: no attribute 'gate_lines').
    with _GATE_LOAD:
        return _load_gate_module("_handoff_nlu_gate")


def _load_gate_module(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    path = REPO_ROOT / "scripts" / "nlu_gate.py"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TrainerError(f"cannot load the quality gates from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def read_quality(repo_root: Path) -> dict[str, Any] | None:
    """The latest evaluation's verdict: which model, each gate line, the failures, the report to read."""
    results = repo_root / RESULTS
    try:
        evaluation = json.loads((results / "eval.json").read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise TrainingRefused(503, "quality_report_unreadable",
                              f"cannot read {RESULTS / 'eval.json'}: {error}") from error
    try:
        lines, failures = _gate_module().gate_lines(evaluation)
    except (KeyError, TypeError, AttributeError) as error:
        raise TrainingRefused(503, "quality_report_unreadable",
                              f"{RESULTS / 'eval.json'} is not an evaluation report ({error!r})") from error
    model = str(evaluation.get("model") or "")
    summary = results / "summary.md"
    return {
        "model": model or None,
        "model_exists": bool(model) and (repo_root / "models" / model).is_file(),
        "evaluated_at": datetime.fromtimestamp((results / "eval.json").stat().st_mtime, UTC)
        .isoformat(timespec="seconds"),
        "passed": not failures,
        "gates": lines,
        "failures": failures,
        "summary": summary.read_text()[:20_000] if summary.is_file() else "",
    }


def shipped(repo_root: Path, last: int = 5) -> list[dict[str, Any]]:
    try:
        entries = shipping.read_history(repo_root.resolve())
    except TrainerError:
        return []
    return [{"model": e.model, "at": e.at, "action": e.action, "rolled_back": e.rolled_back}
            for e in entries[-last:]][::-1]


class JobRunner:
    """At most one job per process: a second start while one runs is refused (409 job_running)."""

    def __init__(self) -> None:
        self.current: Job | None = None
        self.last_retrain: Job | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        return self.current is not None and self.current.status == "running"

    def ship_blocker(self, repo_root: Path) -> str | None:
        """Why the page may not ship now (None: it may): the gates of `make test-nlu` decide."""
        if self.last_retrain is not None and self.last_retrain.status == "failed":
            return f"The last retrain failed: {self.last_retrain.message} Retrain before shipping."
        quality = read_quality(repo_root)
        if quality is None:
            return "No quality report yet: retrain first (it evaluates the model against the quality gates)."
        if not quality["passed"]:
            return ("The model " + str(quality["model"]) + " failed the quality gates: "
                    + "; ".join(quality["failures"]) + ". It cannot be shipped.")
        if not quality["model_exists"]:
            return f"The model {quality['model']} that passed the gates is no longer in models/: retrain."
        return None

    def start(self, *, kind: str, actor: str, settings: Settings, audit: Audit) -> Job:
        if self.busy:
            assert self.current is not None
            raise TrainingRefused(409, "job_running",
                                  f"A {self.current.kind} started by {self.current.actor} is still running; "
                                  "wait for it to finish, then try again.")
        repo_root = settings.training_repo_root
        if kind == SHIP:
            blocker = self.ship_blocker(repo_root)
            if blocker:
                raise TrainingRefused(409, "quality_gate_failed", blocker)
        job = Job(kind=kind, actor=actor)
        if kind == RETRAIN:
            self.last_retrain = job
        self.current = job
        self._task = asyncio.create_task(self._run(job, settings, audit))
        return job

    async def _run(self, job: Job, settings: Settings, audit: Audit) -> None:
        try:
            if job.kind == RETRAIN:
                await _retrain(job, settings)
            elif job.kind == SHIP:
                await _ship(job, settings)
            else:
                await _rollback(job, settings)
        except (TrainerError, TrainingRefused, OSError) as error:
            job.status, job.message = "failed", str(getattr(error, "message", error))
            job.say(f"[{job.kind}] failed: {job.message}")
        except Exception as error:  # never leave the page's only job "running" forever
            logger.warning("training job %s (%s) stopped: %r", job.id, job.kind, error)
            job.status, job.message = "failed", f"Stopped by an unexpected {type(error).__name__}."
            job.say(f"[{job.kind}] {job.message}")
        job.finished_at = _now()
        await audit(f"training_{job.kind}_{job.status}",
                    {"job_id": job.id, "model": job.model, "message": job.message[:500]})


async def run_command(job: Job, argv: list[str], *, cwd: Path) -> int:
    """Run one argv, its stdout and stderr into the job's log line by line (progress bars included)."""
    job.say("$ " + " ".join(argv))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = await asyncio.create_subprocess_exec(*argv, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)
    assert process.stdout is not None
    pending = ""
    while chunk := await process.stdout.read(4096):
        parts = _LINE_BREAK.split(pending + chunk.decode("utf-8", errors="replace"))
        pending = parts.pop()
        for part in parts:
            job.say(part)
    job.say(pending)
    return await process.wait()


async def _retrain(job: Job, settings: Settings) -> None:
    repo_root = settings.training_repo_root
    code = await run_command(job, list(settings.training_retrain_command), cwd=repo_root)
    job.quality = read_quality(repo_root)
    job.model = job.quality["model"] if job.quality else None
    if job.quality is None:
        job.status = "failed"
        job.message = f"The retrain ended (exit {code}) without a quality report in {RESULTS}."
    elif not job.quality["passed"]:
        job.status = "failed"
        job.message = ("Quality gate failed: " + "; ".join(job.quality["failures"])
                       + ". This model cannot be shipped.")
    elif code != 0:
        job.status = "failed"
        job.message = f"The retrain command failed (exit {code}); its log says why."
    else:
        job.status = "succeeded"
        job.message = f"{job.model} passed every quality gate: ready to ship."
    job.say(f"[retrain] {job.message}")


async def _ship(job: Job, settings: Settings) -> None:
    repo_root = settings.training_repo_root
    quality = read_quality(repo_root)
    assert quality is not None  # checked by JobRunner.start
    model = repo_root / "models" / str(quality["model"])
    job.say(f"[ship] loading {model.name} into Rasa at {settings.rasa_url} (it keeps serving meanwhile)")
    entry = await asyncio.to_thread(shipping.ship, repo_root=repo_root, model=model,
                                    rasa_url=settings.rasa_url, token=settings.rasa_auth_token)
    job.status, job.model = "succeeded", entry.model
    job.message = f"Rasa now serves {entry.model}."
    job.say(f"[ship] {job.message}")


async def _rollback(job: Job, settings: Settings) -> None:
    job.say(f"[rollback] loading the previously shipped model into Rasa at {settings.rasa_url}")
    entry = await asyncio.to_thread(shipping.rollback, repo_root=settings.training_repo_root,
                                    rasa_url=settings.rasa_url, token=settings.rasa_auth_token)
    job.status, job.model = "succeeded", entry.model
    job.message = f"Rolled back: Rasa now serves {entry.model}."
    job.say(f"[rollback] {job.message}")


runner = JobRunner()
