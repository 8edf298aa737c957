"""The trainer page's jobs in process: one retrain/ship/rollback at a time, its log tail, the quality gates of
`make test-nlu` (scripts/nlu_gate.py) deciding whether the model may be shipped. The retrain command is a
tiny fake (tests/trainer/fake_retrain.py: progress, a model file, an evaluation); the real training and
shipping are covered by tests/trainer/test_train_and_ship.py. Rasa's model API is replaced by a recorder."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from handoff.config import Settings
from handoff.training import jobs
from handoff.training.service import TrainingRefused
from tests.handoff.conftest import REPO_ROOT

FAKE_RETRAIN = REPO_ROOT / "tests" / "trainer" / "fake_retrain.py"


class Audit:
    def __init__(self) -> None:
        self.entries: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, action: str, details: dict[str, Any]) -> None:
        self.entries.append((action, details))


@pytest.fixture
def loaded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Models 'loaded into Rasa' (trainer.ship's PUT /model), in order."""
    names: list[str] = []

    def load(*, rasa_url: str, token: str, model: Path) -> str:
        names.append(model.name)
        return str(model)

    monkeypatch.setattr("trainer.ship.load_into_rasa", load)
    return names


def settings_for(repo: Path, verdict: str, seconds: float = 0.3) -> Settings:
    return Settings(app_env="development", training_repo_root=repo, rasa_url="http://127.0.0.1:9",
                    training_retrain_command=[sys.executable, str(FAKE_RETRAIN), verdict, str(seconds)])


async def finished(runner: jobs.JobRunner) -> jobs.Job:
    for _ in range(200):
        if runner.current is not None and runner.current.status != "running":
            return runner.current
        await asyncio.sleep(0.05)
    raise AssertionError("the job did not finish in 10 s")


async def test_retrain_passes_the_gates_then_ships_and_rolls_back(tmp_path: Path, loaded: list[str]) -> None:
    runner, audit = jobs.JobRunner(), Audit()
    passing = settings_for(tmp_path, "pass")
    job = runner.start(kind=jobs.RETRAIN, actor="trainer:tess", settings=passing, audit=audit)
    assert job.status == "running"
    done = await finished(runner)
    assert done.status == "succeeded", done.log
    assert done.model == "billing-fake-1.tar.gz"
    assert "passed every quality gate" in done.message
    log = list(done.log)
    assert log[0] == f"$ {sys.executable} {FAKE_RETRAIN} pass 0.3"
    assert "Epochs: 60%|###  | 3/5" in log  # a progress bar redrawn with \r: one line per step
    assert done.quality is not None and done.quality["passed"] and done.quality["failures"] == []
    gates = done.quality["gates"]
    assert any("intent macro-F1 (classifier only) 0.970: CI floor >= " in line for line in gates)
    assert "NLU on the held-out set: billing-fake-1.tar.gz" in done.quality["summary"]
    assert audit.entries == [("training_retrain_succeeded", {
        "job_id": done.id, "model": "billing-fake-1.tar.gz", "message": done.message})]

    assert runner.ship_blocker(tmp_path) is None
    runner.start(kind=jobs.SHIP, actor="trainer:tess", settings=passing, audit=audit)
    shipped = await finished(runner)
    assert shipped.status == "succeeded", shipped.log
    assert shipped.message == "Rasa now serves models/billing-fake-1.tar.gz."
    assert loaded == ["billing-fake-1.tar.gz"]
    assert (tmp_path / "models" / "current.tar.gz").resolve().name == "billing-fake-1.tar.gz"

    runner.start(kind=jobs.RETRAIN, actor="trainer:tess", settings=passing, audit=audit)
    assert (await finished(runner)).model == "billing-fake-2.tar.gz"
    runner.start(kind=jobs.SHIP, actor="supervisor:sam", settings=passing, audit=audit)
    await finished(runner)
    runner.start(kind=jobs.ROLLBACK, actor="supervisor:sam", settings=passing, audit=audit)
    rolled = await finished(runner)
    assert rolled.status == "succeeded" and rolled.message == "Rolled back: Rasa now serves " \
        "models/billing-fake-1.tar.gz."
    assert loaded == ["billing-fake-1.tar.gz", "billing-fake-2.tar.gz", "billing-fake-1.tar.gz"]
    assert [e["model"] for e in jobs.shipped(tmp_path)] == [
        "models/billing-fake-1.tar.gz", "models/billing-fake-2.tar.gz", "models/billing-fake-1.tar.gz"]
    assert [action for action, _ in audit.entries] == [
        "training_retrain_succeeded", "training_ship_succeeded", "training_retrain_succeeded",
        "training_ship_succeeded", "training_rollback_succeeded"]


