"""`python -m trainer check` on copies of the real data: passes as is, catches each problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.trainer.repo_copy import copy_repo
from trainer.check import check_data
from trainer.nludata import load_examples


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_repo(tmp_path)


def test_the_repository_data_passes(repo: Path) -> None:
    report = check_data(repo_root=repo)
    assert report.ok, report.render()
    assert report.intents["check_balance"][0] >= 20


def append(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = path.read_text() if path.exists() else 'version: "3.1"\nnlu:\n'
    path.write_text(existing + text)


def test_an_example_under_two_intents_is_an_error(repo: Path) -> None:
    balance = next(e.text for e in load_examples(repo / "bot/data") if e.intent == "check_balance")
    append(
        repo / "bot/data/nlu/extra.yml", f"- intent: how_to_pay\n  examples: |\n    - {balance.upper()}!\n"
    )
    errors = check_data(repo_root=repo).errors
    assert any("check_balance" in e and "how_to_pay" in e for e in errors), errors


def test_an_intent_without_held_out_examples_or_domain_entry_is_an_error(repo: Path) -> None:
    append(
        repo / "bot/data/nlu/extra.yml",
        "- intent: ask_refund\n  examples: |\n    - refund me\n    - i want a refund\n",
    )
    errors = check_data(repo_root=repo).errors
    assert any("'ask_refund' has examples but is not in domain.yml" in e for e in errors)
    assert any("'ask_refund' is not in the held-out test set" in e for e in errors)


def test_too_few_examples_and_held_out_leaks(repo: Path) -> None:
    held = next(e for e in load_examples(repo / "tests/nlu"))
    append(repo / "bot/data/nlu/extra.yml", f"- intent: {held.intent}\n  examples: |\n    - {held.text}\n")
    report = check_data(repo_root=repo, min_examples=1000)
    assert any("is also in the training data" in e for e in report.errors)
    assert any("need >= 1000" in e for e in report.errors)
