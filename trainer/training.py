"""`python -m trainer train`: train the model the current data maps to, the fast way when possible.

The model file name comes from `scripts/train.sh --path` (a hash of config, domain, data and the
spaCy pipeline), so `make train`, `make test-nlu` and `make run` find a model trained here.

Modes
- full: `rasa train` (Rasa still reuses cached components whose inputs did not change, e.g. the
  dialogue policies when only NLU examples changed).
- finetune: `rasa train --finetune PREVIOUS --epoch-fraction F`: continue training the previous
  model for a fraction of the epochs. Rasa only allows it when the labels did not change (no new
  intent, action, slot...) and the config is the same apart from epochs.
- auto: finetune when the manifest of the previous model says that is allowed, else full; a
  refused finetune falls back to full.
The default is auto: with DIET at 50 epochs, finetuning after new examples kept the held-out quality
(0.970, as the model it started from; a full retraining 0.975) in 172 s for teach + train + test instead
of 287 s (bench/results/training.md). `make retrain MODE=full` trains from scratch.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.errors import TrainerError
from trainer.nludata import TRAINING_DIR, load_examples
from trainer.yamltext import parse

DEFAULT_EPOCH_FRACTION = 0.5
MANIFEST_SUFFIX = ".trainer.json"


@dataclass
class TrainResult:
    model: Path
    mode: str  # "up-to-date", "full", "finetune"
    seconds: float
    base_model: Path | None = None


def model_path(repo_root: Path) -> Path:
    completed = subprocess.run(
        ["bash", str(repo_root / "scripts" / "train.sh"), "--path"],
        cwd=repo_root, capture_output=True, text=True, check=True,
    )
    return repo_root / completed.stdout.strip()


def labels_signature(repo_root: Path) -> dict[str, str]:
    """What Rasa's finetuning validator compares, approximately: config without epochs, the
    domain's names (not response texts), and the set of intents with examples."""
    config = parse((repo_root / "config.yml").read_text(), origin="config.yml") or {}

    def without_epochs(node: object) -> object:
        if isinstance(node, dict):
            return {k: without_epochs(v) for k, v in node.items() if k != "epochs"}
        if isinstance(node, list):
            return [without_epochs(v) for v in node]
        return node

    domain = parse((repo_root / "domain.yml").read_text(), origin="domain.yml") or {}
    names = {
        key: sorted(str(next(iter(i)) if isinstance(i, dict) else i) for i in (domain.get(key) or []))
        for key in ("intents", "entities", "actions")
    }
    names["slots"] = sorted(domain.get("slots") or {})
    names["forms"] = sorted(domain.get("forms") or {})
    names["responses"] = sorted(domain.get("responses") or {})
    names["nlu_intents"] = sorted({e.intent for e in load_examples(repo_root / TRAINING_DIR)})
    return {"config": _digest(without_epochs(config)), "labels": _digest(names)}


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def _manifest(model: Path) -> dict[str, Any]:
    path = model.with_name(model.name.removesuffix(".tar.gz") + MANIFEST_SUFFIX)
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
        return manifest
    except (OSError, ValueError):
        return {}


def previous_model(repo_root: Path) -> Path | None:
    current = repo_root / "models" / "current.tar.gz"
    if current.exists():
        return current.resolve()
    models = sorted((repo_root / "models").glob("billing-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def can_finetune(repo_root: Path, base: Path | None) -> tuple[bool, str]:
    if base is None or not base.exists():
        return False, "no previous model"
    manifest = _manifest(base)
    if not manifest:  # trained by `make train`: let Rasa's own finetuning validator decide
        return True, f"trying to finetune {base.name} (Rasa checks that only examples changed)"
    signature = labels_signature(repo_root)
    if manifest.get("config") != signature["config"]:
        return False, "config.yml changed"
    if manifest.get("labels") != signature["labels"]:
        return False, "intents, actions, slots or responses changed (finetuning cannot add labels)"
    return True, f"only examples changed since {base.name}"


def rasa_env(**extra: str) -> dict[str, str]:
    """The environment a Rasa subprocess runs in: this one, quiet, no telemetry, and oneDNN off unless the
    caller set it (scripts/env.sh: faster DIET training, the same model)."""
    return {"TF_ENABLE_ONEDNN_OPTS": "0", **os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false", **extra}


def _rasa(repo_root: Path, args: list[str]) -> int:
    env = rasa_env()
    # Rasa's own progress bars (one per component and epoch) go straight to the terminal.
    return subprocess.run(
        [str(repo_root / ".venv-bot" / "bin" / "rasa"), "train", *args], cwd=repo_root, env=env
    ).returncode


def train(
    *,
    repo_root: Path,
    mode: str = "full",
    epoch_fraction: float | None = None,
    config: Path | None = None,
    base_model: Path | None = None,
    log: Callable[[str], object] = print,
) -> TrainResult:
    """Train into the content-named model file; `config` overrides config.yml (tests use fewer epochs)."""
    repo_root = repo_root.resolve()
    target = model_path(repo_root)
    started = time.monotonic()
    current = repo_root / "models" / "current.tar.gz"
    if target.exists():
        log(f"[trainer] model up to date: {target.relative_to(repo_root)}")
        _point_current(current, target)
        return TrainResult(target, "up-to-date", 0.0)
    base = base_model or previous_model(repo_root)
    chosen = mode
    if mode == "auto":
        allowed, why = can_finetune(repo_root, base)
        chosen = "finetune" if allowed else "full"
        log(f"[trainer] {chosen} training: {why}")
    fraction = epoch_fraction or DEFAULT_EPOCH_FRACTION
    common = [
        "--config", str(config or repo_root / "config.yml"), "--domain", "domain.yml", "--data", "bot/data",
        "--out", "models", "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    ]
    target.parent.mkdir(parents=True, exist_ok=True)
    code = 1
    if chosen == "finetune":
        if base is None:
            raise TrainerError("nothing to finetune: no previous model in models/")
        log(f"[trainer] finetuning {base.name} with {fraction:.0%} of the configured epochs -> {target.name}")
        code = _rasa(repo_root, [*common, "--finetune", str(base), "--epoch-fraction", str(fraction)])
        if code != 0 and mode == "auto":
            log("[trainer] Rasa refused to finetune; training from scratch instead")
            chosen = "full"
    if chosen == "full":
        log(f"[trainer] training {target.name} from scratch (Rasa reuses cached components)")
        code = _rasa(repo_root, common)
    if code != 0 or not target.exists():
        raise TrainerError(f"rasa train failed (exit {code}); its output above says why")
    seconds = time.monotonic() - started
    manifest = {
        **labels_signature(repo_root),
        "mode": chosen,
        "base_model": base.name if chosen == "finetune" and base else None,
        "epoch_fraction": fraction if chosen == "finetune" else None,
        "seconds": round(seconds, 1),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    target.with_name(target.name.removesuffix(".tar.gz") + MANIFEST_SUFFIX).write_text(
        json.dumps(manifest, indent=2)
    )
    _point_current(current, target)
    log(f"[trainer] {chosen} training took {seconds:.0f}s -> {target.relative_to(repo_root)}")
    return TrainResult(target, chosen, seconds, base if chosen == "finetune" else None)


def _point_current(current: Path, target: Path) -> None:
    temporary = current.with_name(".current.tar.gz.tmp")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target.name)
    temporary.replace(current)
