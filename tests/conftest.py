"""Plugins and fixtures for every test session: the trust report (issue 8) from the tests marked
`trust_case`, and one real stack shared by the end-to-end tests of every folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.stack import Stack

pytest_plugins = ["tests.support.trust_report"]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The four processes on SQLite with the demo seed; started once (Rasa takes a minute to load)."""
    running = Stack(workdir=tmp_path_factory.mktemp("stack")).start()
    try:
        yield running
    finally:
        running.stop()
