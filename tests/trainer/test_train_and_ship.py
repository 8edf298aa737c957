"""Slow: the whole loop on a temporary copy of the bot files, with few epochs and two trainings. A
scaffolded intent validates, trains, passes its stub test story; taught examples then finetune that
model; the finetuned model is shipped to a running Rasa without restarting it, and rolled back.
(When finetuning is allowed is tested without training in test_training.py.)"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.stack import Service, free_port
from tests.trainer.repo_copy import REPO_ROOT, copy_repo, keep_few_examples
from tests.trainer.test_scaffold import ANSWER, EXAMPLES, NAME
from trainer.check import check_data
from trainer.scaffold import new_intent
from trainer.ship import read_history, rollback, ship
from trainer.teach import add_examples
from trainer.training import train

pytestmark = pytest.mark.slow
RASA = REPO_ROOT / ".venv-bot" / "bin" / "rasa"
TOKEN = "trainer-test-token"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = copy_repo(tmp_path / "repo")
    (repo / "build").mkdir()
    (repo / "build" / "spacy").symlink_to(REPO_ROOT / "build" / "spacy")
    (repo / "build" / "minilm").symlink_to(REPO_ROOT / "build" / "minilm")  # config.yml's sentence encoder
    (repo / ".venv-bot").symlink_to(REPO_ROOT / ".venv-bot")
    # Few epochs and few examples: this tests the loop, not the model's quality (bench/trainer_loop.py
    # measures that).
    keep_few_examples(repo, per_intent=8)
    config = (repo / "config.yml").read_text()
    (repo / "config.yml").write_text(re.sub(r"epochs: \d+", "epochs: 3", config))
    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path / "rasa-cache"))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    return repo


def rasa(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(RASA), *args], cwd=repo, capture_output=True, text=True,
                          env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"})


def test_new_intent_trains_validates_ships_and_rolls_back(repo: Path, tmp_path: Path) -> None:
    # The Rasa server the models are shipped to starts first, without a model: its start (most of a
    # minute) overlaps the trainings instead of following them.
    (repo / "models").mkdir()
    port = free_port()
    server = Service(
        "rasa",
        [str(RASA), "run", "--enable-api", "--auth-token", TOKEN, "--interface", "127.0.0.1",
         "--port", str(port), "--model", str(repo / "models")],
        f"http://127.0.0.1:{port}/",
        port,
    )
    server.start({**os.environ, "RASA_TELEMETRY_ENABLED": "false"}, tmp_path)
    try:
        trained = train_validate_and_finetune(repo, tmp_path)
        server.wait_healthy(180)
        ship_and_roll_back(repo, f"http://127.0.0.1:{port}", *trained)
        assert server.process.poll() is None, "same process: no restart"
    finally:
        server.stop()


def train_validate_and_finetune(repo: Path, tmp_path: Path) -> tuple[Path, Path]:
    new_intent(repo_root=repo, name=NAME, examples=EXAMPLES)
    domain = repo / "domain.yml"
    domain.write_text(re.sub(r'"TODO: [^"]*"', f'"{ANSWER}"', domain.read_text()))  # the trainer's answer
    validated = rasa(repo, "data", "validate", "--config", "config.yml", "--domain", "domain.yml",
                     "--data", "bot/data", "--fail-on-warnings")
    assert validated.returncode == 0, validated.stdout[-3000:]
    report = check_data(repo_root=repo)
    assert report.ok, report.render()

    with_intent = train(repo_root=repo, mode="auto")
    assert with_intent.mode == "full"
    # the stub story is tested while the finetuning runs (two processes, two cores)
    stories = subprocess.Popen(
        [str(RASA), "test", "core", "--model", str(with_intent.model), "--stories",
         "tests/stories/test_taught_intents.yml", "--out", str(tmp_path / "stories"),
         "--fail-on-prediction-errors"],
        cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
    )
    try:
        add_examples(repo_root=repo, intent=NAME, examples=["put a different card on my account"])
        finetuned = train(repo_root=repo, mode="auto")
    finally:
        output, _ = stories.communicate(timeout=600)
    assert stories.returncode == 0, output[-6000:]
    assert finetuned.mode == "finetune" and finetuned.base_model == with_intent.model
    return with_intent.model, finetuned.model


def ship_and_roll_back(repo: Path, url: str, with_intent: Path, finetuned: Path) -> None:
    def loaded() -> str:
        status = httpx.get(f"{url}/status", params={"token": TOKEN}, timeout=30).json()
        return Path(status["model_file"]).name

    ship(repo_root=repo, model=str(with_intent), rasa_url=url, token=TOKEN)
    assert loaded() == with_intent.name
    ship(repo_root=repo, model=None, rasa_url=url, token=TOKEN)  # the model the data maps to
    assert loaded() == finetuned.name
    domain = httpx.get(f"{url}/domain", params={"token": TOKEN}, headers={"Accept": "application/json"},
                       timeout=30).json()
    assert NAME in {next(iter(i)) if isinstance(i, dict) else i for i in domain["intents"]}
    parsed = httpx.post(
        f"{url}/model/parse", params={"token": TOKEN}, json={"text": "change my card"}, timeout=30
    )
    assert parsed.status_code == 200 and parsed.json()["intent"]["name"]
    rolled = rollback(repo_root=repo, rasa_url=url, token=TOKEN)
    assert Path(rolled.model).name == with_intent.name == loaded()
    assert (repo / "models" / "current.tar.gz").resolve() == with_intent.resolve()
    assert [(Path(e.model).name, e.action) for e in read_history(repo)] == [
        (with_intent.name, "ship"), (finetuned.name, "ship"), (with_intent.name, "rollback"),
    ]
