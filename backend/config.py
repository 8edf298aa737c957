"""Settings of the billing backend: one pydantic-settings object, env names as in docs/contracts.md."""
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_API_TOKEN = "dev-backend-token"
DEFAULT_WEBHOOK_SECRET = "dev-payments-webhook-secret"
DEFAULT_PAYMENT_PAGE_SECRET = "dev-payment-page-secret"
DEFAULT_HANDOFF_API_TOKEN = "dev-handoff-token"  # the handoff service's own development default
DEFAULT_DOCUMENTS_LINK_SECRET = "dev-documents-link-secret"
DEFAULT_EMAIL_REPLY_SECRET = "dev-email-reply-secret"  # shared with the handoff service (reply addresses)
PLACEHOLDER = "CHANGE_ME"  # deploy/env/*.env placeholders: refused like the development default


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    app_env: str = Field(default="development", validation_alias="APP_ENV")
    backend_database_url: str = Field(
        default="sqlite:///var/backend.db", validation_alias="BACKEND_DATABASE_URL"
    )
    backend_api_token: SecretStr = Field(
        default=SecretStr(DEFAULT_API_TOKEN), validation_alias="BACKEND_API_TOKEN"
    )

    # Payments (docs/contracts.md, "Payments"): the processor and its webhooks.
    payments_processor: Literal["simulated", "stripe"] = Field(
        default="simulated", validation_alias="PAYMENTS_PROCESSOR"
    )
    payments_webhook_secret: SecretStr = Field(
        default=SecretStr(DEFAULT_WEBHOOK_SECRET), validation_alias="PAYMENTS_WEBHOOK_SECRET"
    )
    payments_webhook_tolerance_seconds: int = Field(
        default=300, ge=1, le=86_400, validation_alias="PAYMENTS_WEBHOOK_TOLERANCE_SECONDS"
    )
    payments_simulated_outage: bool = Field(default=False, validation_alias="PAYMENTS_SIMULATED_OUTAGE")
    payments_quote_minutes: int = Field(default=15, ge=1, le=1440, validation_alias="PAYMENTS_QUOTE_MINUTES")
    payments_pending_days: int = Field(default=2, ge=0, le=30, validation_alias="PAYMENTS_PENDING_DAYS")
    stripe_api_key: SecretStr | None = Field(default=None, validation_alias="STRIPE_API_KEY")
    stripe_api_base: str | None = Field(default=None, validation_alias="STRIPE_API_BASE")
    payment_page_secret: SecretStr = Field(
        default=SecretStr(DEFAULT_PAYMENT_PAGE_SECRET), validation_alias="PAYMENT_PAGE_SECRET"
    )
    payment_page_minutes: int = Field(default=15, ge=1, le=1440, validation_alias="PAYMENT_PAGE_MINUTES")
    payment_page_base_url: str = Field(
        default="http://127.0.0.1:8000", validation_alias="PAYMENT_PAGE_BASE_URL"
    )
    # The secure page tells the handoff service what it did (docs/contracts.md, "Payment page").
    handoff_url: str = Field(default="http://127.0.0.1:8080", validation_alias="HANDOFF_URL")
    handoff_api_token: SecretStr = Field(
        default=SecretStr(DEFAULT_HANDOFF_API_TOKEN), validation_alias="HANDOFF_API_TOKEN"
    )

    # Payment arrangements policy (backend/arrangements/policy.py): the numbers, never in code.
    promise_max_days_after_due: int = Field(
        default=14, ge=0, le=90, validation_alias="ARRANGEMENT_PROMISE_MAX_DAYS_AFTER_DUE"
    )
    instalment_min_past_due: Decimal = Field(
        default=Decimal("50.00"), ge=0, decimal_places=2,
        validation_alias="ARRANGEMENT_INSTALMENT_MIN_PAST_DUE",
    )
    instalment_min_count: int = Field(
        default=2, ge=2, le=12, validation_alias="ARRANGEMENT_INSTALMENT_MIN_COUNT"
    )
    instalment_max_count: int = Field(
        default=3, ge=2, le=12, validation_alias="ARRANGEMENT_INSTALMENT_MAX_COUNT"
    )
    instalment_interval_days: int = Field(
        default=30, ge=7, le=62, validation_alias="ARRANGEMENT_INSTALMENT_INTERVAL_DAYS"
    )
    broken_plan_lookback_days: int = Field(
        default=365, ge=0, validation_alias="ARRANGEMENT_BROKEN_PLAN_LOOKBACK_DAYS"
    )
    late_fee_waiver_lookback_days: int = Field(
        default=365, ge=0, validation_alias="ARRANGEMENT_WAIVER_LOOKBACK_DAYS"
    )

    # Account check (backend/account_check/, issue 18): what the bot may credit on its own, and the checks.
    account_check_max_credit: Decimal = Field(
        default=Decimal("100.00"), ge=0, decimal_places=2, validation_alias="ACCOUNT_CHECK_MAX_CREDIT"
    )
    account_check_max_credit_12_months: Decimal = Field(
        default=Decimal("150.00"), ge=0, decimal_places=2,
        validation_alias="ACCOUNT_CHECK_MAX_CREDIT_12_MONTHS",
    )
    account_check_min_confidence: float = Field(
        default=0.9, ge=0, le=1, validation_alias="ACCOUNT_CHECK_MIN_CONFIDENCE"
    )
    account_check_bill_shock_percent: Decimal = Field(
        default=Decimal(50), gt=0, validation_alias="ACCOUNT_CHECK_BILL_SHOCK_PERCENT"
    )
    account_check_lookback_days: int = Field(
        default=365, ge=1, le=3650, validation_alias="ACCOUNT_CHECK_LOOKBACK_DAYS"
    )

    # Documents (backend/documents/, issue 19): the short-lived signed download links of the PDFs.
    documents_link_secret: SecretStr = Field(
        default=SecretStr(DEFAULT_DOCUMENTS_LINK_SECRET), validation_alias="DOCUMENTS_LINK_SECRET"
    )
    documents_link_minutes: int = Field(default=15, ge=1, le=1440, validation_alias="DOCUMENTS_LINK_MINUTES")
    # Where customers' browsers reach /documents/ (public); empty: PAYMENT_PAGE_BASE_URL (the same backend).
    documents_base_url: str = Field(default="", validation_alias="DOCUMENTS_BASE_URL")

    # Outbound email (backend/mail/, issue 19; docs/contracts.md, "Email"): the SMTP relay and the send loop.
    mail_smtp_host: str = Field(default="127.0.0.1", validation_alias="MAIL_SMTP_HOST")
    mail_smtp_port: int = Field(default=1025, ge=1, le=65535, validation_alias="MAIL_SMTP_PORT")
    mail_smtp_starttls: bool = Field(default=False, validation_alias="MAIL_SMTP_STARTTLS")
    mail_smtp_user: str = Field(default="", validation_alias="MAIL_SMTP_USER")
    mail_smtp_password: SecretStr = Field(default=SecretStr(""), validation_alias="MAIL_SMTP_PASSWORD")
    mail_smtp_timeout_seconds: float = Field(
        default=10, gt=0, le=300, validation_alias="MAIL_SMTP_TIMEOUT_SECONDS"
    )
    mail_from: str = Field(default="Billing support <billing@example.test>", validation_alias="MAIL_FROM")
    mail_reply_domain: str = Field(
        default="reply.example.test", pattern=r"^[A-Za-z0-9.-]{1,200}$", validation_alias="MAIL_REPLY_DOMAIN"
    )
    email_reply_secret: SecretStr = Field(
        default=SecretStr(DEFAULT_EMAIL_REPLY_SECRET), validation_alias="EMAIL_REPLY_SECRET"
    )
    mail_preferences_base_url: str = Field(
        default="http://127.0.0.1:8000", validation_alias="MAIL_PREFERENCES_BASE_URL"
    )
    mail_retry_base_seconds: float = Field(
        default=30, gt=0, le=86_400, validation_alias="MAIL_RETRY_BASE_SECONDS"
    )
    mail_retry_max_seconds: float = Field(
        default=3600, gt=0, le=604_800, validation_alias="MAIL_RETRY_MAX_SECONDS"
    )
    mail_retry_max_attempts: int = Field(default=12, ge=1, le=100, validation_alias="MAIL_RETRY_MAX_ATTEMPTS")
    mail_sending_stale_seconds: float = Field(
        default=300, gt=0, le=86_400, validation_alias="MAIL_SENDING_STALE_SECONDS"
    )

    # Payment reminders (backend/reminders/, issue 19): sent by the billing job.
    reminder_days_before_due: int = Field(default=3, ge=1, le=30, validation_alias="REMINDER_DAYS_BEFORE_DUE")
    # Lifetime of the reminder email's signed pay link (opening it makes a fresh secure payment page).
    reminder_link_days: int = Field(default=30, ge=1, le=90, validation_alias="REMINDER_LINK_DAYS")
    # The chat, where the bot makes a payment page link on request: the pay link's fallback when none can be
    # signed, and where an expired one points.
    reminder_pay_url: str = Field(
        default="http://127.0.0.1:8080/", pattern=r"^https?://", validation_alias="REMINDER_PAY_URL"
    )

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
        secrets = (self.payments_webhook_secret, self.payment_page_secret)
        if not all(secret.get_secret_value() for secret in secrets):
            raise ValueError("PAYMENTS_WEBHOOK_SECRET and PAYMENT_PAGE_SECRET must not be empty")
        unsafe = self.unsafe_payment_secrets()
        if unsafe:
            raise ValueError(
                f"APP_ENV is {self.app_env!r} but these payment secrets are a development default, a "
                f"placeholder or unset: {', '.join(unsafe)}; set real secrets before starting the backend"
            )
        link_secret = self.documents_link_secret.get_secret_value()
        if not link_secret or (self.app_env != "development" and (
                link_secret == DEFAULT_DOCUMENTS_LINK_SECRET or PLACEHOLDER in link_secret)):
            raise ValueError(
                f"APP_ENV is {self.app_env!r} but DOCUMENTS_LINK_SECRET is empty, the development default or "
                "a placeholder; set a real secret before starting the backend"
            )
        reply_secret = self.email_reply_secret.get_secret_value()
        if not reply_secret or (self.app_env != "development" and (
                reply_secret == DEFAULT_EMAIL_REPLY_SECRET or PLACEHOLDER in reply_secret)):
            raise ValueError(
                f"APP_ENV is {self.app_env!r} but EMAIL_REPLY_SECRET is empty, the development default or a "
                "placeholder; set a real secret (the same in the backend and the handoff service)"
            )
        if self.instalment_min_count > self.instalment_max_count:
            raise ValueError("ARRANGEMENT_INSTALMENT_MIN_COUNT is more than ARRANGEMENT_INSTALMENT_MAX_COUNT")
        return self

    def unsafe_payment_secrets(self) -> list[str]:
        """Outside development: the payment secrets still at a development default, a placeholder or unset
        (the Stripe key only when Stripe is the processor). Refused at start-up, not at the first call."""
        if self.app_env == "development":
            return []
        named = [
            ("PAYMENTS_WEBHOOK_SECRET", self.payments_webhook_secret, DEFAULT_WEBHOOK_SECRET),
            ("PAYMENT_PAGE_SECRET", self.payment_page_secret, DEFAULT_PAYMENT_PAGE_SECRET),
            ("HANDOFF_API_TOKEN", self.handoff_api_token, DEFAULT_HANDOFF_API_TOKEN),
        ]
        if self.payments_processor == "stripe":
            named.append(("STRIPE_API_KEY", self.stripe_api_key or SecretStr(""), ""))
        return [name for name, secret, default in named if self.usable_secret(secret, default) is None]

    def usable_secret(self, secret: SecretStr, default: str) -> str | None:
        """A payments secret, or None outside development while it is the default or a placeholder: the
        webhook route and the secure page then refuse everything instead of trusting a known secret."""
        value = secret.get_secret_value()
        if self.app_env != "development" and (value == default or PLACEHOLDER in value):
            return None
        return value

    @property
    def documents_public_url(self) -> str:
        return (self.documents_base_url or self.payment_page_base_url).rstrip("/")

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
