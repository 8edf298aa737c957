"""Ship a model to the running Rasa server without downtime, and roll back.

Rasa's HTTP API swaps the model in place: `PUT /model?token=...` with `{"model_file": path}` loads
the new model while the server keeps its port open; `GET /status` then names the loaded file.
Every ship and rollback is appended to `models/history.json`, and `models/current.tar.gz` points at
the shipped model so a restart (`make run`) serves the same one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from trainer.errors import TrainerError
from trainer.training import _point_current, model_path

HISTORY = Path("models/history.json")
LOAD_TIMEOUT_SECONDS = 300.0


@dataclass
class HistoryEntry:
    model: str  # relative to the repository root
    at: str
    action: str  # "ship" or "rollback"
    rolled_back: bool = False


def read_history(repo_root: Path) -> list[HistoryEntry]:
    path = repo_root / HISTORY
    if not path.exists():
        return []
    try:
        return [HistoryEntry(**entry) for entry in json.loads(path.read_text())["shipped"]]
    except (ValueError, KeyError, TypeError) as error:
        raise TrainerError(f"{path} is damaged ({error}); fix or delete it") from error


def _write_history(repo_root: Path, entries: list[HistoryEntry]) -> None:
    path = repo_root / HISTORY
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(".history.json.tmp")
    temporary.write_text(json.dumps({"shipped": [asdict(e) for e in entries]}, indent=2) + "\n")
    temporary.replace(path)


def load_into_rasa(*, rasa_url: str, token: str, model: Path) -> str:
    """PUT /model, then confirm with GET /status; returns the model file Rasa reports."""
    params = {"token": token}
    try:
        with httpx.Client(
            base_url=rasa_url, timeout=httpx.Timeout(LOAD_TIMEOUT_SECONDS, connect=5)
        ) as client:
            response = client.put("/model", params=params, json={"model_file": str(model)})
            if response.status_code >= 400:
                raise TrainerError(
                    f"Rasa refused the model ({response.status_code}): {response.text[:500]}"
                )
            status = client.get("/status", params=params)
            status.raise_for_status()
            loaded: str = status.json().get("model_file", "")
    except httpx.HTTPError as error:
        raise TrainerError(
            f"cannot reach Rasa at {rasa_url} ({error}); is it running with --enable-api?"
        ) from error
    if Path(loaded).name != model.name:
        raise TrainerError(f"Rasa reports {loaded!r} after loading {model.name}")
    return loaded


def _record(repo_root: Path, model: Path, action: str, entries: list[HistoryEntry]) -> HistoryEntry:
    entry = HistoryEntry(
        model=str(model.relative_to(repo_root)) if model.is_relative_to(repo_root) else str(model),
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        action=action,
    )
    _write_history(repo_root, [*entries, entry])
    if model.parent == repo_root / "models":
        _point_current(repo_root / "models" / "current.tar.gz", model)
    return entry


def ship(*, repo_root: Path, model: str | Path | None, rasa_url: str, token: str) -> HistoryEntry:
    repo_root = repo_root.resolve()
    path = Path(model) if model else model_path(repo_root)
    path = (path if path.is_absolute() else repo_root / path).resolve()
    if not path.is_file():
        raise TrainerError(f"no model file {path}; train it first (`make retrain`)")
    load_into_rasa(rasa_url=rasa_url, token=token, model=path)
    return _record(repo_root, path, "ship", read_history(repo_root))


def rollback(*, repo_root: Path, rasa_url: str, token: str) -> HistoryEntry:
    """Load the model shipped before the current one; each rollback goes one step further back."""
    repo_root = repo_root.resolve()
    entries = read_history(repo_root)
    live = [i for i, e in enumerate(entries) if not e.rolled_back]
    if not live:
        raise TrainerError(f"nothing shipped yet ({HISTORY} is empty)")
    current = live[-1]
    earlier = [i for i in live[:-1] if entries[i].model != entries[current].model]
    if not earlier:
        raise TrainerError(f"no earlier model in {HISTORY} to roll back to")
    target = repo_root / entries[earlier[-1]].model
    if not target.is_file():
        raise TrainerError(f"the previous model {target} no longer exists")
    load_into_rasa(rasa_url=rasa_url, token=token, model=target)
    # The abandoned model, and every entry after the target, are no longer candidates.
    for index in live:
        if index > earlier[-1]:
            entries[index].rolled_back = True
    return _record(repo_root, target, "rollback", entries)
