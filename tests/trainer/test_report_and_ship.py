"""The NLU summary compares with the previous model; ship/rollback bookkeeping and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.stack import free_port
from tests.trainer.repo_copy import REPO_ROOT
from trainer.errors import TrainerError
from trainer.ship import HistoryEntry, _write_history, rollback, ship


def intent_report(scores: dict[str, float]) -> dict:
    report = {
        intent: {"precision": f1, "recall": f1, "f1-score": f1, "support": 20,
                 "confused_with": {} if f1 == 1.0 else {"check_balance": 2}}
        for intent, f1 in scores.items()
    }
    report["macro avg"] = {"f1-score": sum(scores.values()) / len(scores)}
    report["accuracy"] = 0.9
    return report


def evaluation(*, dev_macro_f1: float = 0.97, frozen_rejected: float = 0.02) -> dict:
    """scripts/nlu_eval.py's JSON, with the numbers the gates read."""
    frozen = {
        "billing_accuracy": 0.96, "weakest_billing_intent": {"intent": "how_to_pay", "accuracy": 0.91},
        "out_of_scope_recall": 0.93, "in_scope_wrongly_rejected": frozen_rejected,
        "entities": {name: {"f1": 0.96} for name in ("MONEY", "DATE", "account_number", "invoice_number")},
    }
    dev = {"classifier_only": {"macro_f1": dev_macro_f1, "out_of_scope_recall": 0.9}}
    frozen_v2 = {
        "billing_accuracy": 0.96, "weakest_billing_intent": {"intent": "how_to_pay", "accuracy": 0.91},
        "out_of_scope_recall": 0.93, "in_scope_wrongly_rejected": 0.02, "action_intents_accuracy": 0.95,
        "entities": {name: {"f1": 0.96} for name in ("MONEY", "DATE", "account_number", "invoice_number")},
    }
    return {"model": "m", "sets": {"dev": dev, "frozen": frozen, "frozen-v2": frozen_v2}}


def run_gate(results: Path, model: str, scores: dict[str, float], errors: list | None = None,
             numbers: dict | None = None):
    results.mkdir(parents=True, exist_ok=True)
    (results / "intent_report.json").write_text(json.dumps(intent_report(scores)))
    (results / "intent_errors.json").write_text(json.dumps(errors or []))
    (results / "eval.json").write_text(json.dumps(numbers or evaluation()))
    return subprocess.run(
        [
            sys.executable, str(REPO_ROOT / "scripts" / "nlu_gate.py"), str(results), "--model",
            f"models/{model}.tar.gz",
        ],
        capture_output=True,
        text=True,
    )


def test_summary_shows_change_against_the_previous_model(tmp_path: Path) -> None:
    results = tmp_path / "nlu"
    first = run_gate(results, "billing-aaa", {"check_balance": 1.0, "how_to_pay": 0.98, "out_of_scope": 0.97})
    assert first.returncode == 0 and "no earlier model" in first.stdout
    errors = [{"text": "can i pay with a check", "intent": "how_to_pay",
               "intent_prediction": {"name": "check_balance", "confidence": 0.71}}]
    second = run_gate(
        results, "billing-bbb",
        {"check_balance": 1.0, "how_to_pay": 0.90, "out_of_scope": 0.97, "update_payment_method": 0.95},
        errors,
    )
    summary = (results / "summary.md").read_text()
    assert "previous model billing-aaa" in summary
    assert "| how_to_pay | 0.90 | 0.90 | 0.90 | -0.08 DOWN |" in summary
    assert "| update_payment_method | 0.95 | 0.95 | 0.95 | new |" in summary
    assert "| check_balance | 1.00 | 1.00 | 1.00 | = |" in summary
    assert "Intents that got worse (by more than one held-out example): how_to_pay." in summary
    assert "| can i pay with a check | how_to_pay | check_balance | 0.71 |" in summary
    assert second.returncode == 0
    # Testing the same model again still compares with the other model, not with itself.
    run_gate(results, "billing-bbb", {"check_balance": 1.0, "how_to_pay": 0.90, "out_of_scope": 0.97})
    assert "previous model billing-aaa" in (results / "summary.md").read_text()


def test_gate_fails_below_the_quality_bar(tmp_path: Path) -> None:
    failed = run_gate(tmp_path / "nlu", "billing-ccc", {"check_balance": 0.8, "out_of_scope": 0.7},
                      numbers=evaluation(dev_macro_f1=0.8))
    assert failed.returncode == 1
    assert "QUALITY GATE FAILED: dev: intent macro-F1 (classifier only) 0.800" in failed.stderr


def test_gate_fails_when_the_frozen_set_rejects_too_many_customers(tmp_path: Path) -> None:
    failed = run_gate(
        tmp_path / "nlu", "billing-ddd", {"check_balance": 1.0}, numbers=evaluation(frozen_rejected=0.5)
    )
    assert failed.returncode == 1
    assert "QUALITY GATE FAILED: frozen: in-scope messages wrongly rejected 0.500" in failed.stderr


def test_gate_fails_when_a_set_is_missing(tmp_path: Path) -> None:
    numbers = evaluation()
    del numbers["sets"]["frozen"]
    failed = run_gate(tmp_path / "nlu", "billing-eee", {"check_balance": 1.0}, numbers=numbers)
    assert failed.returncode == 1 and "frozen: billing intents accuracy missing" in failed.stderr


def test_ship_needs_an_existing_model_and_a_reachable_rasa(tmp_path: Path) -> None:
    with pytest.raises(TrainerError, match="no model file"):
        ship(repo_root=tmp_path, model="models/missing.tar.gz", rasa_url="http://127.0.0.1:1", token="t")
    model = tmp_path / "models" / "billing-abc.tar.gz"
    model.parent.mkdir()
    model.write_bytes(b"not really a model")
    with pytest.raises(TrainerError, match="cannot reach Rasa"):
        ship(repo_root=tmp_path, model=str(model), rasa_url=f"http://127.0.0.1:{free_port()}", token="t")
    assert not (tmp_path / "models" / "history.json").exists(), "nothing shipped, nothing recorded"


def test_rollback_needs_an_earlier_model(tmp_path: Path) -> None:
    with pytest.raises(TrainerError, match="nothing shipped"):
        rollback(repo_root=tmp_path, rasa_url="http://127.0.0.1:1", token="t")
    _write_history(tmp_path, [HistoryEntry("models/billing-a.tar.gz", "2026-01-01T00:00:00+00:00", "ship")])
    with pytest.raises(TrainerError, match="no earlier model"):
        rollback(repo_root=tmp_path, rasa_url="http://127.0.0.1:1", token="t")


def test_cli_errors_are_one_line_not_a_traceback(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "trainer", "--repo", str(tmp_path), "rollback"],
        cwd=REPO_ROOT, capture_output=True, text=True,
    )
    assert completed.returncode == 2
    assert completed.stderr.startswith("error: nothing shipped") and "Traceback" not in completed.stderr
