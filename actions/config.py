"""Settings of the action server: one pydantic-settings object, read from the environment."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_BACKEND_TOKEN = "dev-backend-token"
DEV_HANDOFF_TOKEN = "dev-handoff-token"
DEV_ACTION_SERVER_TOKEN = "dev-action-server-token"
DEV_IDENTITY_ASSERTION_SECRET = "dev-identity-assertion-secret-not-for-production"
PLACEHOLDER = "CHANGE_ME"  # deploy/env/*.env placeholders: refused like the development defaults


class ActionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    app_env: str = Field(default="development", alias="APP_ENV")
    backend_url: str = Field(default="http://127.0.0.1:8000", alias="BACKEND_URL")
    backend_api_token: str = Field(default=DEV_BACKEND_TOKEN, alias="BACKEND_API_TOKEN")
    handoff_url: str = Field(default="http://127.0.0.1:8080", alias="HANDOFF_URL")
    handoff_api_token: str = Field(default=DEV_HANDOFF_TOKEN, alias="HANDOFF_API_TOKEN")
    # Rasa sends it on every action call (bot/endpoints*.yml); actions/server.py refuses calls without it.
    action_server_token: str = Field(default=DEV_ACTION_SERVER_TOKEN, alias="ACTION_SERVER_TOKEN")
    # Verifies the handoff service's identity assertions and signs the verified-customer slot
    # (actions/identity.py).
    identity_assertion_secret: str = Field(
        default=DEV_IDENTITY_ASSERTION_SECRET, alias="IDENTITY_ASSERTION_SECRET"
    )
    # A customer is waiting on every call: fail fast and offer a human instead of hanging.
    http_connect_timeout_seconds: float = Field(default=2.0, alias="ACTIONS_HTTP_CONNECT_TIMEOUT")
    http_read_timeout_seconds: float = Field(default=5.0, alias="ACTIONS_HTTP_READ_TIMEOUT")
    http_max_connections: int = Field(default=20, alias="ACTIONS_HTTP_MAX_CONNECTIONS")

    def check_production_secrets(self) -> None:
        """Outside development the default tokens are refused."""
        if self.app_env == "development":
            return
        tokens = (self.backend_api_token, self.handoff_api_token, self.action_server_token,
                  self.identity_assertion_secret)
        defaults = {
            DEV_BACKEND_TOKEN,
            DEV_HANDOFF_TOKEN,
            DEV_ACTION_SERVER_TOKEN,
            DEV_IDENTITY_ASSERTION_SECRET,
        }
        if defaults & set(tokens) or any(PLACEHOLDER in t for t in tokens):
            raise RuntimeError(
                "BACKEND_API_TOKEN, HANDOFF_API_TOKEN, ACTION_SERVER_TOKEN and IDENTITY_ASSERTION_SECRET "
                "must be set when APP_ENV is not 'development'"
            )


@lru_cache(maxsize=1)
def get_settings() -> ActionSettings:
    settings = ActionSettings()
    settings.check_production_secrets()
    return settings