async def test_a_failed_gate_blocks_shipping(tmp_path: Path, loaded: list[str]) -> None:
    runner, audit = jobs.JobRunner(), Audit()
    failing = settings_for(tmp_path, "fail")
    runner.start(kind=jobs.RETRAIN, actor="trainer:tess", settings=failing, audit=audit)
    done = await finished(runner)
    assert done.status == "failed"
    assert done.message.startswith("Quality gate failed: dev: intent macro-F1 (classifier only) 0.410, floor")
    assert done.quality is not None and not done.quality["passed"]
    assert "QUALITY GATE FAILED: dev: intent macro-F1 (classifier only) 0.410, floor >= 0.86" in done.log
    with pytest.raises(TrainingRefused) as refused:
        runner.start(kind=jobs.SHIP, actor="trainer:tess", settings=failing, audit=audit)
    assert refused.value.status_code == 409 and refused.value.code == "quality_gate_failed"
    assert "The last retrain failed: Quality gate failed" in refused.value.message
    # Even after a restart of the service (no job in memory) the report on disk blocks it.
    fresh = jobs.JobRunner()
    blocker = fresh.ship_blocker(tmp_path)
    assert blocker is not None and "billing-fake-1.tar.gz failed the quality gates" in blocker
    assert loaded == []
    assert not (tmp_path / "models" / "history.json").exists()


async def test_one_job_at_a_time_and_nothing_to_ship_or_roll_back(tmp_path: Path, loaded: list[str]) -> None:
    runner, audit = jobs.JobRunner(), Audit()
    assert "No quality report yet" in (runner.ship_blocker(tmp_path) or "")
    slow = settings_for(tmp_path, "pass", seconds=1.5)
    runner.start(kind=jobs.RETRAIN, actor="trainer:tess", settings=slow, audit=audit)
    for kind in jobs.KINDS:
        with pytest.raises(TrainingRefused) as busy:
            runner.start(kind=kind, actor="supervisor:sam", settings=slow, audit=audit)
        assert busy.value.code == "job_running"
        assert busy.value.message == ("A retrain started by trainer:tess is still running; wait for it to "
                                      "finish, then try again.")
    assert (await finished(runner)).status == "succeeded"

    runner.start(kind=jobs.ROLLBACK, actor="trainer:tess", settings=slow, audit=audit)
    nothing = await finished(runner)
    assert nothing.status == "failed" and "nothing shipped yet" in nothing.message
    assert loaded == []


async def test_a_command_that_cannot_start_fails_the_job_politely(tmp_path: Path) -> None:
    runner, audit = jobs.JobRunner(), Audit()
    broken = Settings(app_env="development", training_repo_root=tmp_path,
                      training_retrain_command=[str(tmp_path / "no-such-command")])
    runner.start(kind=jobs.RETRAIN, actor="trainer:tess", settings=broken, audit=audit)
    done = await finished(runner)
    assert done.status == "failed" and "No such file or directory" in done.message
    assert not runner.busy
    (tmp_path / "results" / "nlu").mkdir(parents=True)
    (tmp_path / "results" / "nlu" / "eval.json").write_text(json.dumps({"sets": "garbage"}))
    with pytest.raises(TrainingRefused) as unreadable:
        jobs.read_quality(tmp_path)
    assert unreadable.value.code == "quality_report_unreadable"


def test_the_quality_gates_load_once_when_first_read_from_several_threads(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # CI (stop 30) saw a page's worker thread find the job's half-loaded gate module: no 'gate_lines' yet.
    def first_read(_: int) -> bool:
        barrier.wait()
        return callable(jobs._gate_module().gate_lines)

    for _ in range(20):
        monkeypatch.delitem(sys.modules, "_handoff_nlu_gate", raising=False)
        barrier = threading.Barrier(8)
        with ThreadPoolExecutor(max_workers=8) as pool:
            assert all(pool.map(first_read, range(8)))
