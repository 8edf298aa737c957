"""Settings, app start-up and migrations."""
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import ValidationError
from sqlalchemy import inspect

from backend.config import REPO_ROOT, Settings, normalize_database_url
from backend.database import make_engine
from backend.migrations_api import downgrade, upgrade
from backend.models import Base


def test_refuses_default_token_outside_development():
    with pytest.raises(ValidationError, match="BACKEND_API_TOKEN is the development default"):
        Settings(APP_ENV="production")
    real = {"PAYMENTS_WEBHOOK_SECRET": "wh-s3", "PAYMENT_PAGE_SECRET": "pp-s3", "HANDOFF_API_TOKEN": "h-s3",
            "DOCUMENTS_LINK_SECRET": "dl-s3"}
    real["EMAIL_REPLY_SECRET"] = "er-s3"
    assert Settings(APP_ENV="production", BACKEND_API_TOKEN="s3cret", **real).app_env == "production"


def test_production_start_fails_with_a_clear_error():
    result = subprocess.run(
        [sys.executable, "-c", "import backend.main"], cwd=REPO_ROOT, capture_output=True, text=True,
        env={"APP_ENV": "production", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0 and "BACKEND_API_TOKEN is the development default" in result.stderr


def test_database_urls_are_resolved():
    assert (
        normalize_database_url("sqlite:///var/backend.db") == f"sqlite:///{REPO_ROOT / 'var' / 'backend.db'}"
    )
    assert normalize_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


def test_importing_the_app_connects_to_nothing():
    import backend.main

    assert backend.main.app.state.database._engine is None


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_migrations_match_models_and_downgrade(kind, request, tmp_path):
    url = (
        f"sqlite:///{tmp_path / 'migrate.db'}"
        if kind == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    engine = make_engine(url)
    try:
        if kind == "postgres":  # the suite's database may already be migrated: start from nothing
            downgrade(engine=engine)
        upgrade(engine=engine)
        with engine.connect() as connection:
            diff = compare_metadata(
                MigrationContext.configure(connection, opts={"compare_type": False}), Base.metadata
            )
        assert diff == []
        downgrade(engine=engine)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine=engine)
    finally:
        engine.dispose()
