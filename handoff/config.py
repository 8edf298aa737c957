"""The handoff service's settings: one pydantic-settings object, env vars per docs/contracts.md."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent

DEV_DEFAULT_SECRETS = {
    "api_token": "dev-handoff-token",
    "customer_jwt_secret": "dev-customer-jwt-secret",
    "rasa_auth_token": "dev-rasa-token",
    "backend_api_token": "dev-backend-token",
    "session_secret": "dev-handoff-session-secret",
    "rasa_channel_token": "dev-rasa-channel-token",
    "identity_assertion_secret": "dev-identity-assertion-secret-not-for-production",
    "email_inbound_secret": "dev-email-inbound-secret",
    "email_reply_secret": "dev-email-reply-secret",
}
PLACEHOLDER = "CHANGE_ME"  # deploy/env/*.env placeholders: refused like the development defaults


def resolve_database_url(url: str) -> str:
    """Relative SQLite paths are relative to the repository root (contract)."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        relative = url[len(prefix):]
        return prefix + str(REPO_ROOT / relative)
    return url


def parse_origins(value: str, name: str) -> tuple[str, ...]:
    """"https://www.example.com, http://localhost:3000" -> normalised origins; anything else is refused."""
    from handoff.specialists.origins import normalise_origin

    origins = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        origin = normalise_origin(item)
        if origin is None:
            raise ValueError(f"{name}: {item!r} is not an origin like https://www.example.com")
        origins.append(origin)
    return tuple(origins)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    app_env: str = Field(default="development", alias="APP_ENV")
    database_url: str = Field(default="sqlite:///var/handoff.db", alias="HANDOFF_DATABASE_URL")
    api_token: str = Field(default=DEV_DEFAULT_SECRETS["api_token"], alias="HANDOFF_API_TOKEN")
    customer_jwt_secret: str = Field(
        default=DEV_DEFAULT_SECRETS["customer_jwt_secret"], alias="CUSTOMER_JWT_SECRET"
    )
    rasa_url: str = Field(default="http://127.0.0.1:5005", alias="RASA_URL")
    rasa_auth_token: str = Field(default=DEV_DEFAULT_SECRETS["rasa_auth_token"], alias="RASA_AUTH_TOKEN")
    # Sent to Rasa's handoff channel (bot/channels/handoff_channel.py), the only way into a chat turn.
    rasa_channel_token: str = Field(default=DEV_DEFAULT_SECRETS["rasa_channel_token"],
                                    alias="RASA_CHANNEL_TOKEN")
    # Signs the identity assertion of every bot turn, which the action server verifies (docs/contracts.md).
    identity_assertion_secret: str = Field(
        default=DEV_DEFAULT_SECRETS["identity_assertion_secret"], alias="IDENTITY_ASSERTION_SECRET"
    )
    identity_assertion_seconds: int = Field(default=120, ge=5, le=3600, alias="IDENTITY_ASSERTION_SECONDS")
    rasa_timeout_seconds: float = Field(default=30.0, alias="HANDOFF_RASA_TIMEOUT_SECONDS")
    # A worker running a customer message's bot turn renews its claim on the message every fifth of this;
    # a claim not renewed for this long (its replica died) lapses and another tab or replica runs the turn.
    turn_claim_seconds: float = Field(default=15.0, gt=0, alias="HANDOFF_TURN_CLAIM_SECONDS")
    backend_url: str = Field(default="http://127.0.0.1:8000", alias="BACKEND_URL")
    backend_api_token: str = Field(default=DEV_DEFAULT_SECRETS["backend_api_token"],
                                   alias="BACKEND_API_TOKEN")
    backend_timeout_seconds: float = Field(default=10.0, alias="HANDOFF_BACKEND_TIMEOUT_SECONDS")
    session_secret: str = Field(default=DEV_DEFAULT_SECRETS["session_secret"], alias="HANDOFF_SESSION_SECRET")
    # Staff sessions end after this long however busy (absolute) and after this long without a request (idle).
    session_hours: float = Field(default=12, gt=0, alias="HANDOFF_SESSION_HOURS")
    session_idle_minutes: float = Field(default=30, gt=0, alias="HANDOFF_SESSION_IDLE_MINUTES")
    # Browser origins (scheme://host[:port], comma-separated) allowed besides the service's own origin:
    # the company website embedding the widget (/ws/chat), and a console served under another name.
    widget_origins: str = Field(default="", alias="HANDOFF_WIDGET_ORIGINS")
    console_origins: str = Field(default="", alias="HANDOFF_CONSOLE_ORIGINS")
    # "24/7" or e.g. "mon-fri 08:00-18:00; sat 09:00-13:00". Empty = default for APP_ENV.
    business_hours: str = Field(default="", alias="HANDOFF_BUSINESS_HOURS")
    timezone: str = Field(default="UTC", alias="HANDOFF_TIMEZONE")
    # When nobody is online, escalation makes a ticket (the rule); switchable for demos.
    ticket_when_nobody_online: bool = Field(default=True, alias="HANDOFF_TICKET_WHEN_NOBODY_ONLINE")
    ticket_contact: str = Field(
        default="A billing specialist will email you at the address on your account within one business day.",
        alias="HANDOFF_TICKET_CONTACT",
    )
    default_handling_seconds: int = Field(default=300, alias="HANDOFF_DEFAULT_HANDLING_SECONDS")
    abandon_grace_seconds: int = Field(default=120, alias="HANDOFF_ABANDON_GRACE_SECONDS")
    presence_timeout_seconds: int = Field(default=60, alias="HANDOFF_PRESENCE_TIMEOUT_SECONDS")
    pubsub_url: str = Field(default="memory://", alias="HANDOFF_PUBSUB_URL")
    migrate_on_start: bool = Field(default=False, alias="HANDOFF_MIGRATE_ON_START")
    # A console credit without a dispute above this needs a supervisor's approval (maker-checker, issue 17).
    credit_approval_limit: Decimal = Field(default=Decimal("50.00"), ge=0, max_digits=12, decimal_places=2,
                                           alias="HANDOFF_CREDIT_APPROVAL_LIMIT")
    # Staff sign-in throttling (counted in the database's audit log, so it holds across replicas).
    login_window_minutes: int = Field(default=15, ge=1, alias="HANDOFF_LOGIN_WINDOW_MINUTES")
    login_max_failures_per_username: int = Field(default=5, ge=1,
                                                 alias="HANDOFF_LOGIN_MAX_FAILURES_PER_USERNAME")
    login_max_failures_per_ip: int = Field(default=20, ge=1, alias="HANDOFF_LOGIN_MAX_FAILURES_PER_IP")
    # Customer chat input limits.
    chat_max_message_chars: int = Field(default=2000, ge=1, alias="HANDOFF_CHAT_MAX_MESSAGE_CHARS")
    chat_rate_limit_messages: int = Field(default=10, ge=1, alias="HANDOFF_CHAT_RATE_LIMIT_MESSAGES")
    chat_rate_limit_seconds: float = Field(default=2.0, gt=0, alias="HANDOFF_CHAT_RATE_LIMIT_SECONDS")
    # Inbound email (issue 19, handoff/email/): the webhook's signing secret (Mailgun: its signing key), the
    # reply-address secret shared with the backend, and the limits of what is stored and answered.
    email_inbound_secret: str = Field(default=DEV_DEFAULT_SECRETS["email_inbound_secret"],
                                      alias="EMAIL_INBOUND_SECRET")
    email_inbound_tolerance_seconds: int = Field(default=300, ge=1, alias="EMAIL_INBOUND_TOLERANCE_SECONDS")
    email_reply_secret: str = Field(default=DEV_DEFAULT_SECRETS["email_reply_secret"],
                                    alias="EMAIL_REPLY_SECRET")
    mail_reply_domain: str = Field(default="reply.example.test", min_length=1, alias="MAIL_REPLY_DOMAIN")
    email_inbound_max_bytes: int = Field(default=10_000_000, ge=1024, alias="EMAIL_INBOUND_MAX_BYTES")
    email_inbound_max_text_chars: int = Field(default=4000, ge=100, alias="EMAIL_INBOUND_MAX_TEXT_CHARS")
    email_rate_limit_messages: int = Field(default=5, ge=1, alias="EMAIL_RATE_LIMIT_MESSAGES")
    email_rate_limit_seconds: int = Field(default=3600, ge=1, alias="EMAIL_RATE_LIMIT_SECONDS")
    # Review and teach (trainer role): Rasa's tracker store is read, NLU files under
    # <training_repo_root>/bot/data are written (tests point this at a temporary copy).
    tracker_database_url: str = Field(default="", alias="TRACKER_DATABASE_URL")
    rasa_tracker_sqlite: str = Field(default="", alias="RASA_TRACKER_SQLITE")  # the dev stack's file
    review_threshold: float = Field(default=0.6, ge=0.0, le=1.0, alias="HANDOFF_REVIEW_THRESHOLD")
    training_repo_root: Path = Field(default=REPO_ROOT, alias="HANDOFF_TRAINING_REPO_ROOT")
    # Retrain from the trainer's page: one argv (never a shell string), run in training_repo_root; it
    # trains and evaluates (results/nlu/eval.json is then judged by scripts/nlu_gate.py's floors). JSON env.
    training_retrain_command: list[str] = Field(
        default=["make", "--no-print-directory", "retrain", "test-nlu"], min_length=1,
        alias="HANDOFF_TRAINING_RETRAIN_COMMAND")
    # The longest a queued chat of each team should wait (issue 17): "<team>=<seconds>,..."; a team left out
    # has no threshold. Past it the queue marks the chat and supervisors are told once.
    sla_seconds: str = Field(default="disputes=300,payments=300,general=600", alias="HANDOFF_SLA_SECONDS")
    # How often the housekeeping loop abandons left chats, refreshes queue waits and tells SLA breaches.
    housekeeping_seconds: float = Field(default=15.0, gt=0, le=300, alias="HANDOFF_HOUSEKEEPING_SECONDS")

    @model_validator(mode="after")
    def _apply_env_rules(self) -> Settings:
        if not self.business_hours:
            self.business_hours = "24/7" if self.is_development else "mon-fri 08:00-18:00"
        if not self.is_development:
            still_default = [
                name for name, default in DEV_DEFAULT_SECRETS.items()
                if getattr(self, name) == default or PLACEHOLDER in getattr(self, name)
            ] + [name for name in ("database_url", "pubsub_url", "tracker_database_url")
                 if PLACEHOLDER in getattr(self, name)]
            if still_default:
                raise ValueError(
                    "APP_ENV is not development but these secrets are development defaults or placeholders: "
                    + ", ".join(still_default)
                )
        # Fail early on a bad schedule or zone rather than at the first escalation.
        from zoneinfo import ZoneInfo

        from handoff.queue.hours import parse_business_hours

        parse_business_hours(self.business_hours)
        ZoneInfo(self.timezone)
        self.widget_origin_list, self.console_origin_list  # noqa: B018  (a malformed origin fails here)
        self.sla_thresholds  # noqa: B018  (a malformed HANDOFF_SLA_SECONDS fails here)
        return self

    @property
    def is_development(self) -> bool:
        return self.app_env == "development"

    @property
    def widget_origin_list(self) -> tuple[str, ...]:
        return parse_origins(self.widget_origins, "HANDOFF_WIDGET_ORIGINS")

    @property
    def console_origin_list(self) -> tuple[str, ...]:
        return parse_origins(self.console_origins, "HANDOFF_CONSOLE_ORIGINS")

    @property
    def sla_thresholds(self) -> dict[str, int]:
        from handoff.queue.teams import parse_sla

        return parse_sla(self.sla_seconds)

    @property
    def resolved_database_url(self) -> str:
        return resolve_database_url(self.database_url)

    @property
    def resolved_tracker_database_url(self) -> str:
        """TRACKER_DATABASE_URL, else the stack's RASA_TRACKER_SQLITE file, else the contract default."""
        if self.tracker_database_url:
            return self.tracker_database_url
        if self.rasa_tracker_sqlite:
            return f"sqlite:///{self.rasa_tracker_sqlite}"
        return "sqlite:///var/rasa_tracker.db"


@lru_cache
def get_settings() -> Settings:
    return Settings()
