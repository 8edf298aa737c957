"""Settings of the billing backend: one pydantic-settings object, env names as in docs/contracts.md."""
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_API_TOKEN = "dev-backend-token"
PLACEHOLDER = "CHANGE_ME"  # deploy/env/*.env placeholders: refused like the development default


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    app_env: str = Field(default="development", validation_alias="APP_ENV")
    backend_database_url: str = Field(default="sqlite:///var/backend.db", validation_alias="BACKEND_DATABASE_URL")
    backend_api_token: SecretStr = Field(default=SecretStr(DEFAULT_API_TOKEN), validation_alias="BACKEND_API_TOKEN")

    @model_validator(mode="after")
    def refuse_default_secret_outside_development(self) -> "Settings":
        token = self.backend_api_token.get_secret_value()
        if self.app_env != "development" and (token == DEFAULT_API_TOKEN or PLACEHOLDER in token):
            raise ValueError(
                f"APP_ENV is {self.app_env!r} but BACKEND_API_TOKEN is the development default "
                "or a placeholder; "
                "set BACKEND_API_TOKEN to a real secret before starting the backend"
            )
        if self.app_env != "development" and PLACEHOLDER in self.backend_database_url:
            raise ValueError("BACKEND_DATABASE_URL still has a placeholder password (CHANGE_ME)")
        if not self.backend_api_token.get_secret_value():
            raise ValueError("BACKEND_API_TOKEN must not be empty")
        return self

    @property
    def database_url(self) -> str:
        return normalize_database_url(self.backend_database_url)


def normalize_database_url(url: str) -> str:
    """Resolve relative SQLite paths against the repo root and pick the psycopg 3 driver for PostgreSQL."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url.removeprefix("sqlite:///")
        if relative and relative != ":memory:" and not relative.startswith(":"):
            return f"sqlite:///{(REPO_ROOT / relative).resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
