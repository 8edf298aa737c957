"""Outside development the payment secrets are refused at start-up, like BACKEND_API_TOKEN (not at the first
webhook or payment-page request), and deploy/env/backend.env names them as CHANGE_ME placeholders."""

import subprocess
import sys

import pytest
from pydantic import ValidationError

from backend.config import DEFAULT_HANDOFF_API_TOKEN, DEFAULT_PAYMENT_PAGE_SECRET, REPO_ROOT, Settings
from tests.support.replicas import DEPLOY, read_env_file

REAL = {
    "APP_ENV": "production",
    "BACKEND_API_TOKEN": "prod-backend-token",
    "PAYMENTS_WEBHOOK_SECRET": "prod-webhook-secret",
    "PAYMENT_PAGE_SECRET": "prod-payment-page-secret",
    "HANDOFF_API_TOKEN": "prod-handoff-token",
    "EMAIL_REPLY_SECRET": "prod-email-reply-secret",
    "DOCUMENTS_LINK_SECRET": "prod-documents-link-secret",
}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PAYMENTS_WEBHOOK_SECRET", None),  # unset: the development default
        ("PAYMENTS_WEBHOOK_SECRET", "CHANGE_ME-payments-webhook-secret"),
        ("PAYMENT_PAGE_SECRET", DEFAULT_PAYMENT_PAGE_SECRET),
        ("PAYMENT_PAGE_SECRET", "CHANGE_ME-payment-page-secret"),
        ("HANDOFF_API_TOKEN", DEFAULT_HANDOFF_API_TOKEN),
    ],
)
def test_a_payment_secret_left_at_its_default_or_placeholder_is_refused(name: str, value: str | None) -> None:
    settings = {key: v for key, v in REAL.items() if key != name}
    if value is not None:
        settings[name] = value
    with pytest.raises(ValidationError, match=rf"a placeholder or unset: {name};"):
        Settings(**settings)
    assert Settings(**REAL).unsafe_payment_secrets() == []
    assert Settings(**{**settings, "APP_ENV": "development"}).app_env == "development"


def test_stripe_needs_a_real_key_outside_development() -> None:
    for key in (None, "CHANGE_ME-stripe-key"):
        extra = {} if key is None else {"STRIPE_API_KEY": key}
        with pytest.raises(ValidationError, match="placeholder or unset: STRIPE_API_KEY;"):
            Settings(**REAL, PAYMENTS_PROCESSOR="stripe", **extra)
    assert (
        Settings(**REAL, PAYMENTS_PROCESSOR="stripe", STRIPE_API_KEY="sk_live_x").payments_processor
        == "stripe"
    )
    assert Settings(**REAL).stripe_api_key is None  # the simulated processor needs no key


def test_the_backend_process_refuses_to_start_with_the_committed_payment_placeholders() -> None:
    committed = read_env_file(DEPLOY / "env" / "backend.env")
    assert (
        "CHANGE_ME" in committed["PAYMENTS_WEBHOOK_SECRET"]
        and "CHANGE_ME" in committed["PAYMENT_PAGE_SECRET"]
    )
    env = {"PATH": "/usr/bin:/bin", **REAL, **{k: v for k, v in committed.items() if "SECRET" in k}}
    result = subprocess.run(
        [sys.executable, "-c", "import backend.main"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "placeholder or unset: PAYMENTS_WEBHOOK_SECRET, PAYMENT_PAGE_SECRET;" in result.stderr
    started = subprocess.run(
        [sys.executable, "-c", "import backend.main"],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", **REAL},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 0, started.stderr
