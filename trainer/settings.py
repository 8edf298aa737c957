"""Settings of the trainer tools (environment variables from docs/contracts.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class TrainerSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    tracker_database_url: str = "sqlite:///var/rasa_tracker.db"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_auth_token: str = "dev-rasa-token"
    # Below this intent confidence a message is listed for review (the pipeline's own fallback is 0.5).
    review_confidence_threshold: float = 0.6


def resolve_database_url(database_url: str, *, repo_root: Path = REPO_ROOT) -> str:
    """SQLAlchemy 2 URL for a tracker store URL: relative SQLite paths are relative to the repository
    root (the contract), and plain `postgresql://` uses the psycopg 3 driver installed in .venv/."""
    if database_url.startswith("sqlite:///") and not database_url.startswith("sqlite:////"):
        relative = database_url.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            return f"sqlite:///{(repo_root / relative).resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url.removeprefix(prefix)
    return database_url
