"""End-to-end tests: logs on failure, the browser; the shared `stack` is in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.browser import chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture(autouse=True)
def _logs_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed and "stack" in request.fixturenames:
        request.getfixturevalue("stack").dump_logs()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
@pytest.fixture
def browser() -> Iterator[Browser]:
    """One per test: sync Playwright runs an event loop of its own while open, which would stop the
    async tests that share the session from starting theirs."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
