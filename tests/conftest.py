"""Plugins and fixtures for every test session: the trust report (issue 8) from the tests marked
`trust_case`, one real stack shared by the end-to-end tests of every folder, and how pytest-xdist's workers
share the tests out (`make test` runs two)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.stack import Stack

pytest_plugins = ["tests.support.trust_report"]


# The files whose tests took longest in a two-worker run (session 10's --durations): handed out first, so
# the other worker fills in around them instead of one worker finishing minutes after the other.
LONGEST_FIRST = (
    "tests/trainer/test_train_and_ship.py",
    "tests/replicas/test_multi_replica.py",
    "tests/faults/test_faults.py",
    "tests/handoff/test_handoff_schemathesis.py",
    "tests/handoff/test_turn_claims.py",
    "tests/e2e/test_browser_account_check.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`make test`: `-n 2 --dist loadfile --no-loadscope-reorder`) a worker takes whole
    files, in this order: the longest files above, then every file with a slow test, then the rest."""
    if not hasattr(config, "workerinput"):  # not an xdist worker: the files' own order
        return

    def file_of(item: pytest.Item) -> str:
        return item.nodeid.split("::")[0]

    slow = {file_of(item) for item in items if item.get_closest_marker("slow")}

    def order(item: pytest.Item) -> tuple[int, int]:
        path = file_of(item)
        if path in LONGEST_FIRST:
            return 0, LONGEST_FIRST.index(path)
        return (1 if path in slow else 2), 0

    items.sort(key=order)  # stable: a file's tests keep their order


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The four processes on SQLite with the demo seed; started once (Rasa takes a minute to load)."""
    running = Stack(workdir=tmp_path_factory.mktemp("stack")).start()
    try:
        yield running
    finally:
        running.stop()
